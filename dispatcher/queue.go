package dispatcher

import (
	"container/heap"
	"sync"
	"time"

	"github.com/jqlgate/jqlgate"
)

// delivery is one event on its way to one subscription.
type delivery struct {
	id      string // webhook-id, the same for every attempt
	fan     *jqlgate.Fanout
	subID   string
	attempt int // number of the next attempt, from 1
	due     time.Time
	heapIdx int // position in the timed heap, -1 when not in it

	// ordered deliveries go out one at a time per subscription, by seq.
	ordered bool
	seq     int64
	// durable is false while the event's intake is not yet acknowledged;
	// an ordered line does not pass such a head.
	durable bool
	// hold is how the tracker holds the delivery (holdEvent, …).
	hold int
	// scheduled is set once the delivery entered the timed heap, the
	// ready FIFO or a worker; an ordered line never puts another in front.
	scheduled bool
	// held are the slots a delivery in flight counts against.
	held []string
}

// queue holds pending deliveries: those due later in a heap, due ones in a
// FIFO for the workers, and those over an in-flight limit in the waiting
// list of the slot that is full, so a slow receiver parks its own
// deliveries without holding a worker. A delivery in flight counts against
// three slots: its subscription's (maxInFlight), its owner's and its
// receiver host's (shares of the workers), so one owner or one host can
// never hold every worker and starve the others.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	timed  dueHeap
	ready  []*delivery
	slots  map[string]*slot
	limits func(subID string) limits
	// ownerCap and hostCap bound the deliveries in flight per owner and
	// per receiver host.
	ownerCap, hostCap int
	now               func() time.Time
	wake              chan struct{} // nudges the timer loop when the earliest due changes
	closed            bool
	// lines are the ordered subscriptions' deliveries, head first.
	lines map[string][]*delivery
}

// limits are what bounds one subscription's deliveries in flight: its own
// limit, and the owner and receiver host it shares slots with ("" for
// none).
type limits struct {
	maxInFlight int
	owner, host string
}

// slot is one subscription's, owner's or host's share of the workers.
type slot struct {
	inflight int
	cap      int // the limit last seen
	waiting  []*delivery
}

// Slot keys: one namespace per kind, so an owner and a host never share.
func subSlot(id string) string      { return "s\x00" + id }
func ownerSlot(owner string) string { return "o\x00" + owner }
func hostSlot(host string) string   { return "h\x00" + host }

