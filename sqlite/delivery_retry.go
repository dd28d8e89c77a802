package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jqlgate/jqlgate"
)

// DueRetries returns node's Resent attempts whose next attempt falls in
// [from, to): the retries the dispatcher keeps only in the store until
// they are nearly due. It reads the partial index of Resent attempts, so
// only those due are read however many attempts the store keeps. Headers
// and bodies are left out.
func (s *DeliveryStore) DueRetries(ctx context.Context, node string, from, to time.Time) ([]*jqlgate.Attempt, error) {
	return readAttempts(ctx, s.db, "find due retries", `SELECT `+summaryCols+` FROM attempts INDEXED BY attempts_due
WHERE node = ? AND next_attempt_at >= ? AND next_attempt_at < ? AND status = 'Resent' ORDER BY next_attempt_at`,
		node, nanos(from), nanos(to))
}

// LatestAttempts returns the latest attempt (by attempt number, then
// time) at each of the given deliveries that has one, without headers and
// bodies.
func (s *DeliveryStore) LatestAttempts(ctx context.Context, deliveryIDs []string) ([]*jqlgate.Attempt, error) {
	if len(deliveryIDs) == 0 {
		return []*jqlgate.Attempt{}, nil
	}
	ids, err := jsonList(deliveryIDs)
	if err != nil {
		return nil, err
	}
	all, err := readAttempts(ctx, s.db, "find latest attempts", `SELECT `+summaryCols+` FROM attempts
WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY delivery_id, attempt, created_at`, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*jqlgate.Attempt, 0, len(all))
	for i, a := range all {
		if i+1 == len(all) || all[i+1].DeliveryID != a.DeliveryID {
			out = append(out, a)
		}
	}
	return out, nil
}

// EventsByID returns the stored events among ids.
func (s *DeliveryStore) EventsByID(ctx context.Context, ids []string) ([]*jqlgate.Fanout, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := jsonList(ids)
	if err != nil {
		return nil, err
	}
	return s.readEvents(ctx, "find events", `SELECT `+eventCols+` FROM events WHERE id IN (SELECT value FROM json_each(?))`, list)
}

// jsonList is ids as a JSON array: one statement, prepared once, takes any
// number of them through json_each.
func jsonList(ids []string) (string, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return "", jqlgate.Internal("encode ids", err)
	}
	return string(b), nil
}
