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
}

// queue holds pending deliveries: those due later in a heap, due ones in a
// FIFO for the workers, and per subscription those over its in-flight limit,
// so a slow receiver parks its own deliveries without holding a worker.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	timed  dueHeap
	ready  []*delivery
	slots  map[string]*slot
	limit  func(subID string) int
	now    func() time.Time
	wake   chan struct{} // nudges the timer loop when the earliest due changes
	closed bool
	// lines are the ordered subscriptions' deliveries, head first.
	lines map[string][]*delivery
}

// slot is one subscription's share of the workers.
type slot struct {
	inflight int
	waiting  []*delivery
}

func newQueue(now func() time.Time, limit func(string) int) *queue {
	q := &queue{slots: map[string]*slot{}, lines: map[string][]*delivery{}, limit: limit, now: now, wake: make(chan struct{}, 1)}
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

// pop waits for a due delivery whose subscription has room, marks it in
// flight and returns it; nil once the queue is closed.
func (q *queue) pop() *delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.closed {
			return nil
		}
		for len(q.ready) > 0 {
			d := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			s := q.slot(d.subID)
			if s.inflight >= q.limit(d.subID) {
				s.waiting = append(s.waiting, d)
				continue
			}
			s.inflight++
			return d
		}
		q.cond.Wait()
	}
}

func (q *queue) slot(subID string) *slot {
	s := q.slots[subID]
	if s == nil {
		s = &slot{}
		q.slots[subID] = s
	}
	return s
}

// done releases d's in-flight place and lets a waiting delivery of the
// same subscription run.
func (q *queue) done(d *delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.slot(d.subID)
	s.inflight--
	if len(s.waiting) > 0 {
		q.ready = append(q.ready, s.waiting[0])
		s.waiting[0] = nil
		s.waiting = s.waiting[1:]
		q.cond.Signal()
	}
	if s.inflight == 0 && len(s.waiting) == 0 {
		delete(q.slots, d.subID)
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
	if s := q.slots[subID]; s != nil {
		out = append(out, s.waiting...)
		s.waiting = nil
	}
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
