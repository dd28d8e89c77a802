package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// DeliveryQuery reads what DeliveryStore writes, for the operator views
// (webhook logs, queue, retries), off the hot path, through the indexes
// EnsureIndexes creates.
type DeliveryQuery struct {
	events   *mongo.Collection
	attempts *mongo.Collection
	nodes    *mongo.Collection
}

// NewDeliveryQuery returns the query side of the delivery store in db.
func NewDeliveryQuery(db *mongo.Database) *DeliveryQuery {
	return &DeliveryQuery{events: db.Collection("events"), attempts: db.Collection("attempts"), nodes: db.Collection("nodes")}
}

// EnsureIndexes creates the indexes the operator views use: attempts by
// subscription and time (one subscription's log, and an owner's: a $in over
// its subscriptions merges their ranges, newest first), by record and time
// (entityId), and by event; events by target subscription. The log of
// every subscription (operators) walks the created_at index retention
// makes (a TTL index where the server has one).
func (q *DeliveryQuery) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		{q.attempts, bson.D{{Key: "subscription_id", Value: 1}, {Key: "created_at", Value: -1}}},
		{q.attempts, bson.D{{Key: "event_id", Value: 1}}},
		{q.attempts, bson.D{{Key: "entity_id", Value: 1}, {Key: "created_at", Value: -1}}},
		{q.events, bson.D{{Key: "targets", Value: 1}, {Key: "ts", Value: 1}}},
	}
	for _, sp := range specs {
		if err := EnsureIndexes(ctx, sp.coll, "create delivery query indexes", mongo.IndexModel{Keys: sp.keys}); err != nil {
			return err
		}
	}
	return nil
}

// decodeAttempt reads an attempt document, with the marker of test events
// (a field the hot path's attempt documents never have).
func decodeAttempt(raw bson.Raw) (*jqlgate.Attempt, error) {
	var doc attemptDoc
	if err := bson.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	a := doc.attempt()
	a.Test, _ = raw.Lookup("test").BooleanOK()
	return a, nil
}

// InsertTestAttempt records the attempt at a test event, marked as such.
func (q *DeliveryQuery) InsertTestAttempt(ctx context.Context, a *jqlgate.Attempt) error {
	a.Test = true
	raw, err := bson.Marshal(toAttemptDoc(a))
	if err != nil {
		return jqlgate.Internal("insert test attempt", err)
	}
	var doc bson.D
	if err := bson.Unmarshal(raw, &doc); err != nil {
		return jqlgate.Internal("insert test attempt", err)
	}
	_, err = q.attempts.InsertOne(Counted(ctx), append(doc, bson.E{Key: "test", Value: true}))
	return translate("insert test attempt", err)
}

// Attempts returns one page of the attempts q selects, newest first, and
// how many it selects in all. An attempt after the first carries the
// request body of the first, since the store keeps it only there.
func (q *DeliveryQuery) Attempts(ctx context.Context, aq jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int, error) {
	filter := attemptFilter(aq)
	total, err := q.attempts.CountDocuments(Counted(ctx), filter)
	if err != nil {
		return nil, 0, translate("count attempts", err)
	}
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).
		SetSkip(int64(aq.Offset)).SetLimit(int64(aq.Limit))
	out, err := q.find(ctx, "find attempts", filter, opts)
	if err != nil {
		return nil, 0, err
	}
	return out, int(total), q.fillBodies(ctx, out)
}

func attemptFilter(aq jqlgate.AttemptQuery) bson.D {
	f := bson.D{}
	switch {
	case aq.SubscriptionID != "":
		f = bson.D{{Key: "subscription_id", Value: aq.SubscriptionID}}
	case !aq.AllSubscriptions:
		ids := aq.SubscriptionIDs
		if ids == nil {
			ids = []string{}
		}
		f = bson.D{{Key: "subscription_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	}
	if len(aq.Statuses) > 0 {
		f = append(f, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: aq.Statuses}}})
	}
	for key, v := range map[string]string{"event": aq.Event, "event_id": aq.EventID, "delivery_id": aq.DeliveryID, "entity_id": aq.EntityID} {
		if v != "" {
			f = append(f, bson.E{Key: key, Value: v})
		}
	}
	var at bson.D
	if !aq.Since.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: aq.Since})
	}
	if !aq.Until.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: aq.Until})
	}
	if len(at) > 0 {
		f = append(f, bson.E{Key: "created_at", Value: at})
	}
	return f
}