func newQueue(now func() time.Time, lim func(string) limits, ownerCap, hostCap int) *queue {
	q := &queue{slots: map[string]*slot{}, lines: map[string][]*delivery{}, limits: lim, now: now,
		ownerCap: ownerCap, hostCap: hostCap, wake: make(chan struct{}, 1)}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push schedules d at d.due; an ordered delivery waits until it heads
// its subscription's line.
func (q *queue) push(d *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if d.ordered {
		d.durable = true
		if !q.lineAdmitLocked(d) {
			return
		}
	}
	q.scheduleLocked(d)
}

func (q *queue) scheduleLocked(d *delivery) {
	d.scheduled = true
	if !d.due.After(q.now()) {
		q.ready = append(q.ready, d)
		q.cond.Signal()
		return
	}
	heap.Push(&q.timed, d)
	if q.timed[0] == d {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// pop waits for a due delivery whose subscription, owner and host all have
// room, marks it in flight and returns it; nil once the queue is closed. A
// delivery whose slot is full waits in that slot, not in a worker.
func (q *queue) pop() *delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.closed {
			return nil
		}
		if d := q.nextLocked(); d != nil {
			return d
		}
		q.cond.Wait()
	}
}

// nextLocked takes the first ready delivery whose slots all have room and
// marks it in flight; the ones before it go to the waiting list of their
// full slot. Nil when none is left in the ready FIFO.
func (q *queue) nextLocked() *delivery {
	for len(q.ready) > 0 {
		d := q.ready[0]
		q.ready[0] = nil
		q.ready = q.ready[1:]
		keys := q.slotsOf(d)
		full := -1
		for i, k := range keys {
			if s := q.slots[k]; s.inflight >= s.cap {
				full = i
				break
			}
		}
		if full < 0 {
			for _, k := range keys {
				q.slots[k].inflight++
			}
			d.held = keys
			return d
		}
		q.slots[keys[full]].waiting = append(q.slots[keys[full]].waiting, d)
		// d may have been let out of another slot's waiting list for a
		// place it is not taking now: pass the place on.
		for i, k := range keys {
			if i != full {
				q.releaseLocked(k)
			}
		}
	}
	return nil
}

// slotsOf returns the keys of the slots d counts against, creating them
// with their current limits.
func (q *queue) slotsOf(d *delivery) []string {
	l := q.limits(d.subID)
	keys := make([]string, 0, 3)
	add := func(k string, limit int) {
		s := q.slots[k]
		if s == nil {
			s = &slot{}
			q.slots[k] = s
		}
		s.cap = max(limit, 1)
		keys = append(keys, k)
	}
	add(subSlot(d.subID), l.maxInFlight)
	if l.owner != "" && q.ownerCap > 0 {
		add(ownerSlot(l.owner), q.ownerCap)
	}
	if l.host != "" && q.hostCap > 0 {
		add(hostSlot(l.host), q.hostCap)
	}
	return keys
}

// releaseLocked lets the first delivery waiting in slot k go back to the
// ready FIFO if k has room, and forgets k once it is idle.
func (q *queue) releaseLocked(k string) {
	s := q.slots[k]
	if s == nil {
		return
	}
	if len(s.waiting) > 0 && s.inflight < s.cap {
		q.ready = append(q.ready, s.waiting[0])
		s.waiting[0] = nil
		s.waiting = s.waiting[1:]
		q.cond.Signal()
	}
	if s.inflight <= 0 && len(s.waiting) == 0 {
		delete(q.slots, k)
	}
}

// done releases d's in-flight places and lets a delivery waiting in each of
// its slots run.
func (q *queue) done(d *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, k := range d.held {
		if s := q.slots[k]; s != nil {
			s.inflight--
		}
		q.releaseLocked(k)
	}
	d.held = nil
}

// rebalanceLocked lets waiting deliveries out of every slot that has room
// (after deliveries were taken out of the queue, places they were given
// may be unused).
func (q *queue) rebalanceLocked() {
	for k, s := range q.slots {
		for n := s.cap - s.inflight; n > 0 && len(s.waiting) > 0; n-- {
			q.releaseLocked(k)
		}
		if s.inflight <= 0 && len(s.waiting) == 0 {
			delete(q.slots, k)
		}
	}
}

// promote moves due deliveries to the ready FIFO and returns when the next
// one falls due (zero if none is waiting).
func (q *queue) promote() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for len(q.timed) > 0 && !q.timed[0].due.After(now) {
		q.ready = append(q.ready, heap.Pop(&q.timed).(*delivery))
		q.cond.Signal()
	}
	if len(q.timed) == 0 {
		return time.Time{}
	}
	return q.timed[0].due
}

// removeSub takes every queued delivery to subID out of the queue.
func (q *queue) removeSub(subID string) []*delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*delivery
	keep := q.ready[:0]
	for _, d := range q.ready {
		if d.subID == subID {
			out = append(out, d)
		} else {
			keep = append(keep, d)
		}
	}
	q.ready = keep
	timed := q.timed[:0]
	for _, d := range q.timed {
		if d.subID == subID {
			d.heapIdx = -1
			out = append(out, d)
		} else {
			d.heapIdx = len(timed)
			timed = append(timed, d)
		}
	}
	clear(q.timed[len(timed):])
	q.timed = timed
	heap.Init(&q.timed)
	for _, s := range q.slots {
		kept := s.waiting[:0]
		for _, d := range s.waiting {
			if d.subID == subID {
				out = append(out, d)
			} else {
				kept = append(kept, d)
			}
		}
		clear(s.waiting[len(kept):])
		s.waiting = kept
	}
	q.rebalanceLocked()
	for _, d := range q.lines[subID] {
		if !d.scheduled {
			out = append(out, d)
		}
		d.scheduled = false
	}
	delete(q.lines, subID)
	return out
}

// close wakes every waiting worker and makes pop return nil.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// dueHeap orders deliveries by due time.
type dueHeap []*delivery

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}

func (h *dueHeap) Push(x any) {
	d := x.(*delivery)
	d.heapIdx = len(*h)
	*h = append(*h, d)
}

func (h *dueHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	d.heapIdx = -1
	return d
}
