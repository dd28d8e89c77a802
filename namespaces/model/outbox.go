package model

import (
	"context"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// TxStore is a Store that writes a record and the events it emits in one
// transaction (a transactional outbox, see jqlgate.Outbox), so a crash can
// never leave a record change without its event or an event without its
// change (sqlite.RecordStore).
type TxStore interface {
	InsertWithEvents(ctx context.Context, coll string, rec map[string]any, out *jqlgate.Outbox) error
	UpdateWithEvents(ctx context.Context, coll, id string, set map[string]any, out *jqlgate.Outbox) (map[string]any, error)
	DeleteWithEvents(ctx context.Context, coll, id string, out *jqlgate.Outbox) (map[string]any, error)
}

// Outboxer gives one record write its outbox (dispatcher.Dispatcher).
type Outboxer interface {
	Outbox(ctx context.Context, events func(before, after map[string]any) []*jqlgate.Event) (*jqlgate.Outbox, error)
}

// outbox returns the store's transactional side and the outbox of a write
// of action, or ok false when the write goes the other way: the store or
// the publisher cannot share a transaction, or the model emits no event for
// action (then there is nothing to keep together).
func (h *Handler) outbox(ctx context.Context, action string, set map[string]any) (TxStore, *jqlgate.Outbox, bool, error) {
	tx, ok := h.deps.Store.(TxStore)
	pub, pok := h.deps.Publisher.(Outboxer)
	if !ok || !pok || !h.model.Emits(action) {
		return nil, nil, false, nil
	}
	out, err := pub.Outbox(ctx, func(before, after map[string]any) []*jqlgate.Event {
		switch action {
		case schemas.ActionCreate:
			return []*jqlgate.Event{h.event(action, after, nil)}
		case schemas.ActionUpdate:
			return []*jqlgate.Event{h.event(action, after, changed(before, after, set))}
		}
		return []*jqlgate.Event{h.event(action, before, nil)}
	})
	if err != nil {
		return nil, nil, false, err
	}
	return tx, out, true, nil
}
