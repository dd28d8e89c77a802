package dispatcher

import (
	"sync"
	"time"

	"github.com/jqlgate/jqlgate"
)

// tracker counts each event's unfinished deliveries, to compute the node's
// watermark: the acceptance time of the oldest event not yet finished.
// Recovery after a crash reads events from the watermark on, so the
// watermark must never pass an event that still has work to do.
type tracker struct {
	mu      sync.Mutex
	now     func() time.Time
	events  map[string]*tracked
	pending int // unfinished deliveries
	lastSeq int64
}

type tracked struct {
	accepted  time.Time
	remaining int
}

func newTracker(now func() time.Time) *tracker {
	return &tracker{now: now, events: map[string]*tracked{}}
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

// watermark returns the acceptance time of the oldest unfinished event, or
// now when nothing is unfinished.
func (t *tracker) watermark() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	wm := t.now().UTC()
	for _, e := range t.events {
		if e.accepted.Before(wm) {
			wm = e.accepted
		}
	}
	return wm
}

// depth returns the number of unfinished deliveries.
func (t *tracker) depth() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// known reports whether event id is being tracked.
func (t *tracker) known(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events[id] != nil
}
