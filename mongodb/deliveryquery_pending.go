package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// pendingSlack widens the pending scan below the oldest watermark, against
// clock steps between processes and the watermark's checkpoint interval.
const pendingSlack = time.Minute

// Pending returns the unfinished deliveries to subID, newest event first:
// the events that fanned out to it and whose latest attempt at it is
// neither Done nor Failed. Every unfinished delivery belongs to an event
// accepted at or after its node's watermark, so only events from the
// oldest watermark of any node on are read, plus the retries parked in the
// store beyond it (see parkedRetries). Queued deliveries have no
// attempt yet and so no DeliveryID here; the dispatcher derives it.
func (q *DeliveryQuery) Pending(ctx context.Context, subID string) ([]*jqlgate.PendingDelivery, error) {
	since, err := q.oldestWatermark(ctx)
	if err != nil {
		return nil, err
	}
	events, err := q.targetEvents(ctx, subID, since)
	if err != nil || len(events) == 0 {
		return nil, err
	}
	filter := bson.D{{Key: "subscription_id", Value: subID}, {Key: "created_at", Value: bson.D{{Key: "$gte", Value: since}}}}
	proj := bson.D{{Key: "request_body", Value: 0}, {Key: "response_body", Value: 0}, {Key: "request_headers", Value: 0}, {Key: "response_headers", Value: 0}}
	attempts, err := q.find(ctx, "find pending attempts", filter, options.Find().SetProjection(proj))
	if err != nil {
		return nil, err
	}
	latest := map[string]*jqlgate.Attempt{}
	for _, a := range latestByDelivery(attempts) {
		latest[a.EventID] = a
	}
	var out []*jqlgate.PendingDelivery
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.ID] = true
		if p := pendingOf(ev, subID, latest[ev.ID]); p != nil {
			out = append(out, p)
		}
	}
	parked, err := q.parkedRetries(ctx, subID, since, seen)
	return append(out, parked...), err
}

// parkedRetries returns the deliveries to subID of events older than since
// that wait for a retry: a dispatcher may keep a retry due far ahead only
// in the store, without holding its watermark back for it.
func (q *DeliveryQuery) parkedRetries(ctx context.Context, subID string, since time.Time, seen map[string]bool) ([]*jqlgate.PendingDelivery, error) {
	filter := bson.D{{Key: "subscription_id", Value: subID}, {Key: "status", Value: jqlgate.StatusResent},
		{Key: "next_attempt_at", Value: bson.D{{Key: "$gte", Value: since}}}}
	resent, err := q.find(ctx, "find parked retries", filter, options.Find().SetProjection(bson.D{{Key: "delivery_id", Value: 1}, {Key: "event_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range resent {
		if !seen[a.EventID] {
			seen[a.EventID] = true
			ids = append(ids, a.DeliveryID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	proj := bson.D{{Key: "request_body", Value: 0}, {Key: "response_body", Value: 0}, {Key: "request_headers", Value: 0}, {Key: "response_headers", Value: 0}}
	all, err := q.find(ctx, "find parked attempts", bson.D{{Key: "delivery_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetProjection(proj))
	if err != nil {
		return nil, err
	}
	var out []*jqlgate.PendingDelivery
	for _, a := range latestByDelivery(all) {
		ev := &eventDoc{ID: a.EventID, Type: a.Event}
		if f, err := q.Event(ctx, a.EventID); err == nil {
			ev.Accepted = f.Accepted
		}
		if p := pendingOf(ev, subID, a); p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// pendingOf describes the delivery of ev to subID given its latest
// attempt, or returns nil if that delivery finished.
func pendingOf(ev *eventDoc, subID string, last *jqlgate.Attempt) *jqlgate.PendingDelivery {
	p := &jqlgate.PendingDelivery{EventID: ev.ID, Event: ev.Type, SubscriptionID: subID,
		Status: jqlgate.StatusQueued, AcceptedAt: ev.Accepted.UTC(), NextAttemptAt: ev.Accepted.UTC()}
	if last == nil {
		return p
	}
	if last.Status != jqlgate.StatusResent {
		return nil
	}
	p.DeliveryID, p.Status, p.Attempts, p.Retries = last.DeliveryID, last.Status, last.Attempt, last.Attempt-1
	p.NextAttemptAt, p.LastAttemptAt = last.NextAttemptAt, last.CreatedAt
	p.LastResponseCode, p.LastError = last.ResponseCode, last.Error
	return p
}

// oldestWatermark returns the oldest watermark of any node, less
// pendingSlack; zero when no node has checkpointed.
func (q *DeliveryQuery) oldestWatermark(ctx context.Context) (time.Time, error) {
	cur, err := q.nodes.Find(Counted(ctx), bson.D{})
	if err != nil {
		return time.Time{}, translate("find nodes", err)
	}
	var nodes []Checkpoint
	if err := cur.All(ctx, &nodes); err != nil {
		return time.Time{}, translate("find nodes", err)
	}
	var oldest time.Time
	for _, n := range nodes {
		if oldest.IsZero() || n.Watermark.Before(oldest) {
			oldest = n.Watermark
		}
	}
	if oldest.IsZero() {
		return oldest, nil
	}
	return oldest.Add(-pendingSlack), nil
}

// targetEvents returns the events accepted at or after since that fan out
// to subID, newest first, without their data.
func (q *DeliveryQuery) targetEvents(ctx context.Context, subID string, since time.Time) ([]*eventDoc, error) {
	filter := bson.D{{Key: "targets", Value: subID}, {Key: "ts", Value: bson.D{{Key: "$gte", Value: since}}}}
	opts := options.Find().SetSort(bson.D{{Key: "ts", Value: -1}}).SetProjection(bson.D{{Key: "data", Value: 0}})
	cur, err := q.events.Find(Counted(ctx), filter, opts)
	if err != nil {
		return nil, translate("find pending events", err)
	}
	var docs []*eventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("find pending events", err)
	}
	return docs, nil
}
