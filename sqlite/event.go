package sqlite

import (
	"encoding/json"
	"time"

	"github.com/jqlgate/jqlgate"
)

// insertEvent stores one accepted event with its targets. The record store
// calls it inside a record write's transaction (the transactional outbox),
// the delivery store for events published on their own.
const insertEvent = `INSERT INTO events (id, type, entity_id, node, accepted, seq, timestamp, targets, changed, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insertFanouts(tx *Tx, fans []*jqlgate.Fanout) error {
	for _, f := range fans {
		ev := f.Event
		targets := f.Targets
		if targets == nil {
			targets = []string{}
		}
		tj, err := json.Marshal(targets)
		if err != nil {
			return err
		}
		var changed, data any
		if ev.Changed != nil {
			b, err := json.Marshal(ev.Changed)
			if err != nil {
				return err
			}
			changed = string(b)
		}
		if ev.Data != nil {
			b, err := json.Marshal(ev.Data)
			if err != nil {
				return err
			}
			data = string(b)
		}
		if _, err := tx.Exec(insertEvent, ev.ID, ev.Type, ev.EntityID, f.Node, nanos(f.Accepted), f.Seq,
			nanos(ev.Timestamp), string(tj), changed, data); err != nil {
			return err
		}
	}
	return nil
}

// nanos is t as stored: Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the time a stored nanos value stands for, in UTC; 0 is the
// zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
