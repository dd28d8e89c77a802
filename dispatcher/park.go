package dispatcher

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Deliveries of a disabled subscription are parked rather than failed:
// they leave the queue and wait in memory, by subscription, until it is
// enabled again (they are then queued, each at its own due time, so the
// overdue ones go at once) or removed (they are then recorded Failed,
// "subscription removed"). A disabled subscription in another process is
// seen through the subscription version poll, which parks and unparks the
// same way.
//
// Parked deliveries keep their tracker hold, so they hold this node's
// watermark (or retry floor) back, and with it the retention sweeper,
// which never deletes an event at or after the oldest watermark. Nothing
// about parking is written to the store: after a restart (or a takeover)
// recovery reads them like any unfinished delivery, finds the
// subscription still disabled and parks them again at once, so recovery
// never fails them; retries the loader brings back from the store are
// parked when they fall due. The cost is that recovery reads the store
// from the oldest parked delivery on, however long ago it was accepted.
//
// Events accepted while a subscription is disabled do not go to it at all.

// retryLookup is how long a delivery waits when the store could not say
// whether its subscription still exists.
const retryLookup = 5 * time.Second

// parkOrCancel handles a delivery popped for a subscription that is not in
// the index: parked (with the rest of the subscription's queue) if the
// subscription still exists, Failed if it was removed.
func (d *Dispatcher) parkOrCancel(ctx context.Context, dl *delivery) {
	_, err := d.cfg.Source.Get(ctx, dl.subID)
	switch {
	case jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND:
		d.cancelSubscription(ctx, dl.subID)
		d.finish(ctx, dl, &jqlgate.Attempt{Status: jqlgate.StatusFailed, Error: "subscription removed"})
	case err != nil:
		d.log.Warn("look up subscription", "subscription", dl.subID, "error", err.Error())
		dl.due = d.cfg.Now().Add(retryLookup)
		d.q.push(dl)
	default:
		d.park(dl.subID, append(d.q.removeSub(dl.subID), dl))
	}
}

// park holds dels of subID until it is enabled again; when it already is
// (a concurrent enable won the race), they are queued instead.
func (d *Dispatcher) park(subID string, dels []*delivery) {
	if len(dels) == 0 {
		return
	}
	d.parkMu.Lock()
	if d.idx.get(subID) == nil {
		for _, dl := range dels {
			dl.scheduled = false
		}
		d.parked[subID] = append(d.parked[subID], dels...)
		d.parkMu.Unlock()
		return
	}
	d.parkMu.Unlock()
	d.requeue(subID, dels)
}

// unpark queues subID's parked deliveries; call it after the subscription
// entered the index.
func (d *Dispatcher) unpark(subID string) {
	d.parkMu.Lock()
	dels := d.parked[subID]
	delete(d.parked, subID)
	d.parkMu.Unlock()
	d.requeue(subID, dels)
}

// requeue queues dels of subID due now (a retry waiting for its next
// attempt goes at once: the receiver was presumably fixed) in sequence
// order, ordered as the subscription now is.
func (d *Dispatcher) requeue(subID string, dels []*delivery) {
	if len(dels) == 0 {
		return
	}
	ordered := false
	if t := d.idx.get(subID); t != nil {
		ordered = t.sub.Ordered
	}
	now := d.cfg.Now()
	for _, dl := range dels {
		dl.ordered, dl.scheduled, dl.durable = ordered, false, false
		if dl.due.After(now) {
			dl.due = now
		}
	}
	d.pushSorted(dels)
}

// queueOrPark queues recovered or adopted deliveries, parking those of
// subscriptions that are disabled and failing those of removed ones.
func (d *Dispatcher) queueOrPark(ctx context.Context, dels []*delivery) {
	var queued []*delivery
	orphans := map[string][]*delivery{}
	for _, dl := range dels {
		if d.idx.get(dl.subID) != nil {
			queued = append(queued, dl)
		} else {
			orphans[dl.subID] = append(orphans[dl.subID], dl)
		}
	}
	for subID, group := range orphans {
		_, err := d.cfg.Source.Get(ctx, subID)
		switch {
		case jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND:
			for _, dl := range group {
				d.finish(ctx, dl, &jqlgate.Attempt{Status: jqlgate.StatusFailed, Error: "subscription removed"})
			}
		case err != nil:
			queued = append(queued, group...) // looked at again when due
		default:
			d.park(subID, group)
		}
	}
	d.pushSorted(queued)
}

// unparkAll queues every parked delivery whose subscription is in the
// index again.
func (d *Dispatcher) unparkAll() {
	for _, id := range d.parkedSubs() {
		if d.idx.get(id) != nil {
			d.unpark(id)
		}
	}
}

// parkedSubs returns the subscriptions with parked deliveries.
func (d *Dispatcher) parkedSubs() []string {
	d.parkMu.Lock()
	defer d.parkMu.Unlock()
	ids := make([]string, 0, len(d.parked))
	for id := range d.parked {
		ids = append(ids, id)
	}
	return ids
}

// takeParked removes and returns subID's parked deliveries.
func (d *Dispatcher) takeParked(subID string) []*delivery {
	d.parkMu.Lock()
	defer d.parkMu.Unlock()
	dels := d.parked[subID]
	delete(d.parked, subID)
	return dels
}

// Parked returns how many deliveries wait for their subscription to be
// enabled again.
func (d *Dispatcher) Parked() int {
	d.parkMu.Lock()
	defer d.parkMu.Unlock()
	n := 0
	for _, dels := range d.parked {
		n += len(dels)
	}
	return n
}
