package mongodb

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// RecordStore keeps the records of model namespaces, one collection per
// namespace. Records go in and come out as maps keyed by field name, with
// the record id under "id" (stored as _id). Creates share group commits.
type RecordStore struct {
	db   *mongo.Database
	opts BatcherOptions
	in   *intents
	// crashAt is a test's crash point (see stop); empty in production.
	crashAt string

	mu       sync.Mutex
	batchers map[string]*Batcher
	closed   bool
}

// NewRecordStore returns a store on db; opts tune its create batching.
func NewRecordStore(db *mongo.Database, opts BatcherOptions) *RecordStore {
	return &RecordStore{db: db, opts: opts, in: newIntents(db, opts), batchers: map[string]*Batcher{}}
}

// EnsureIndexes creates the indexes of a collection (idempotent).
func (s *RecordStore) EnsureIndexes(ctx context.Context, coll string, indexes []jqlgate.Index) error {
	models := make([]mongo.IndexModel, 0, len(indexes))
	for _, ix := range indexes {
		if ix.Search {
			// Searches are regular expressions over the documents; no
			// index of MongoDB's answers a case-insensitive substring.
			continue
		}
		keys := bson.D{}
		for _, f := range ix.Fields {
			keys = append(keys, bson.E{Key: storeField(f), Value: 1})
		}
		models = append(models, mongo.IndexModel{Keys: keys, Options: options.Index().SetUnique(ix.Unique)})
	}
	if len(models) == 0 {
		return nil
	}
	return EnsureIndexes(ctx, s.db.Collection(coll), "record indexes", models...)
}

// Insert stores a new record and returns once it is durable. A duplicate
// unique value is ECONFLICT.
func (s *RecordStore) Insert(ctx context.Context, coll string, rec map[string]any) error {
	b, err := s.batcher(coll)
	if err != nil {
		return err
	}
	return b.Insert(ctx, toDoc(rec))
}

func (s *RecordStore) batcher(coll string) (*Batcher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errBatcherClosed
	}
	b := s.batchers[coll]
	if b == nil {
		b = NewBatcher(s.db.Collection(coll), s.opts)
		s.batchers[coll] = b
	}
	return b, nil
}

// Get returns the record with id, or ENOTFOUND.
func (s *RecordStore) Get(ctx context.Context, coll, id string) (map[string]any, error) {
	var doc bson.D
	err := s.db.Collection(coll).FindOne(Counted(ctx), bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if err != nil {
		return nil, translate("record get", err)
	}
	return fromDoc(doc), nil
}

// Find returns the records q selects, in q's order (by id, along its
// index, when q has none).
func (s *RecordStore) Find(ctx context.Context, coll string, q *jqlgate.Query) ([]map[string]any, error) {
	opts := options.Find().SetSkip(int64(q.Offset)).SetSort(sortDoc(q.Ordering))
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	if len(q.Fields) > 0 {
		proj := bson.D{}
		for _, f := range q.Fields {
			proj = append(proj, bson.E{Key: storeField(f), Value: 1})
		}
		opts.SetProjection(proj)
	}
	cur, err := s.db.Collection(coll).Find(Counted(ctx), queryDoc(q), opts)
	if err != nil {
		return nil, translate("record find", err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("record find", err)
	}
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = fromDoc(d)
	}
	return out, nil
}

// Count returns how many records q's conditions select, ignoring its
// limit and offset. With no conditions it uses the collection's metadata.
func (s *RecordStore) Count(ctx context.Context, coll string, q *jqlgate.Query) (int, error) {
	c := s.db.Collection(coll)
	var n int64
	var err error
	switch f := queryDoc(q); {
	case len(f) > 0:
		n, err = c.CountDocuments(Counted(ctx), f)
	default:
		n, err = c.EstimatedDocumentCount(Counted(ctx))
	}
	return int(n), translate("record count", err)
}

// Update sets fields of the record with id and returns the record as it
// is after the update; ENOTFOUND when there is none, ECONFLICT when a
// unique value is taken.
func (s *RecordStore) Update(ctx context.Context, coll, id string, set map[string]any) (map[string]any, error) {
	var doc bson.D
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
	err := s.db.Collection(coll).FindOneAndUpdate(Counted(ctx), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: toDoc(set)}}, opts).Decode(&doc)
	if err != nil {
		return nil, translate("record update", err)
	}
	return fromDoc(doc), nil
}

// Delete removes the record with id and returns it as it was; ENOTFOUND
// when there is none.
func (s *RecordStore) Delete(ctx context.Context, coll, id string) (map[string]any, error) {
	var doc bson.D
	err := s.db.Collection(coll).FindOneAndDelete(Counted(ctx), bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if err != nil {
		return nil, translate("record delete", err)
	}
	return fromDoc(doc), nil
}

// Restore puts back a deleted record, bypassing the batcher (it is rare:
// it undoes a delete whose event could not be recorded).
func (s *RecordStore) Restore(ctx context.Context, coll string, rec map[string]any) error {
	_, err := s.db.Collection(coll).InsertOne(Counted(ctx), toDoc(rec))
	return translate("record restore", err)
}

// Close flushes pending creates and stops the batchers.
func (s *RecordStore) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	batchers := s.batchers
	s.batchers = map[string]*Batcher{}
	s.mu.Unlock()
	var first error
	for _, b := range batchers {
		if err := b.Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	if err := s.in.close(ctx); err != nil && first == nil {
		first = err
	}
	return first
}

func storeField(f string) string {
	if f == "id" {
		return "_id"
	}
	return f
}

func toDoc(rec map[string]any) bson.M {
	doc := make(bson.M, len(rec))
	for k, v := range rec {
		doc[storeField(k)] = v
	}
	return doc
}

// fromDoc turns a stored document into a record of plain Go values:
// maps, []any, time.Time (UTC), int64, float64, string, bool, nil. The
// write stamp (writeField) stays behind.
func fromDoc(d bson.D) map[string]any {
	rec := make(map[string]any, len(d))
	for _, e := range d {
		k := e.Key
		switch k {
		case "_id":
			k = "id"
		case writeField:
			continue
		}
		rec[k] = plain(e.Value)
	}
	return rec
}

func plain(v any) any {
	switch x := v.(type) {
	case bson.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Key] = plain(e.Value)
		}
		return m
	case bson.M:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case bson.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case bson.DateTime:
		return x.Time().UTC()
	case int32:
		return int64(x)
	case bson.ObjectID:
		return x.Hex()
	case time.Time:
		return x.UTC()
	}
	return v
}

// quoteRegex escapes s so a $regex matches it literally.
func quoteRegex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
