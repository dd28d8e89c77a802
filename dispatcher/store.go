package dispatcher

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Store keeps the dispatcher's durable state, insert-only on the hot path
// (mongodb.DeliveryStore implements it).
type Store interface {
	// InsertEvents makes accepted events durable; concurrent callers
	// share one batched insert.
	InsertEvents(ctx context.Context, fans []*jqlgate.Fanout) error
	// InsertAttempts makes attempt records durable, batched likewise.
	InsertAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error
	// Heartbeat records node's liveness and watermark.
	Heartbeat(ctx context.Context, node string, watermark time.Time) error
	// Watermark returns node's last watermark (zero if none).
	Watermark(ctx context.Context, node string) (time.Time, error)
	// EventsSince returns node's events accepted at or after since.
	EventsSince(ctx context.Context, node string, since time.Time) ([]*jqlgate.Fanout, error)
	// AttemptsSince returns attempts at node's events made at or after
	// since.
	AttemptsSince(ctx context.Context, node string, since time.Time) ([]*jqlgate.Attempt, error)
	// NodeState returns node's checkpoint, nil if it has none.
	NodeState(ctx context.Context, node string) (*jqlgate.NodeState, error)
	// NodeStates returns every node's checkpoint.
	NodeStates(ctx context.Context) ([]jqlgate.NodeState, error)
	// ClaimNode makes owner the owner of node if its epoch (and, unless
	// zero, its heartbeat) are still as read; reset moves its watermark
	// and floor to now. It reports whether the claim won.
	ClaimNode(ctx context.Context, node, owner string, epoch int64, heartbeat time.Time, reset bool) (bool, error)
	// CheckpointEpoch records node's liveness, watermark and retry floor
	// if it is still at epoch; ECONFLICT once another process claimed it.
	CheckpointEpoch(ctx context.Context, node string, epoch int64, watermark, floor time.Time) error
	// DueRetries returns node's Resent attempts whose next attempt falls
	// in [from, to).
	DueRetries(ctx context.Context, node string, from, to time.Time) ([]*jqlgate.Attempt, error)
	// LatestAttempts returns the latest attempt at each of the deliveries
	// that has one.
	LatestAttempts(ctx context.Context, deliveryIDs []string) ([]*jqlgate.Attempt, error)
	// EventsByID returns the stored events among ids.
	EventsByID(ctx context.Context, ids []string) ([]*jqlgate.Fanout, error)
}

// Source lists webhook subscriptions, with secrets decrypted (the
// subscription store implements it).
type Source interface {
	// ListEnabled returns every enabled subscription of every owner.
	ListEnabled(ctx context.Context) ([]*jqlgate.Subscription, error)
	// Get returns one subscription, enabled or not; ENOTFOUND if gone.
	Get(ctx context.Context, id string) (*jqlgate.Subscription, error)
	// Version is a counter that changes whenever any subscription does.
	Version(ctx context.Context) (int64, error)
}

// SubscriptionCounter counts every owner's subscriptions by state, for the
// jqlgate_webhook_subscriptions gauge (the subscription store implements
// it).
type SubscriptionCounter interface {
	CountByState(ctx context.Context) (enabled, disabled int, err error)
}

// Disabler turns a subscription off, as after a receiver answers 410 Gone.
type Disabler interface {
	Disable(ctx context.Context, id, reason string) error
}

// DisablerFunc adapts a function to Disabler.
type DisablerFunc func(ctx context.Context, id, reason string) error

// Disable calls f.
func (f DisablerFunc) Disable(ctx context.Context, id, reason string) error {
	return f(ctx, id, reason)
}
