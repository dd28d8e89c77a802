package dispatcher

import (
	"fmt"
	"testing"
	"time"
)

// popNow pops a ready delivery, or nil if every ready one is held back.
func popNow(q *queue) *delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.nextLocked()
}

// One owner's deliveries take at most its share of the workers, and one
// host's at most the host's, however high the subscription's maxInFlight:
// the rest wait in the queue, not in a worker, and the next owner's
// delivery is popped past them. Every delivery is popped in the end.
func TestQueueOwnerAndHostShares(t *testing.T) {
	subs := map[string]limits{
		"a1": {maxInFlight: 50, owner: "A", host: "slow.example"},
		"a2": {maxInFlight: 50, owner: "A", host: "other.example"},
		"b":  {maxInFlight: 50, owner: "B", host: "b.example"},
		"c":  {maxInFlight: 50, owner: "C", host: "slow.example"},
	}
	now := time.Now()
	q := newQueue(func() time.Time { return now }, func(id string) limits { return subs[id] }, 4, 6)
	var all []*delivery
	add := func(sub string, n int) {
		for i := range n {
			d := &delivery{id: fmt.Sprintf("%s-%d", sub, i), subID: sub, due: now, heapIdx: -1}
			all = append(all, d)
			q.push(d)
		}
	}
	add("a1", 40)
	add("a2", 40)
	add("b", 1)
	add("c", 10)

	var running []*delivery
	for d := popNow(q); d != nil; d = popNow(q) {
		running = append(running, d)
	}
	count := map[string]int{}
	for _, d := range running {
		count[d.subID]++
	}
	// A: 4 (owner share); B: 1; C: host slow.example has 6, A holds some of it.
	if count["a1"]+count["a2"] != 4 || count["b"] != 1 || count["c"] == 0 || count["a1"]+count["c"] > 6 {
		t.Fatalf("in flight %v, want A at 4, B 1, C some, slow.example at most 6", count)
	}
	// Finishing deliveries lets the waiting ones run until none is left.
	seen := map[string]bool{}
	for len(running) > 0 {
		d := running[0]
		running = running[1:]
		seen[d.id] = true
		q.done(d)
		for n := popNow(q); n != nil; n = popNow(q) {
			running = append(running, n)
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("popped %d of %d deliveries", len(seen), len(all))
	}
	if len(q.slots) != 0 || len(q.ready) != 0 {
		t.Errorf("queue not empty at the end: %d slots, %d ready", len(q.slots), len(q.ready))
	}
}

// Removing a subscription whose deliveries waited in its owner's slot
// leaves the owner's other deliveries free to run.
func TestQueueRemoveSubRebalances(t *testing.T) {
	subs := map[string]limits{
		"x": {maxInFlight: 1, owner: "A", host: "h"},
		"y": {maxInFlight: 5, owner: "A", host: "h"},
	}
	now := time.Now()
	q := newQueue(func() time.Time { return now }, func(id string) limits { return subs[id] }, 2, 10)
	for i := range 3 {
		q.push(&delivery{id: fmt.Sprint("x", i), subID: "x", due: now, heapIdx: -1})
	}
	for i := range 3 {
		q.push(&delivery{id: fmt.Sprint("y", i), subID: "y", due: now, heapIdx: -1})
	}
	first, second := popNow(q), popNow(q)
	if first == nil || second == nil || popNow(q) != nil {
		t.Fatal("want exactly two in flight for owner A")
	}
	q.done(first)
	q.done(second)
	if removed := q.removeSub("x"); len(removed) == 0 {
		t.Fatal("removeSub found nothing")
	}
	n := 0
	for d := popNow(q); d != nil; d = popNow(q) {
		if d.subID != "y" {
			t.Fatalf("popped %s after x was removed", d.id)
		}
		n++
		q.done(d)
	}
	want := 3 - boolInt(first.subID == "y") - boolInt(second.subID == "y")
	if n != want {
		t.Errorf("popped %d of y's deliveries after removing x, want %d", n, want)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
