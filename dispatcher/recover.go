package dispatcher

import (
	"context"
	"fmt"
	"time"

	"github.com/jqlgate/jqlgate"
)

// recoverySlack widens the recovery read below the watermark, against
// small clock steps between processes or restarts.
const recoverySlack = 2 * time.Second

// recoverNode rebuilds node's pending deliveries from the store: the events
// accepted since its watermark, less the deliveries whose latest attempt is
// terminal. Resent deliveries resume at their next attempt time; those
// never attempted (or whose attempt was cut off by a crash) go out now,
// with the same webhook-id.
func (d *Dispatcher) recoverNode(ctx context.Context, node string) (int, error) {
	wm, err := d.cfg.Store.Watermark(ctx, node)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	since := time.Time{}
	if !wm.IsZero() {
		since = wm.Add(-recoverySlack)
	}
	fans, err := d.cfg.Store.EventsSince(ctx, node, since)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	attempts, err := d.cfg.Store.AttemptsSince(ctx, node, since)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	latest := latestAttempts(attempts)
	total := 0
	for _, f := range fans {
		total += d.resume(f, latest)
	}
	return total, nil
}

// latestAttempts indexes attempts by delivery, keeping the latest of each.
func latestAttempts(attempts []*jqlgate.Attempt) map[string]*jqlgate.Attempt {
	latest := make(map[string]*jqlgate.Attempt, len(attempts))
	for _, a := range attempts {
		prev := latest[a.DeliveryID]
		if prev == nil || a.Attempt > prev.Attempt ||
			a.Attempt == prev.Attempt && a.CreatedAt.After(prev.CreatedAt) {
			latest[a.DeliveryID] = a
		}
	}
	return latest
}

// resume queues f's unfinished deliveries and returns how many there were.
func (d *Dispatcher) resume(f *jqlgate.Fanout, latest map[string]*jqlgate.Attempt) int {
	if d.track.known(f.Event.ID) {
		return 0 // published by this process since it started
	}
	var dels []*delivery
	for _, sub := range f.Targets {
		dl := d.newDelivery(f, sub)
		dl.due = d.cfg.Now()
		if a := latest[dl.id]; a != nil {
			if a.Status == jqlgate.StatusDone || a.Status == jqlgate.StatusFailed {
				continue
			}
			if a.Status == jqlgate.StatusResent {
				dl.attempt, dl.due = a.Attempt+1, a.NextAttemptAt
			}
		}
		dels = append(dels, dl)
	}
	if len(dels) == 0 {
		return 0
	}
	d.track.add(f, len(dels))
	for _, dl := range dels {
		d.q.push(dl)
	}
	return len(dels)
}
