package dispatcher

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Backoff of a record write while the store is unreachable.
const (
	recordBackoffMin = 100 * time.Millisecond
	recordBackoffMax = 10 * time.Second
)

// finish records attempt a at dl durably, then reschedules dl (Resent
// within the horizon), lets it go (Resent beyond the horizon: the loader
// brings it back from the store when it falls due) or marks it finished.
//
// The decision to let a delivery go is taken under frontierMu, held shared
// until its record is durable: the loader advances the frontier under the
// exclusive lock, so every record of a delivery let go below the new
// frontier is in the store before the loader reads that range.
func (d *Dispatcher) finish(ctx context.Context, dl *delivery, a *jqlgate.Attempt) {
	a.DeliveryID, a.EventID, a.Event, a.EntityID = dl.id, dl.fan.Event.ID, dl.fan.Event.Type, dl.fan.Event.EntityID
	a.SubscriptionID, a.Attempt, a.Node = dl.subID, dl.attempt, d.cfg.Node
	if a.CreatedAt.IsZero() {
		a.CreatedAt = d.cfg.Now().UTC()
	}
	resent := a.Status == jqlgate.StatusResent
	keep := resent
	if resent {
		d.frontierMu.RLock()
		keep = !d.evictable(dl, a.NextAttemptAt)
		if keep {
			// Held before the record exists, so the loader never loads
			// a delivery that is still in memory.
			d.track.holdRetry(dl.id, a.CreatedAt)
		}
	}
	ok := d.record(ctx, a)
	if resent {
		d.frontierMu.RUnlock()
	}
	if !ok {
		return // abandoned at shutdown; recovery sends the attempt again
	}
	d.metrics.observe(a, dl.fan.Accepted, d.cfg.Now())
	d.track.unhold(dl, keep)
	switch {
	case keep:
		dl.hold, dl.attempt, dl.due = holdRetry, dl.attempt+1, a.NextAttemptAt
		d.q.push(dl)
	case resent:
		dl.hold = holdNone
		d.metrics.parked.Inc()
	default:
		dl.hold = holdNone
		d.q.advance(dl)
	}
}

// evictable reports whether a delivery whose next attempt is at next may
// leave memory: it is due beyond the frontier and not in an ordered line
// (whose head must stay to hold the line).
func (d *Dispatcher) evictable(dl *delivery, next time.Time) bool {
	return d.cfg.RetryHorizon > 0 && !dl.ordered && !d.frontier.IsZero() && !next.Before(d.frontier)
}

// record writes a until the store takes it, backing off while it is
// unreachable: the attempt's outcome stays buffered here rather than being
// lost. It gives up (false) only when Close's grace period ends. A
// conflict means an earlier try whose answer was lost did write it.
func (d *Dispatcher) record(ctx context.Context, a *jqlgate.Attempt) bool {
	wait := recordBackoffMin
	for {
		err := d.cfg.Store.InsertAttempts(ctx, []*jqlgate.Attempt{a})
		if err == nil || jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
			return true
		}
		if wait == recordBackoffMin {
			d.log.Warn("record attempt; retrying", "delivery", a.DeliveryID, "error", err.Error())
		}
		timer := time.NewTimer(wait)
		select {
		case <-d.abandon:
			timer.Stop()
			return false
		case <-timer.C:
		}
		wait = min(wait*2, recordBackoffMax)
	}
}
