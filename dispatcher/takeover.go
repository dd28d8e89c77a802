package dispatcher

import (
	"context"
	"fmt"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Several processes share one store, each delivering what it accepted
// under its own node name. Each heartbeats its node's small document in
// the nodes collection, conditionally on the epoch of its claim. When a
// node's heartbeat is older than TakeoverAfter, a live process claims it
// with one compare-and-set (owner and epoch change only if epoch and
// heartbeat are still those it read), so only one process wins. The
// winner reads the node's unfinished deliveries with the recovery code and
// writes one Queued record per delivery, tagged with its own node (or a
// Resent copy for retries, keeping their attempt number and next time),
// which makes them its own: its watermark, floor, loader and any later
// recovery find them as they find its own retries. The adopted node is left
// owned by the adopter, so nobody adopts it again; if its process comes
// back, it starts afresh (its past was adopted) and takes its name back. A
// process that finds its node claimed by another (it stalled beyond the
// takeover time) stops delivering at once.

// claimOwn claims this process's node and reports whether its past must
// be recovered: not when another node adopted it.
func (d *Dispatcher) claimOwn(ctx context.Context) (bool, error) {
	for range 5 {
		st, err := d.cfg.Store.NodeState(ctx, d.cfg.Node)
		if err != nil {
			return false, err
		}
		var epoch int64
		adopted := false
		if st != nil {
			epoch, adopted = st.Epoch, st.Owner != "" && st.Owner != d.cfg.Node
		}
		ok, err := d.cfg.Store.ClaimNode(ctx, d.cfg.Node, d.cfg.Node, epoch, time.Time{}, adopted)
		if err != nil {
			return false, err
		}
		if ok {
			d.epoch = epoch + 1
			if adopted {
				d.log.Info("node was adopted while away; starting afresh", "node", d.cfg.Node, "adopted_by", st.Owner)
			}
			return !adopted, nil
		}
	}
	return false, fmt.Errorf("claim node %s: another process keeps claiming it", d.cfg.Node)
}

// fence stops this process's deliveries after another process claimed its
// node; publishing answers unavailable from now on.
func (d *Dispatcher) fence() {
	d.log.Error("node claimed by another process; stopping deliveries", "node", d.cfg.Node)
	d.gate.Lock()
	d.closed, d.fenced = true, true
	d.gate.Unlock()
	d.q.close()
}

// takeOver adopts the nodes whose heartbeat is older than TakeoverAfter.
func (d *Dispatcher) takeOver(ctx context.Context) {
	if d.cfg.TakeoverAfter < 0 {
		return
	}
	states, err := d.cfg.Store.NodeStates(ctx)
	if err != nil {
		d.log.Warn("list nodes", "error", err.Error())
		return
	}
	stale := time.Now().Add(-d.cfg.TakeoverAfter)
	for _, st := range states {
		if st.Node == d.cfg.Node || st.Owner != "" && st.Owner != st.Node || !st.Heartbeat.Before(stale) {
			continue
		}
		ok, err := d.cfg.Store.ClaimNode(ctx, st.Node, d.cfg.Node, st.Epoch, st.Heartbeat, false)
		if err != nil || !ok {
			continue
		}
		d.adoptUntilDone(st)
	}
}

// adoptUntilDone adopts a node this process has claimed, trying again
// while the store fails, since nobody else will.
func (d *Dispatcher) adoptUntilDone(st jqlgate.NodeState) {
	began := time.Now()
	wait := recordBackoffMin
	for {
		ctx, cancel := context.WithTimeout(d.baseCtx, 5*time.Minute)
		n, err := d.adopt(ctx, st.Node)
		cancel()
		if err == nil {
			d.log.Info("took over node", "node", st.Node, "deliveries", n,
				"silent_for", time.Since(st.Heartbeat).Round(time.Millisecond).String(), "took", time.Since(began).String())
			return
		}
		d.log.Warn("take over node; retrying", "node", st.Node, "error", err.Error())
		select {
		case <-d.stopCh:
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, recordBackoffMax)
	}
}

// adopt makes node's unfinished deliveries this process's own and queues
// those due before the frontier.
func (d *Dispatcher) adopt(ctx context.Context, node string) (int, error) {
	st, err := d.readState(ctx, node)
	if err != nil {
		return 0, err
	}
	dels, marks := d.adoptions(st, node)
	if len(marks) == 0 {
		return 0, nil
	}
	d.frontierMu.RLock()
	defer d.frontierMu.RUnlock()
	if err := d.cfg.Store.InsertAttempts(ctx, marks); err != nil && jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		return 0, err
	}
	var queued []*delivery
	for i, dl := range dels {
		if d.evictable(dl, dl.due) {
			continue // the loader brings it back when it falls due
		}
		d.track.holdRetry(dl.id, marks[i].CreatedAt)
		dl.hold = holdRetry
		queued = append(queued, dl)
	}
	d.queueOrPark(ctx, queued)
	return len(dels), nil
}

// adoptions returns node's unfinished deliveries, re-homed to this node,
// and the record of each adoption.
func (d *Dispatcher) adoptions(st *nodeState, from string) ([]*delivery, []*jqlgate.Attempt) {
	now := d.cfg.Now().UTC()
	var dels []*delivery
	var marks []*jqlgate.Attempt
	add := func(f *jqlgate.Fanout, sub string, last *jqlgate.Attempt) {
		dl := d.newDelivery(f, sub)
		m := &jqlgate.Attempt{ID: adoptionID(dl.id, d.epoch), DeliveryID: dl.id, EventID: f.Event.ID, Event: f.Event.Type,
			EntityID: f.Event.EntityID, SubscriptionID: sub, Status: jqlgate.StatusQueued, NextAttemptAt: now, CreatedAt: now, Node: d.cfg.Node,
			Error: "taken over from node " + from}
		if last != nil {
			m.Attempt, m.Status, m.NextAttemptAt = last.Attempt, jqlgate.StatusResent, last.NextAttemptAt
		}
		dl.attempt, dl.due, dl.hold = m.Attempt+1, m.NextAttemptAt, holdNone
		dels, marks = append(dels, dl), append(marks, m)
	}
	for _, f := range st.fans {
		for _, sub := range f.Targets {
			if st.latest[DeliveryID(f.Event.ID, sub)] == nil {
				add(f, sub, nil)
			}
		}
	}
	for _, a := range st.latest {
		if f := st.byID[a.EventID]; f != nil && pendingStatus(a.Status) {
			add(f, a.SubscriptionID, a)
		}
	}
	return dels, marks
}

// adoptionID is the id of an adoption record: the same for a retried
// adoption by the same claim, so a retry after a lost answer conflicts
// instead of writing it twice.
func adoptionID(deliveryID string, epoch int64) string {
	return fmt.Sprintf("adopt_%s_%d", deliveryID, epoch)
}
