package dispatcher

import (
	"sync"
	"time"

	"github.com/jqlgate/jqlgate"
)

// tracker knows where recovery would find each unfinished delivery held
// in memory, to compute the node's checkpoint:
//
//   - a delivery never attempted is found by its event: the watermark stays
//     at or before the event's acceptance (events counts them per event);
//   - a delivery whose latest record is a Resent attempt made by this
//     process is found by that attempt: the watermark stays at or before
//     its created_at (retries);
//   - a delivery loaded from the store (a retry that was due beyond the
//     horizon, or one recovered) is found by its Resent attempt's
//     next_attempt_at: the floor stays at or before it (loaded).
//
// Deliveries whose next attempt is beyond the horizon are not held at all:
// their Resent attempt has next_attempt_at at or after the frontier, which
// the floor never passes, so recovery and the loader find them.
type tracker struct {
	mu      sync.Mutex
	now     func() time.Time
	events  map[string]*tracked
	pending int // unfinished deliveries
	lastSeq int64
	retries map[string]time.Time
	loaded  map[string]time.Time
}

// Holds: how the tracker knows a delivery (see tracker).
const (
	holdEvent  = iota // counted with its event (the zero value)
	holdRetry         // in retries, by its latest attempt's created_at
	holdLoaded        // in loaded, by its Resent attempt's next_attempt_at
	holdNone          // not held: out of memory, or finished
)

type tracked struct {
	accepted  time.Time
	remaining int
}

func newTracker(now func() time.Time) *tracker {
	return &tracker{now: now, events: map[string]*tracked{}, retries: map[string]time.Time{}, loaded: map[string]time.Time{}}
}

// hold registers fans before they are stored, with one extra hold each for
// the intake itself, and stamps their acceptance time and sequence number
// (nanoseconds, bumped past the last one, so it keeps increasing across
// restarts as long as the clock does). Stamping under the
// same lock that computes the watermark keeps every held event at or after
// any watermark already written.
func (t *tracker) hold(fans []*jqlgate.Fanout) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().UTC()
	for _, f := range fans {
		f.Accepted = now
		t.lastSeq = max(t.lastSeq+1, now.UnixNano())
		f.Seq = t.lastSeq
		t.events[f.Event.ID] = &tracked{accepted: now, remaining: len(f.Targets) + 1}
		t.pending += len(f.Targets)
	}
}

// add registers recovered events with n unfinished deliveries each.
func (t *tracker) add(f *jqlgate.Fanout, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.events[f.Event.ID]; e != nil {
		e.remaining += n
	} else {
		t.events[f.Event.ID] = &tracked{accepted: f.Accepted, remaining: n}
	}
	t.pending += n
}

// drop forgets fans whose intake failed.
func (t *tracker) drop(fans []*jqlgate.Fanout) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range fans {
		if _, ok := t.events[f.Event.ID]; ok {
			delete(t.events, f.Event.ID)
			t.pending -= len(f.Targets)
		}
	}
}

// release ends the intake hold of fans.
func (t *tracker) release(fans []*jqlgate.Fanout) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range fans {
		t.doneLocked(f.Event.ID, 0)
	}
}

// finish marks one delivery of event id as finished.
func (t *tracker) finish(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.doneLocked(id, 1)
}

func (t *tracker) doneLocked(id string, deliveries int) {
	e := t.events[id]
	if e == nil {
		return
	}
	e.remaining--
	t.pending -= deliveries
	if e.remaining <= 0 {
		delete(t.events, id)
	}
}

// watermark returns the acceptance time of the oldest unfinished event or
// the creation of the oldest Resent attempt held, or now when there is
// neither.
func (t *tracker) watermark() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	wm := t.now().UTC()
	for _, e := range t.events {
		if e.accepted.Before(wm) {
			wm = e.accepted
		}
	}
	for _, at := range t.retries {
		if at.Before(wm) {
			wm = at
		}
	}
	return wm
}

// floor returns the earliest next_attempt_at of the loaded deliveries, or
// frontier if it is earlier.
func (t *tracker) floor(frontier time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	fl := frontier.UTC()
	for _, at := range t.loaded {
		if at.Before(fl) {
			fl = at
		}
	}
	return fl
}

// depth returns the number of unfinished deliveries held in memory.
func (t *tracker) depth() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending + len(t.retries) + len(t.loaded)
}

// holdRetry holds delivery id by its Resent attempt made at at.
func (t *tracker) holdRetry(id string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.retries[id] = at.UTC()
}

// holdLoaded holds delivery id, loaded from the store, by its next attempt
// time; false if it is already held.
func (t *tracker) holdLoaded(id string, next time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.retries[id]; ok {
		return false
	}
	if _, ok := t.loaded[id]; ok {
		return false
	}
	t.loaded[id] = next.UTC()
	return true
}

// holds reports whether delivery id is held as a retry or a loaded one.
func (t *tracker) holds(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, r := t.retries[id]
	_, l := t.loaded[id]
	return r || l
}

// unhold ends dl's current hold (but not a retry hold made for the attempt
// just recorded, keep).
func (t *tracker) unhold(dl *delivery, keep bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch dl.hold {
	case holdEvent:
		t.doneLocked(dl.fan.Event.ID, 1)
	case holdLoaded:
		delete(t.loaded, dl.id)
	case holdRetry:
		if !keep {
			delete(t.retries, dl.id)
		}
	}
}

// known reports whether event id is being tracked.
func (t *tracker) known(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events[id] != nil
}
