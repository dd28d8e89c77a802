package jqlgate

import "time"

// NodeState is one dispatcher node's checkpoint in the store. A node is
// owned by the process running under its name; when that process stops
// heartbeating, another one adopts it (Owner becomes the adopter's node and
// Epoch moves on) and continues its unfinished deliveries.
type NodeState struct {
	Node      string
	Owner     string
	Epoch     int64
	Heartbeat time.Time
	// Watermark: recovery reads events and attempts from here on.
	Watermark time.Time
	// Floor: recovery reads Resent attempts due from here on.
	Floor time.Time
}
