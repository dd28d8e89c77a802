package dispatcher

import (
	"cmp"
	"slices"
)

// An ordered subscription receives its events strictly in the order they
// were accepted: its deliveries wait in a line sorted by seq, and only the
// head is scheduled. The head leaves the line when it is Done or Failed;
// while it is Resent it stays at the head, so the events behind it wait
// across its retries. After a restart or a takeover recovery pushes the
// unfinished deliveries, and the line sorts them again.

// reserve puts ordered deliveries in their lines before their events are
// durable, so a line never lets a later event pass an earlier one whose
// intake is still being written.
func (q *queue) reserve(dls []*delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range dls {
		if d.ordered {
			q.insertLocked(d)
		}
	}
}

// lineAdmitLocked makes sure d is in its line and reports whether it heads
// it (and so may be scheduled).
func (q *queue) lineAdmitLocked(d *delivery) bool {
	line := q.lines[d.subID]
	if !slices.Contains(line, d) {
		q.insertLocked(d)
		line = q.lines[d.subID]
	}
	return line[0] == d
}

// insertLocked inserts d by seq, never in front of a head already
// scheduled.
func (q *queue) insertLocked(d *delivery) {
	line := q.lines[d.subID]
	i, _ := slices.BinarySearchFunc(line, d, cmpDelivery)
	if i == 0 && len(line) > 0 && line[0].scheduled {
		i = 1
	}
	q.lines[d.subID] = slices.Insert(line, i, d)
}

func cmpDelivery(a, b *delivery) int {
	switch {
	case a.seq != b.seq:
		return cmp.Compare(a.seq, b.seq)
	case !a.fan.Accepted.Equal(b.fan.Accepted):
		return a.fan.Accepted.Compare(b.fan.Accepted)
	}
	return cmp.Compare(a.id, b.id)
}

// advance takes a finished (or abandoned) ordered delivery out of its line
// and schedules the next one when its event is durable.
func (q *queue) advance(d *delivery) {
	if !d.ordered {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	line := q.lines[d.subID]
	i := slices.Index(line, d)
	if i < 0 {
		return
	}
	line = slices.Delete(line, i, i+1)
	if len(line) == 0 {
		delete(q.lines, d.subID)
		return
	}
	q.lines[d.subID] = line
	if head := line[0]; i == 0 && head.durable && !head.scheduled {
		q.scheduleLocked(head)
	}
}
