package sqlite

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
)

// pendingSlack widens the queue's window below the oldest watermark,
// against clock steps between processes and the watermark's checkpoint
// interval (as on MongoDB).
const pendingSlack = time.Minute

// Pending returns the unfinished deliveries to subID, newest event first.
func (q *DeliveryQuery) Pending(ctx context.Context, subID string) ([]*jqlgate.PendingDelivery, error) {
	return q.PendingTo(ctx, []string{subID}, false)
}

// PendingTo returns the unfinished deliveries to any of subIDs (to every
// subscription when all is true): those of events accepted since the
// oldest watermark of any node (less pendingSlack) that have no attempt
// yet (Queued) or whose latest attempt is Resent, newest event first, then
// the retries parked in the store beyond that window (Resent, due at or
// after it), newest event first. Queued deliveries have no DeliveryID
// here; the dispatcher derives it.
//
// It reads the pending table (see migration 011), which triggers keep to
// the deliveries not yet Done or Failed, through its subscription index:
// what it reads is what is unfinished, not every event since the
// watermark.
func (q *DeliveryQuery) PendingTo(ctx context.Context, subIDs []string, all bool) ([]*jqlgate.PendingDelivery, error) {
	if !all && len(subIDs) == 0 {
		return nil, nil
	}
	since, err := q.oldestWatermark(ctx)
	if err != nil {
		return nil, err
	}
	cond, args := "1", []any{}
	switch {
	case all:
	case len(subIDs) == 1:
		cond, args = "subscription_id = ?", []any{subIDs[0]}
	default:
		list, err := jsonList(subIDs)
		if err != nil {
			return nil, err
		}
		cond, args = "subscription_id IN (SELECT value FROM json_each(?))", []any{list}
	}
	s := nanos(since)
	cols := `event_id, subscription_id, event, entity_id, accepted, seq, pos, delivery_id, status, attempt,
next_attempt_at, last_attempt_at, last_response_code, last_error`
	rows, err := q.db.Query(ctx, `SELECT * FROM (
SELECT 1 AS w, `+cols+` FROM pending WHERE `+cond+` AND accepted >= ?
UNION ALL SELECT 0, `+cols+` FROM pending WHERE `+cond+` AND status = 'Resent' AND next_attempt_at >= ? AND accepted < ?)
ORDER BY w DESC, accepted DESC, seq DESC, event_id DESC, pos`, append(append(append(args, s), args...), s, s)...)
	if err != nil {
		return nil, FormatError("find pending", err)
	}
	defer rows.Close()
	var out []*jqlgate.PendingDelivery
	for rows.Next() {
		var p jqlgate.PendingDelivery
		var window, accepted, seq, pos, next, last int64
		if err := rows.Scan(&window, &p.EventID, &p.SubscriptionID, &p.Event, &p.EntityID, &accepted, &seq, &pos, &p.DeliveryID, &p.Status,
			&p.Attempts, &next, &last, &p.LastResponseCode, &p.LastError); err != nil {
			return nil, FormatError("find pending", err)
		}
		p.AcceptedAt = fromNanos(accepted)
		if p.Status == jqlgate.StatusResent {
			p.Retries, p.NextAttemptAt, p.LastAttemptAt = p.Attempts-1, fromNanos(next), fromNanos(last)
		} else {
			// Queued: no attempt yet (or only an adoption's mark), due at
			// once.
			p.Status, p.Attempts, p.LastResponseCode, p.LastError, p.NextAttemptAt = jqlgate.StatusQueued, 0, 0, "", p.AcceptedAt
		}
		out = append(out, &p)
	}
	return out, FormatError("find pending", rows.Err())
}

// oldestWatermark returns the oldest watermark of any node, less
// pendingSlack; zero when no node, or some node, has none yet (what that
// node has unfinished is then unknown, so nothing is left out).
func (q *DeliveryQuery) oldestWatermark(ctx context.Context) (time.Time, error) {
	var oldest int64
	if err := q.db.QueryRow(ctx, `SELECT coalesce(min(watermark), 0) FROM nodes`).Scan(&oldest); err != nil {
		return time.Time{}, FormatError("find nodes", err)
	}
	if oldest == 0 {
		return time.Time{}, nil
	}
	return fromNanos(oldest).Add(-pendingSlack), nil
}
