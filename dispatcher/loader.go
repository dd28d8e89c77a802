package dispatcher

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Retries due far ahead (hours, for the default schedule) are not kept in
// memory: when a Resent attempt's next attempt is at or beyond the
// frontier (about RetryHorizon from now) the delivery leaves memory once
// its record is durable, and the record's next_attempt_at is all that
// remains. Every LoadEvery the loader moves the frontier forward and loads
// the Resent attempts due in the range it passed over, with their events.
// Those deliveries do not hold the watermark back (which would make
// recovery read everything since the oldest retry); they hold the retry
// floor instead, which recovery reads Resent attempts from.

// loadLoop loads retries as they come due until the dispatcher stops.
func (d *Dispatcher) loadLoop() {
	ticker := time.NewTicker(d.cfg.LoadEvery)
	defer ticker.Stop()
	for {
		select {
		case <-d.stopCh:
			return
		case <-ticker.C:
		}
		d.loadDue()
	}
}

// loadDue advances the frontier and loads the retries due in the range it
// passed over, trying again (with backoff) until the store answers, since
// that range is never read again.
func (d *Dispatcher) loadDue() {
	d.frontierMu.Lock()
	from, to := d.frontier, d.cfg.Now().Add(d.cfg.RetryHorizon).UTC()
	if !to.After(from) {
		d.frontierMu.Unlock()
		return
	}
	d.frontier = to
	d.frontierMu.Unlock()
	wait := recordBackoffMin
	for {
		ctx, cancel := context.WithTimeout(d.baseCtx, time.Minute)
		n, err := d.loadRetries(ctx, d.cfg.Node, from, to)
		cancel()
		if err == nil {
			if n > 0 {
				d.log.Debug("loaded retries", "count", n)
			}
			return
		}
		d.log.Warn("load due retries; retrying", "error", err.Error())
		select {
		case <-d.stopCh:
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, recordBackoffMax)
	}
}

// loadRetries queues node's deliveries whose Resent attempt is due in
// [from, to) and that this process does not hold yet.
func (d *Dispatcher) loadRetries(ctx context.Context, node string, from, to time.Time) (int, error) {
	due, err := d.cfg.Store.DueRetries(ctx, node, from, to)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	latest, err := d.unsuperseded(ctx, latestAttempts(due))
	if err != nil || len(latest) == 0 {
		return 0, err
	}
	fans, err := d.fansOf(ctx, latest)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range latest {
		if f := fans[a.EventID]; f != nil && d.resumeRetry(f, a) {
			n++
		}
	}
	d.metrics.loaded.Add(float64(n))
	return n, nil
}

// unsuperseded drops from due (Resent attempts, by delivery) those that a
// later attempt of the same delivery superseded, as when an operator
// brought the retry forward.
func (d *Dispatcher) unsuperseded(ctx context.Context, due map[string]*jqlgate.Attempt) (map[string]*jqlgate.Attempt, error) {
	ids := make([]string, 0, len(due))
	for id := range due {
		ids = append(ids, id)
	}
	newest, err := d.cfg.Store.LatestAttempts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range newest {
		if p := due[a.DeliveryID]; p != nil && a.Attempt > p.Attempt {
			delete(due, a.DeliveryID)
		}
	}
	return due, nil
}

// fansOf reads the events of the given attempts.
func (d *Dispatcher) fansOf(ctx context.Context, attempts map[string]*jqlgate.Attempt) (map[string]*jqlgate.Fanout, error) {
	ids := make([]string, 0, len(attempts))
	seen := map[string]bool{}
	for _, a := range attempts {
		if !seen[a.EventID] {
			seen[a.EventID] = true
			ids = append(ids, a.EventID)
		}
	}
	fans, err := d.cfg.Store.EventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*jqlgate.Fanout, len(fans))
	for _, f := range fans {
		out[f.Event.ID] = f
	}
	return out, nil
}

// resumeRetry queues the delivery after Resent attempt a; false if this
// process already holds it.
func (d *Dispatcher) resumeRetry(f *jqlgate.Fanout, a *jqlgate.Attempt) bool {
	dl := d.retryDelivery(f, a)
	if dl != nil {
		d.q.push(dl)
	}
	return dl != nil
}

// retryDelivery returns the delivery after Resent attempt a, held by its
// next attempt time; nil if this process already holds it.
func (d *Dispatcher) retryDelivery(f *jqlgate.Fanout, a *jqlgate.Attempt) *delivery {
	dl := d.newDelivery(f, a.SubscriptionID)
	dl.attempt, dl.due, dl.hold = a.Attempt+1, a.NextAttemptAt, holdLoaded
	if !d.track.holdLoaded(dl.id, a.NextAttemptAt) {
		return nil
	}
	return dl
}
