package mongodb

import (
	"context"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// This file holds what `jqlgate store export` and `import` need beyond the
// stores' ordinary methods: complete reads in keyset pages by _id, so a
// store of any size exports in bounded memory, and batched writes that
// keep every field as it was exported.

// fixedCollections are the store's own collections; every other one is a
// record collection.
var fixedCollections = map[string]bool{
	"auth_clients": true, "auth_api_keys": true, "auth_users": true, "auth_signing_keys": true, RevokedTokenCollection: true,
	SubscriptionCollection: true, MetaCollection: true, TrustedSiteCollection: true,
	"events": true, "attempts": true, "nodes": true, IntentCollection: true,
}

// Collections returns the names of the record collections, sorted.
func (s *RecordStore) Collections(ctx context.Context) ([]string, error) {
	names, err := s.db.ListCollectionNames(Counted(ctx), bson.D{})
	if err != nil {
		return nil, translate("record collections", err)
	}
	var out []string
	for _, n := range names {
		if !fixedCollections[n] && !strings.HasPrefix(n, "system.") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// afterID is the filter of the documents whose _id sorts after after.
func afterID(after string) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
}

func pageOpts(limit int) *options.FindOptionsBuilder {
	return options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit))
}

// RecordsAfter returns up to limit records of coll whose id sorts after
// after ("" for the first page), by id.
func (s *RecordStore) RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error) {
	cur, err := s.db.Collection(coll).Find(Counted(ctx), afterID(after), pageOpts(limit))
	if err != nil {
		return nil, translate("record page", err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("record page", err)
	}
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = fromDoc(d)
	}
	return out, nil
}

// InsertRecords stores recs in coll in one batch; a duplicate id or
// unique value is ECONFLICT (the others are stored).
func (s *RecordStore) InsertRecords(ctx context.Context, coll string, recs []map[string]any) error {
	if len(recs) == 0 {
		return nil
	}
	docs := make([]any, len(recs))
	for i, r := range recs {
		docs[i] = toDoc(r)
	}
	_, err := s.db.Collection(coll).InsertMany(Counted(ctx), docs, options.InsertMany().SetOrdered(false))
	return translate("record import", err)
}

// EventsAfter returns up to limit stored events whose id sorts after after
// ("" for the first page), by id.
func (s *DeliveryStore) EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error) {
	cur, err := s.events.Find(Counted(ctx), afterID(after), pageOpts(limit))
	if err != nil {
		return nil, translate("event page", err)
	}
	var docs []eventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("event page", err)
	}
	out := make([]*jqlgate.Fanout, len(docs))
	for i := range docs {
		out[i] = docs[i].fanout()
	}
	return out, nil
}

// AttemptsAfter returns up to limit attempts whose id sorts after after
// ("" for the first page), by id, test attempts (Test set) among them.
func (s *DeliveryStore) AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error) {
	cur, err := s.attempts.Find(Counted(ctx), afterID(after), pageOpts(limit))
	if err != nil {
		return nil, translate("attempt page", err)
	}
	var raws []bson.Raw
	if err := cur.All(ctx, &raws); err != nil {
		return nil, translate("attempt page", err)
	}
	out := make([]*jqlgate.Attempt, len(raws))
	for i, raw := range raws {
		var d attemptDoc
		var mark struct {
			Test bool `bson:"test"`
		}
		if err := bson.Unmarshal(raw, &d); err != nil {
			return nil, jqlgate.Internal("attempt page", err)
		}
		if err := bson.Unmarshal(raw, &mark); err != nil {
			return nil, jqlgate.Internal("attempt page", err)
		}
		out[i] = d.attempt()
		out[i].Test = mark.Test
	}
	return out, nil
}

// ImportAttempts stores attempts as they are, test attempts marked as
// such, in one batch; one already stored is ECONFLICT (the others are
// stored).
func (s *DeliveryStore) ImportAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error {
	if len(attempts) == 0 {
		return nil
	}
	docs := make([]any, len(attempts))
	for i, a := range attempts {
		raw, err := bson.Marshal(toAttemptDoc(a))
		if err != nil {
			return jqlgate.Internal("import attempts", err)
		}
		var doc bson.D
		if err := bson.Unmarshal(raw, &doc); err != nil {
			return jqlgate.Internal("import attempts", err)
		}
		if a.Test {
			doc = append(doc, bson.E{Key: "test", Value: true})
		}
		docs[i] = doc
	}
	_, err := s.attempts.InsertMany(Counted(ctx), docs, options.InsertMany().SetOrdered(false))
	return translate("import attempts", err)
}

// PutNodeState stores a node's checkpoint as it is; a node already there
// is ECONFLICT.
func (s *DeliveryStore) PutNodeState(ctx context.Context, st jqlgate.NodeState) error {
	cp := Checkpoint{Node: st.Node, Owner: st.Owner, Epoch: st.Epoch, Heartbeat: st.Heartbeat.UTC(),
		Watermark: st.Watermark.UTC(), Floor: st.Floor.UTC()}
	_, err := s.nodes.InsertOne(Counted(ctx), cp)
	return translate("import node "+st.Node, err)
}
