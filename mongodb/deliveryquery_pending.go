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

// Pending returns the unfinished deliveries to subID, newest event first.
func (q *DeliveryQuery) Pending(ctx context.Context, subID string) ([]*jqlgate.PendingDelivery, error) {
	return q.PendingTo(ctx, []string{subID}, false)
}

// PendingTo returns the unfinished deliveries to any of subIDs (to every
// subscription when all is true), newest event first: the events that
// fanned out to them and whose latest attempt at each is neither Done nor
// Failed. Every unfinished delivery belongs to an event accepted at or
// after its node's watermark, so only events from the oldest watermark of
// any node on are read, plus the retries parked in the store beyond it
// (see parkedRetries). Queued deliveries have no attempt yet and so no
// DeliveryID here; the dispatcher derives it.
func (q *DeliveryQuery) PendingTo(ctx context.Context, subIDs []string, all bool) ([]*jqlgate.PendingDelivery, error) {
	if !all && len(subIDs) == 0 {
		return nil, nil
	}
	since, err := q.oldestWatermark(ctx)
	if err != nil {
		return nil, err
	}
	want := func(string) bool { return true }
	if !all {
		set := make(map[string]bool, len(subIDs))
		for _, id := range subIDs {
			set[id] = true
		}
		want = func(id string) bool { return set[id] }
	}
	events, err := q.targetEvents(ctx, subIDs, all, since)
	if err != nil || len(events) == 0 {
		return nil, err
	}
	filter := append(subFilter(subIDs, all), bson.E{Key: "created_at", Value: bson.D{{Key: "$gte", Value: since}}})
	attempts, err := q.find(ctx, "find pending attempts", filter, options.Find().SetProjection(slimAttempt))
	if err != nil {
		return nil, err
	}
	latest := map[[2]string]*jqlgate.Attempt{}
	for _, a := range latestByDelivery(attempts) {
		latest[[2]string{a.EventID, a.SubscriptionID}] = a
	}
	var out []*jqlgate.PendingDelivery
	seen := map[[2]string]bool{}
	for _, ev := range events {
		for _, sub := range ev.Targets {
			if !want(sub) || seen[[2]string{ev.ID, sub}] {
				continue
			}
			seen[[2]string{ev.ID, sub}] = true
			if p := pendingOf(ev, sub, latest[[2]string{ev.ID, sub}]); p != nil {
				out = append(out, p)
			}
		}
	}
	parked, err := q.parkedRetries(ctx, subIDs, all, since, seen)
	return append(out, parked...), err
}

// slimAttempt leaves the bodies and headers out of attempts read for the
// queue.
var slimAttempt = bson.D{{Key: "request_body", Value: 0}, {Key: "response_body", Value: 0}, {Key: "request_headers", Value: 0}, {Key: "rh_derived", Value: 0}, {Key: "response_headers", Value: 0}}

// subFilter selects documents of subscription_id among subIDs, or all.
func subFilter(subIDs []string, all bool) bson.D {
	switch {
	case all:
		return bson.D{}
	case len(subIDs) == 1:
		return bson.D{{Key: "subscription_id", Value: subIDs[0]}}
	}
	return bson.D{{Key: "subscription_id", Value: bson.D{{Key: "$in", Value: subIDs}}}}
}

// parkedRetries returns the deliveries of events older than since that
// wait for a retry: a dispatcher may keep a retry due far ahead only in the
// store, without holding its watermark back for it.
func (q *DeliveryQuery) parkedRetries(ctx context.Context, subIDs []string, all bool, since time.Time, seen map[[2]string]bool) ([]*jqlgate.PendingDelivery, error) {
	filter := append(subFilter(subIDs, all), bson.E{Key: "status", Value: jqlgate.StatusResent},
		bson.E{Key: "next_attempt_at", Value: bson.D{{Key: "$gte", Value: since}}})
	resent, err := q.find(ctx, "find parked retries", filter, options.Find().SetProjection(bson.D{{Key: "delivery_id", Value: 1}, {Key: "event_id", Value: 1}, {Key: "subscription_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range resent {
		if k := [2]string{a.EventID, a.SubscriptionID}; !seen[k] {
			seen[k] = true
			ids = append(ids, a.DeliveryID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	attempts, err := q.find(ctx, "find parked attempts", bson.D{{Key: "delivery_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetProjection(slimAttempt))
	if err != nil {
		return nil, err
	}
	var out []*jqlgate.PendingDelivery
	for _, a := range latestByDelivery(attempts) {
		ev := &eventDoc{ID: a.EventID, Type: a.Event, EntityID: a.EntityID}
		if f, err := q.Event(ctx, a.EventID); err == nil {
			ev.Accepted, ev.EntityID = f.Accepted, f.Event.EntityID
		}
		if p := pendingOf(ev, a.SubscriptionID, a); p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// pendingOf describes the delivery of ev to subID given its latest
// attempt, or returns nil if that delivery finished.
func pendingOf(ev *eventDoc, subID string, last *jqlgate.Attempt) *jqlgate.PendingDelivery {
	p := &jqlgate.PendingDelivery{EventID: ev.ID, Event: ev.Type, EntityID: ev.EntityID, SubscriptionID: subID,
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
// to any of subIDs (or to any subscription, when all), newest first,
// without their data.
func (q *DeliveryQuery) targetEvents(ctx context.Context, subIDs []string, all bool, since time.Time) ([]*eventDoc, error) {
	filter := bson.D{{Key: "ts", Value: bson.D{{Key: "$gte", Value: since}}}}
	switch {
	case all:
	case len(subIDs) == 1:
		filter = append(filter, bson.E{Key: "targets", Value: subIDs[0]})
	default:
		filter = append(filter, bson.E{Key: "targets", Value: bson.D{{Key: "$in", Value: subIDs}}})
	}
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
