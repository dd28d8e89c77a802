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

// insertPending makes one delivery of an event pending: the queue reads
// the pending table, not every event (migration 011). A delivery an
// attempt stored before its event (an import in another order) already
// decided stays decided, and one it left waiting learns the event's place
// in time; a duplicate target keeps its first place.
const insertPending = `INSERT INTO pending (event_id, subscription_id, pos, event, entity_id, accepted, seq)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM attempts INDEXED BY attempts_event
	WHERE event_id = ?1 AND subscription_id = ?2 AND test = 0 AND status IN ('Done', 'Failed'))
ON CONFLICT (event_id, subscription_id) DO UPDATE SET accepted = excluded.accepted, seq = excluded.seq,
	entity_id = excluded.entity_id, pos = min(pos, excluded.pos) WHERE pending.accepted = 0`

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
		for pos, sub := range targets {
			if _, err := tx.Exec(insertPending, ev.ID, sub, pos, ev.Type, ev.EntityID, nanos(f.Accepted), f.Seq); err != nil {
				return err
			}
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
