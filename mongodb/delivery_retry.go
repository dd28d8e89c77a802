package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// inBatch bounds the ids of one $in query.
const inBatch = 500

// DueRetries returns node's Resent attempts whose next attempt falls in
// [from, to): the retries the dispatcher keeps only in the store until
// they are nearly due.
func (s *DeliveryStore) DueRetries(ctx context.Context, node string, from, to time.Time) ([]*jqlgate.Attempt, error) {
	filter := bson.D{{Key: "node", Value: node},
		{Key: "next_attempt_at", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}},
		{Key: "status", Value: jqlgate.StatusResent}}
	return s.findAttempts(ctx, "find due retries", filter, attemptSummary())
}

// LatestAttempts returns the latest attempt at each of the given
// deliveries that has one.
func (s *DeliveryStore) LatestAttempts(ctx context.Context, deliveryIDs []string) ([]*jqlgate.Attempt, error) {
	latest := map[string]*jqlgate.Attempt{}
	for ids := range chunks(deliveryIDs) {
		filter := bson.D{{Key: "delivery_id", Value: bson.D{{Key: "$in", Value: ids}}}}
		as, err := s.findAttempts(ctx, "find latest attempts", filter, attemptSummary())
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if p := latest[a.DeliveryID]; p == nil || a.Attempt > p.Attempt {
				latest[a.DeliveryID] = a
			}
		}
	}
	out := make([]*jqlgate.Attempt, 0, len(latest))
	for _, a := range latest {
		out = append(out, a)
	}
	return out, nil
}

// EventsByID returns the stored events among ids.
func (s *DeliveryStore) EventsByID(ctx context.Context, ids []string) ([]*jqlgate.Fanout, error) {
	var out []*jqlgate.Fanout
	for batch := range chunks(ids) {
		cur, err := s.events.Find(Counted(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: batch}}}})
		if err != nil {
			return nil, translate("find events", err)
		}
		var docs []eventDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, translate("find events", err)
		}
		for i := range docs {
			out = append(out, docs[i].fanout())
		}
	}
	return out, nil
}

func (s *DeliveryStore) findAttempts(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]*jqlgate.Attempt, error) {
	cur, err := s.attempts.Find(Counted(ctx), filter, opts)
	if err != nil {
		return nil, translate(op, err)
	}
	var docs []attemptDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(op, err)
	}
	out := make([]*jqlgate.Attempt, len(docs))
	for i := range docs {
		out[i] = docs[i].attempt()
	}
	return out, nil
}

// attemptSummary leaves out the bodies and headers, which scheduling does
// not need.
func attemptSummary() *options.FindOptionsBuilder {
	return options.Find().SetProjection(bson.D{{Key: "request_body", Value: 0}, {Key: "response_body", Value: 0},
		{Key: "request_headers", Value: 0}, {Key: "rh_derived", Value: 0}, {Key: "response_headers", Value: 0}})
}

// chunks yields ids in slices of at most inBatch.
func chunks(ids []string) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			n := min(len(ids), inBatch)
			if !yield(ids[:n]) {
				return
			}
			ids = ids[n:]
		}
	}
}

// Checkpoint records that node is alive, its watermark (recovery reads
// events and attempts from there) and its retry floor (recovery reads
// Resent attempts due from there).
func (s *DeliveryStore) Checkpoint(ctx context.Context, node string, watermark, floor time.Time) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "heartbeat", Value: time.Now().UTC()},
		{Key: "watermark", Value: watermark.UTC()}, {Key: "floor", Value: floor.UTC()}}}}
	_, err := s.nodes.UpdateOne(Counted(ctx), bson.D{{Key: "_id", Value: node}}, update, options.UpdateOne().SetUpsert(true))
	return translate("checkpoint", err)
}

// LoadCheckpoint returns node's watermark and retry floor, zero when the
// node never checkpointed (or, for the floor, predates it).
func (s *DeliveryStore) LoadCheckpoint(ctx context.Context, node string) (watermark, floor time.Time, err error) {
	cp, err := s.node(ctx, node)
	if err != nil || cp == nil {
		return time.Time{}, time.Time{}, err
	}
	return cp.Watermark.UTC(), cp.Floor.UTC(), nil
}
