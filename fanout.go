package jqlgate

import "time"

// Fanout is an accepted event as the dispatcher stores it: the event, the
// subscriptions it is delivered to, and the dispatcher node that owns its
// deliveries until they finish.
type Fanout struct {
	Event *Event
	// Targets are the ids of the subscriptions the event goes to.
	Targets []string
	// Node is the dispatcher process that delivers the event.
	Node string
	// Accepted is when the dispatcher took the event; recovery reads
	// events by it.
	Accepted time.Time
	// Seq orders the events one node accepted (strictly increasing per
	// node, also across restarts); ordered subscriptions receive events by
	// it. Zero on events stored before it existed.
	Seq int64
}
