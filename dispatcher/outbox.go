package dispatcher

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// Outbox returns the outbox of one record write, for a store that writes
// the record and its events in one transaction (see jqlgate.Outbox):
// events builds the write's events; Fan, called inside the store's
// transaction, stages them as Publish does; Done schedules their
// deliveries once the transaction committed, or forgets them. The
// dispatcher does not close until Done has been called.
func (d *Dispatcher) Outbox(ctx context.Context, events func(before, after map[string]any) []*jqlgate.Event) (*jqlgate.Outbox, error) {
	d.gate.RLock()
	if d.closed {
		d.gate.RUnlock()
		return nil, errClosed
	}
	if err := d.ensureIndex(ctx); err != nil {
		d.gate.RUnlock()
		return nil, err
	}
	var staged []*jqlgate.Fanout
	var dels []*delivery
	out := &jqlgate.Outbox{Events: events}
	out.Fan = func(evs []*jqlgate.Event) []*jqlgate.Fanout {
		// A store may run its transaction again; the events were staged
		// the first time.
		if staged == nil {
			staged, dels = d.stage(evs, nil)
		}
		return staged
	}
	out.Done = func(fans []*jqlgate.Fanout, err error) {
		defer d.gate.RUnlock()
		if fans != nil {
			d.settle(fans, dels, err)
		}
	}
	return out, nil
}
