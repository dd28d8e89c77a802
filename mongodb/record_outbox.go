package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
)

// This file is the record store's transactional outbox (model.TxStore):
// each write stores its events through an intent (see intent.go), so a
// crash at any instant leaves both the record change and its events, or
// neither.

// errChanged answers a write that lost a race with another process's write
// of the same record.
func errChanged(op string) error {
	return jqlgate.Errorf(jqlgate.ECONFLICT, "%s: the record changed while it was being written; send the request again", op)
}

// lostRace answers a write whose version check matched nothing: the record
// is gone (ENOTFOUND) or another process changed it first (ECONFLICT).
func (s *RecordStore) lostRace(ctx context.Context, c *mongo.Collection, id, op string) error {
	n, err := c.CountDocuments(Counted(ctx), bson.D{{Key: "_id", Value: id}})
	switch {
	case err != nil:
		return translate(op, err)
	case n == 0:
		return jqlgate.Errorf(jqlgate.ENOTFOUND, "%s: no record has the id %s", op, id)
	}
	return errChanged(op)
}

// crashed answers a write stopped by a crash point (tests only).
var crashed = jqlgate.Errorf(jqlgate.EUNAVAILABLE, "crash point")

// stop reports whether a test's crash point stops the write after stage
// ("intent": the intent is stored; "record": the record is written too),
// leaving everything as a process that died there would.
func (s *RecordStore) stop(stage string) bool { return s.crashAt == stage }

// InsertWithEvents stores a new record and the events out gives it; a
// duplicate unique value is ECONFLICT and stores no event.
func (s *RecordStore) InsertWithEvents(ctx context.Context, coll string, rec map[string]any, out *jqlgate.Outbox) (err error) {
	var fans []*jqlgate.Fanout
	defer func() { out.Done(fans, err) }()
	id, _ := rec["id"].(string)
	if id == "" {
		return jqlgate.Errorf(jqlgate.EINVALID, "record insert: the record has no id")
	}
	b, err := s.batcher(coll)
	if err != nil {
		return err
	}
	fans = out.Fan(out.Events(nil, rec))
	w, err := s.in.begin(ctx, opInsert, coll, id, nil, fans)
	if err != nil {
		return err
	}
	if s.stop("intent") {
		return crashed
	}
	doc := toDoc(rec)
	doc[writeField] = w
	if err := b.Insert(ctx, doc); err != nil {
		s.in.forget(w)
		return err
	}
	if s.stop("record") {
		return crashed
	}
	if err := s.in.finish(ctx, w, fans); err != nil {
		// Undo the record; if even that fails the intent stays, and
		// recovery stores the events.
		if _, derr := s.db.Collection(coll).DeleteOne(Counted(ctx), bson.D{{Key: "_id", Value: id}, {Key: writeField, Value: w}}); derr == nil {
			s.in.forget(w)
		}
		return err
	}
	return nil
}

// UpdateWithEvents sets fields of the record with id, stores the events
// out gives the change, and returns the record as it is after it.
func (s *RecordStore) UpdateWithEvents(ctx context.Context, coll, id string, set map[string]any, out *jqlgate.Outbox) (after map[string]any, err error) {
	var fans []*jqlgate.Fanout
	defer func() { out.Done(fans, err) }()
	defer s.in.lock(coll, id)()
	c := s.db.Collection(coll)
	var prev bson.D
	if err := c.FindOne(Counted(ctx), bson.D{{Key: "_id", Value: id}}).Decode(&prev); err != nil {
		return nil, translate("record update", err)
	}
	upd := toDoc(set)
	after, err = applySet(prev, upd)
	if err != nil {
		return nil, err
	}
	fans = out.Fan(out.Events(fromDoc(prev), after))
	w, err := s.in.begin(ctx, opUpdate, coll, id, prev, fans)
	if err != nil {
		return nil, err
	}
	if s.stop("intent") {
		return nil, crashed
	}
	upd[writeField] = w
	res, err := c.UpdateOne(Counted(ctx), versionFilter(id, prev), bson.D{{Key: "$set", Value: upd}})
	if err != nil || res.MatchedCount == 0 {
		s.in.forget(w)
		if err != nil {
			return nil, translate("record update", err)
		}
		return nil, s.lostRace(ctx, c, id, "record update")
	}
	if s.stop("record") {
		return nil, crashed
	}
	if err := s.in.finish(ctx, w, fans); err != nil {
		if _, rerr := c.ReplaceOne(Counted(ctx), bson.D{{Key: "_id", Value: id}, {Key: writeField, Value: w}}, prev); rerr == nil {
			s.in.forget(w)
		}
		return nil, err
	}
	return after, nil
}

// DeleteWithEvents removes the record with id, stores the events out
// gives its removal, and returns the record as it was.
func (s *RecordStore) DeleteWithEvents(ctx context.Context, coll, id string, out *jqlgate.Outbox) (before map[string]any, err error) {
	var fans []*jqlgate.Fanout
	defer func() { out.Done(fans, err) }()
	defer s.in.lock(coll, id)()
	c := s.db.Collection(coll)
	var prev bson.D
	if err := c.FindOne(Counted(ctx), bson.D{{Key: "_id", Value: id}}).Decode(&prev); err != nil {
		return nil, translate("record delete", err)
	}
	before = fromDoc(prev)
	fans = out.Fan(out.Events(before, nil))
	w, err := s.in.begin(ctx, opDelete, coll, id, prev, fans)
	if err != nil {
		return nil, err
	}
	if s.stop("intent") {
		return nil, crashed
	}
	res, err := c.DeleteOne(Counted(ctx), versionFilter(id, prev))
	if err != nil || res.DeletedCount == 0 {
		s.in.forget(w)
		if err != nil {
			return nil, translate("record delete", err)
		}
		return nil, s.lostRace(ctx, c, id, "record delete")
	}
	if s.stop("record") {
		return nil, crashed
	}
	if err := s.in.finish(ctx, w, fans); err != nil {
		if _, rerr := c.InsertOne(Counted(ctx), prev); rerr == nil {
			s.in.forget(w)
		}
		return nil, err
	}
	return before, nil
}

// applySet returns the record prev becomes under $set of upd, in the
// plain values a read of it would give.
func applySet(prev bson.D, upd bson.M) (map[string]any, error) {
	next := make(bson.D, 0, len(prev)+len(upd))
	seen := make(map[string]bool, len(upd))
	for _, e := range prev {
		if v, ok := upd[e.Key]; ok {
			e.Value, seen[e.Key] = v, true
		}
		next = append(next, e)
	}
	for k, v := range upd {
		if !seen[k] {
			next = append(next, bson.E{Key: k, Value: v})
		}
	}
	raw, err := bson.Marshal(next)
	if err != nil {
		return nil, jqlgate.Errorf(jqlgate.EINVALID, "record update: %v", err)
	}
	var back bson.D
	if err := bson.Unmarshal(raw, &back); err != nil {
		return nil, jqlgate.Errorf(jqlgate.EINTERNAL, "record update: %v", err)
	}
	return fromDoc(back), nil
}
