package dispatcher

import (
	"container/heap"
	"context"
	"net/http"
	"time"

	"github.com/jqlgate/jqlgate"
)

// TestHeader marks the requests SendNow makes, so receivers can tell test
// events from real ones.
const TestHeader = "X-Webhook-Test"

// Resend queues a new attempt, due now, at the delivery of f's event to
// subID (a manual retry or replay). last is the number of the latest
// recorded attempt (0 if none): the new one continues the count, under the
// same webhook-id, and is recorded like any other. A delivery already
// queued in this process is made due now instead of queued twice.
//
// The event is tracked again until the attempt finishes, which holds this
// node's watermark back to its acceptance: a crash before then resumes it
// like any unfinished delivery.
func (d *Dispatcher) Resend(ctx context.Context, f *jqlgate.Fanout, subID string, last int) error {
	d.gate.RLock()
	defer d.gate.RUnlock()
	if d.closed {
		return errClosed
	}
	if err := d.ensureIndex(ctx); err != nil {
		return err
	}
	id := DeliveryID(f.Event.ID, subID)
	if d.q.expedite(id, d.cfg.Now()) {
		return nil
	}
	dl := d.newDelivery(f, subID)
	dl.attempt, dl.due = last+1, d.cfg.Now()
	d.track.add(f, 1)
	d.q.push(dl)
	return nil
}

// ResendStored brings forward a retry left in the store: the delivery of
// f's event to subID whose latest attempt, last, is Resent with its next
// attempt due beyond the frontier (so no process holds it in memory). It
// queues the next attempt, due now, under the same webhook-id; the stale
// Resent record is then superseded, and the loader and recovery skip it.
// It reports false, queueing nothing, when the delivery may be held in
// memory (due within the horizon, in an ordered line, or already held
// here): Expedite is the way to bring those forward.
//
// Until the attempt is recorded, the delivery holds the retry floor at
// now, so a crash before then leaves recovery to find the Resent record
// and send it at its original time.
func (d *Dispatcher) ResendStored(ctx context.Context, f *jqlgate.Fanout, subID string, last *jqlgate.Attempt) (bool, error) {
	d.gate.RLock()
	defer d.gate.RUnlock()
	if d.closed {
		return false, errClosed
	}
	if err := d.ensureIndex(ctx); err != nil {
		return false, err
	}
	if t := d.idx.get(subID); t != nil && t.sub.Ordered {
		return false, nil
	}
	d.frontierMu.RLock()
	defer d.frontierMu.RUnlock()
	now := d.cfg.Now()
	if d.frontier.IsZero() || last.NextAttemptAt.Before(d.frontier) {
		return false, nil
	}
	dl := d.newDelivery(f, subID)
	dl.attempt, dl.due, dl.hold = last.Attempt+1, now, holdLoaded
	if !d.track.holdLoaded(dl.id, now) {
		return false, nil
	}
	d.q.push(dl)
	return true, nil
}

// Expedite makes a delivery waiting in this process's queue due now. It
// reports false when the delivery is not queued here: in flight, finished,
// or pending in another process.
func (d *Dispatcher) Expedite(deliveryID string) bool {
	return d.q.expedite(deliveryID, d.cfg.Now())
}

// MaxTestBody bounds the receiver's answer kept from a test send: enough
// to see what the receiver said, too little to read documents through it.
const MaxTestBody = 4 << 10

// SendNow makes one attempt at delivering ev to sub at once, outside the
// queue and with no retry, through the same guarded client, signing and
// timeout as real deliveries, with the TestHeader set. It returns the
// attempt, Done on a 2xx answer and Failed otherwise, without recording
// it; the answer's body is cut to MaxTestBody.
func (d *Dispatcher) SendNow(ctx context.Context, sub *jqlgate.Subscription, ev *jqlgate.Event) *jqlgate.Attempt {
	marked := *sub
	marked.Headers = map[string]string{TestHeader: "true"}
	for k, v := range sub.Headers {
		marked.Headers[k] = v
	}
	f := &jqlgate.Fanout{Event: ev, Targets: []string{sub.ID}, Accepted: d.cfg.Now().UTC()}
	dl := &delivery{id: DeliveryID(ev.ID, sub.ID), fan: f, subID: sub.ID, attempt: 1, heapIdx: -1}
	a, _, _ := d.send(ctx, d.newTarget(&marked, nil), dl)
	if len(a.ResponseBody) > MaxTestBody {
		a.ResponseBody = a.ResponseBody[:MaxTestBody]
	}
	a.DeliveryID, a.EventID, a.Event, a.SubscriptionID, a.Attempt = dl.id, ev.ID, ev.Type, sub.ID, 1
	code := a.ResponseCode
	switch {
	case a.Error == "" && code >= 200 && code < 300:
		a.Status = jqlgate.StatusDone
	case a.Error == "":
		a.Status, a.Error = jqlgate.StatusFailed, "receiver answered "+http.StatusText(code)
	default:
		a.Status = jqlgate.StatusFailed
	}
	return a
}

// expedite makes the queued delivery id due at now; false if it is not
// queued.
func (q *queue) expedite(id string, now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range q.ready {
		if d.id == id {
			return true
		}
	}
	for _, s := range q.slots {
		for _, d := range s.waiting {
			if d.id == id {
				return true
			}
		}
	}
	for _, d := range q.timed {
		if d.id == id {
			d.due = now
			heap.Fix(&q.timed, d.heapIdx)
			select {
			case q.wake <- struct{}{}:
			default:
			}
			return true
		}
	}
	return false
}
