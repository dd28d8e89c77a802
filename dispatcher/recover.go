package dispatcher

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jqlgate/jqlgate"
)

// recoverySlack widens the recovery reads below the checkpoint, against
// small clock steps between processes or restarts.
const recoverySlack = 2 * time.Second

// recoverNode rebuilds node's pending deliveries from the store and
// returns how many it queued. It reads
//
//   - the events accepted since the watermark, and the attempts made since
//     then, which tell which of their deliveries finished;
//   - the Resent attempts due from the retry floor on (deliveries kept only
//     in the store), checked against their deliveries' latest attempts.
//
// Deliveries never attempted (or whose attempt was cut off by a crash) go
// out now, with the same webhook-id; Resent ones at their next attempt
// time, those due beyond the frontier left to the loader.
func (d *Dispatcher) recoverNode(ctx context.Context, node string) (int, error) {
	wm, floor, err := d.cfg.Store.LoadCheckpoint(ctx, node)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	since := slackBefore(wm)
	fans, err := d.cfg.Store.EventsSince(ctx, node, since)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	attempts, err := d.cfg.Store.AttemptsSince(ctx, node, since)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	latest := latestAttempts(attempts)
	if err := d.addStoredRetries(ctx, node, slackBefore(floor), latest); err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	dels := d.resumeFresh(fans, latest)
	more, err := d.resumeResent(ctx, fans, latest)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	// In sequence order, so ordered lines start at their earliest event.
	dels = append(dels, more...)
	slices.SortFunc(dels, cmpDelivery)
	for _, dl := range dels {
		d.q.push(dl)
	}
	return len(dels), nil
}

func slackBefore(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(-recoverySlack)
}

// addStoredRetries adds to latest the latest attempts of the deliveries
// with a Resent attempt due from floor on.
func (d *Dispatcher) addStoredRetries(ctx context.Context, node string, floor time.Time, latest map[string]*jqlgate.Attempt) error {
	due, err := d.cfg.Store.DueRetries(ctx, node, floor, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(due) == 0 {
		return err
	}
	ids := make([]string, 0, len(due))
	for _, a := range due {
		ids = append(ids, a.DeliveryID)
	}
	newest, err := d.cfg.Store.LatestAttempts(ctx, ids)
	if err != nil {
		return err
	}
	for _, a := range newest {
		if p := latest[a.DeliveryID]; p == nil || a.Attempt > p.Attempt {
			latest[a.DeliveryID] = a
		}
	}
	return nil
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

// resumeFresh holds and returns the deliveries of fans that were never
// attempted.
func (d *Dispatcher) resumeFresh(fans []*jqlgate.Fanout, latest map[string]*jqlgate.Attempt) []*delivery {
	var out []*delivery
	for _, f := range fans {
		if d.track.known(f.Event.ID) {
			continue // published by this process since it started
		}
		var dels []*delivery
		for _, sub := range f.Targets {
			if dl := d.newDelivery(f, sub); latest[dl.id] == nil {
				dl.due = d.cfg.Now()
				dels = append(dels, dl)
			}
		}
		if len(dels) == 0 {
			continue
		}
		d.track.add(f, len(dels))
		out = append(out, dels...)
	}
	return out
}

// resumeResent holds and returns the deliveries whose latest attempt is
// Resent and due before the frontier (or in an ordered line, whose head
// must be in memory), reading the events not among fans.
func (d *Dispatcher) resumeResent(ctx context.Context, fans []*jqlgate.Fanout, latest map[string]*jqlgate.Attempt) ([]*delivery, error) {
	byID := make(map[string]*jqlgate.Fanout, len(fans))
	for _, f := range fans {
		byID[f.Event.ID] = f
	}
	missing := map[string]*jqlgate.Attempt{}
	for id, a := range latest {
		if a.Status == jqlgate.StatusResent && byID[a.EventID] == nil {
			missing[id] = a
		}
	}
	if len(missing) > 0 {
		more, err := d.fansOf(ctx, missing)
		if err != nil {
			return nil, err
		}
		maps.Copy(byID, more)
	}
	var out []*delivery
	for _, a := range latest {
		f := byID[a.EventID]
		if a.Status != jqlgate.StatusResent || f == nil || !d.resumable(a) {
			continue
		}
		if dl := d.retryDelivery(f, a); dl != nil {
			out = append(out, dl)
		}
	}
	return out, nil
}

// resumable reports whether recovery should queue the delivery after
// Resent attempt a now rather than leave it to the loader.
func (d *Dispatcher) resumable(a *jqlgate.Attempt) bool {
	if t := d.idx.get(a.SubscriptionID); t != nil && t.sub.Ordered {
		return true
	}
	return d.frontier.IsZero() || a.NextAttemptAt.Before(d.frontier)
}