func (q *DeliveryQuery) find(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]*jqlgate.Attempt, error) {
	cur, err := q.attempts.Find(Counted(ctx), filter, opts)
	if err != nil {
		return nil, translate(op, err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(op, err)
	}
	out := make([]*jqlgate.Attempt, len(docs))
	for i, raw := range docs {
		if out[i], err = decodeAttempt(raw); err != nil {
			return nil, jqlgate.Internal(op, err)
		}
	}
	return out, nil
}

// fillBodies copies the request body of each delivery's first attempt into
// its later attempts in page.
func (q *DeliveryQuery) fillBodies(ctx context.Context, page []*jqlgate.Attempt) error {
	var ids []string
	for _, a := range page {
		if a.RequestBody == "" && a.Attempt > 1 {
			ids = append(ids, a.DeliveryID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	filter := bson.D{{Key: "delivery_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "attempt", Value: 1}}
	firsts, err := q.find(ctx, "find first attempts", filter, options.Find().SetProjection(bson.D{{Key: "delivery_id", Value: 1}, {Key: "request_body", Value: 1}}))
	if err != nil {
		return err
	}
	bodies := make(map[string]string, len(firsts))
	for _, f := range firsts {
		if f.RequestBody != "" {
			bodies[f.DeliveryID] = f.RequestBody
		}
	}
	for _, a := range page {
		if a.RequestBody == "" && a.Attempt > 1 {
			a.RequestBody = bodies[a.DeliveryID]
		}
	}
	return nil
}

// LatestAttempt returns the latest attempt at a delivery; ENOTFOUND if it
// has none.
func (q *DeliveryQuery) LatestAttempt(ctx context.Context, deliveryID string) (*jqlgate.Attempt, error) {
	opts := options.Find().SetSort(bson.D{{Key: "attempt", Value: -1}, {Key: "created_at", Value: -1}}).SetLimit(1)
	out, err := q.find(ctx, "find latest attempt", bson.D{{Key: "delivery_id", Value: deliveryID}}, opts)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Delivery not found.", Op: "find latest attempt"}
	}
	return out[0], nil
}

// Event returns an accepted event with its targets; ENOTFOUND if it is not
// (or no longer) stored.
func (q *DeliveryQuery) Event(ctx context.Context, id string) (*jqlgate.Fanout, error) {
	var doc eventDoc
	if err := q.events.FindOne(Counted(ctx), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		return nil, translate("find event", err)
	}
	return doc.fanout(), nil
}

// FailedSince returns the latest attempt of every delivery to subID that
// ended Failed at or after since (test attempts excepted).
func (q *DeliveryQuery) FailedSince(ctx context.Context, subID string, since time.Time) ([]*jqlgate.Attempt, error) {
	filter := bson.D{{Key: "subscription_id", Value: subID}, {Key: "created_at", Value: bson.D{{Key: "$gte", Value: since}}}}
	all, err := q.find(ctx, "find failed attempts", filter, options.Find().SetProjection(bson.D{{Key: "request_body", Value: 0}, {Key: "response_body", Value: 0}}))
	if err != nil {
		return nil, err
	}
	var out []*jqlgate.Attempt
	for _, a := range latestByDelivery(all) {
		if a.Status == jqlgate.StatusFailed {
			out = append(out, a)
		}
	}
	return out, nil
}

// latestByDelivery keeps the latest attempt of each delivery, in the order
// the deliveries first appear; test attempts are left out.
func latestByDelivery(attempts []*jqlgate.Attempt) []*jqlgate.Attempt {
	pos := map[string]int{}
	var out []*jqlgate.Attempt
	for _, a := range attempts {
		if a.Test {
			continue
		}
		i, ok := pos[a.DeliveryID]
		if !ok {
			pos[a.DeliveryID] = len(out)
			out = append(out, a)
			continue
		}
		if p := out[i]; a.Attempt > p.Attempt || a.Attempt == p.Attempt && a.CreatedAt.After(p.CreatedAt) {
			out[i] = a
		}
	}
	return out
}

// Health returns the health of each subscription in subIDs: its latest
// Done attempt, its latest Resent or Failed one, and its latest
// jqlgate.HealthSample attempts (test sends left out), each a query along
// the (subscription_id, created_at) index.
func (q *DeliveryQuery) Health(ctx context.Context, subIDs []string) (map[string]*jqlgate.WebhookHealth, error) {
	out := make(map[string]*jqlgate.WebhookHealth, len(subIDs))
	newest := bson.D{{Key: "created_at", Value: -1}}
	noBodies := bson.D{{Key: "request_body", Value: 0}, {Key: "response_body", Value: 0}, {Key: "request_headers", Value: 0}, {Key: "response_headers", Value: 0}}
	one := func(sub string, statuses ...string) (*jqlgate.Attempt, error) {
		f := bson.D{{Key: "subscription_id", Value: sub}, {Key: "status", Value: bson.D{{Key: "$in", Value: statuses}}}, {Key: "test", Value: bson.D{{Key: "$ne", Value: true}}}}
		as, err := q.find(ctx, "webhook health", f, options.Find().SetSort(newest).SetLimit(1).SetProjection(noBodies))
		if err != nil || len(as) == 0 {
			return nil, err
		}
		return as[0], nil
	}
	for _, sub := range subIDs {
		f := bson.D{{Key: "subscription_id", Value: sub}, {Key: "test", Value: bson.D{{Key: "$ne", Value: true}}}}
		outcome := bson.D{{Key: "status", Value: 1}, {Key: "created_at", Value: 1}, {Key: "response_code", Value: 1}, {Key: "error", Value: 1}, {Key: "subscription_id", Value: 1}}
		recent, err := q.find(ctx, "webhook health", f, options.Find().SetSort(newest).SetLimit(jqlgate.HealthSample).SetProjection(outcome))
		if err != nil {
			return nil, err
		}
		// The latest success and failure are usually among the recent
		// attempts; only a missing one is looked up.
		done, failure := jqlgate.LatestOutcomes(recent)
		if done == nil && len(recent) == jqlgate.HealthSample {
			if done, err = one(sub, jqlgate.StatusDone); err != nil {
				return nil, err
			}
		}
		if failure == nil && len(recent) == jqlgate.HealthSample {
			if failure, err = one(sub, jqlgate.StatusResent, jqlgate.StatusFailed); err != nil {
				return nil, err
			}
		}
		out[sub] = jqlgate.NewWebhookHealth(sub, done, failure, recent)
	}
	return out, nil
}
