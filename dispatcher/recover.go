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
	began := time.Now()
	d.log.Info("recovering deliveries", "node", node)
	st, err := d.readState(ctx, node)
	if err != nil {
		return 0, fmt.Errorf("recover %s: %w", node, err)
	}
	dels := d.resumeFresh(st.fans, st.latest)
	dels = append(dels, d.resumeResent(st)...)
	d.queueOrPark(ctx, dels)
	d.log.Info("recovered deliveries", "node", node, "events_read", len(st.fans), "deliveries_read", len(st.latest),
		"unfinished", len(dels), "took", time.Since(began).String())
	return len(dels), nil
}

// pushSorted queues dels in sequence order, so ordered lines start at
// their earliest event.
func (d *Dispatcher) pushSorted(dels []*delivery) {
	slices.SortFunc(dels, cmpDelivery)
	for _, dl := range dels {
		d.q.push(dl)
	}
}

// nodeState is what recovery reads of a node: its events since the
// watermark, the latest attempt of each delivery it knows of, and the
// events of those attempts.
type nodeState struct {
	fans   []*jqlgate.Fanout
	latest map[string]*jqlgate.Attempt
	byID   map[string]*jqlgate.Fanout
}

// readState reads node's unfinished work from the store (see recoverNode).
func (d *Dispatcher) readState(ctx context.Context, node string) (*nodeState, error) {
	var wm, floor time.Time
	cp, err := d.cfg.Store.NodeState(ctx, node)
	if err != nil {
		return nil, err
	}
	if cp != nil {
		wm, floor = cp.Watermark, cp.Floor
	}
	since := slackBefore(wm)
	st := &nodeState{}
	if st.fans, err = d.cfg.Store.EventsSince(ctx, node, since); err != nil {
		return nil, err
	}
	attempts, err := d.cfg.Store.AttemptsSince(ctx, node, since)
	if err != nil {
		return nil, err
	}
	st.latest = latestAttempts(attempts)
	if err := d.addStoredRetries(ctx, node, slackBefore(floor), st.latest); err != nil {
		return nil, err
	}
	return st, d.readEvents(ctx, st)
}

// readEvents indexes st's events and reads those of pending attempts that
// are not among them.
func (d *Dispatcher) readEvents(ctx context.Context, st *nodeState) error {
	st.byID = make(map[string]*jqlgate.Fanout, len(st.fans))
	for _, f := range st.fans {
		st.byID[f.Event.ID] = f
	}
	missing := map[string]*jqlgate.Attempt{}
	for id, a := range st.latest {
		if pendingStatus(a.Status) && st.byID[a.EventID] == nil {
			missing[id] = a
		}
	}
	if len(missing) == 0 {
		return nil
	}
	more, err := d.fansOf(ctx, missing)
	maps.Copy(st.byID, more)
	return err
}

// pendingStatus reports whether a delivery whose latest attempt has this
// status is still to be attempted: Resent, or Queued (the record a node
// writes when it adopts a delivery).
func pendingStatus(s string) bool {
	return s == jqlgate.StatusResent || s == jqlgate.StatusQueued
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
// pending and due before the frontier (or in an ordered line, whose head
// must be in memory).
func (d *Dispatcher) resumeResent(st *nodeState) []*delivery {
	var out []*delivery
	for _, a := range st.latest {
		f := st.byID[a.EventID]
		if !pendingStatus(a.Status) || f == nil || !d.resumable(a) {
			continue
		}
		if dl := d.retryDelivery(f, a); dl != nil {
			out = append(out, dl)
		}
	}
	return out
}

// resumable reports whether recovery should queue the delivery after
// Resent attempt a now rather than leave it to the loader.
func (d *Dispatcher) resumable(a *jqlgate.Attempt) bool {
	if t := d.idx.get(a.SubscriptionID); t != nil && t.sub.Ordered {
		return true
	}
	return d.frontier.IsZero() || a.NextAttemptAt.Before(d.frontier)
}
