package mongodb

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// A record write and the events it emits are two documents in two
// collections, and MongoDB commits one document at a time unless it runs a
// multi-document transaction, which needs a replica set and which the
// embedded test engine does not have. So a write with events is a redo
// record instead (this file):
//
//  1. an intent, in the small "intents" collection, names the write (its
//     id, node, collection, record and operation) and holds its events
//     exactly as they will be stored;
//  2. the record is written, stamped with the intent's id in its "_w"
//     field (a create or update; a delete removes it);
//  3. the events are stored, and the intent is deleted (in the background:
//     a leftover one is harmless).
//
// The write is acknowledged only after 3. When a process dies between 1
// and 3, the recovery of its node (DeliveryStore.EventsSince, which the
// dispatcher calls when it starts or adopts a node, before any of the
// node's events are read) finishes each intent it left: if the record
// shows the write (a create's record exists, an update's record carries
// the intent's id, a delete's record is gone) the events are stored (again
// is harmless: their ids are unique); if not, the write never happened and
// the intent is dropped. Either both the record change and its events
// exist, or neither does.
//
// A dead process's write may still be applied after it died (the server
// had received it). So recovery judges an intent only once it is
// intentSettle old, and fences an update or delete it finds not applied
// (the record's stamp moves on, so the late write matches nothing).
//
// Updates and deletes read the record first (the events need it as it
// was) and then write only if it is still that version (its "_w"), so two
// writers of one record never interleave: in one process they take turns
// on a lock per record; across processes the second is ECONFLICT. One
// case is not covered: after a crash, another process updates the same
// record again before the crashed node is recovered; the intent's update
// then looks unapplied and its events are dropped.

// IntentCollection holds the intents of writes in flight.
const IntentCollection = "intents"

// writeField stamps each record with the id of the write that last changed
// it; it is never shown to clients.
const writeField = "_w"

type intentDoc struct {
	ID     string `bson:"_id"`
	Node   string `bson:"node"`
	Coll   string `bson:"coll"`
	Op     string `bson:"op"`
	Record string `bson:"record"`
	// Prev is the record's write stamp the update or delete expects
	// (absent when the record had none).
	Prev   any        `bson:"prev,omitempty"`
	Events []eventDoc `bson:"events"`
	At     time.Time  `bson:"at"`
}

// intentSettle is how long after its intent a dead process's record write
// may still be applied by the server (it was sent, the process is gone,
// the server is slow): recovery judges an intent only once it is this old,
// so a write that lands late is not taken for one that never happened.
// Updates and deletes are also fenced (see resolveIntents); a create the
// server applies later still than this would be left without its event.
var intentSettle = 5 * time.Second

const (
	opInsert = "insert"
	opUpdate = "update"
	opDelete = "delete"
)

// intents is the write side of the intents: group-committed inserts, and
// deletes gathered in the background.
type intents struct {
	db     *mongo.Database
	coll   *mongo.Collection
	batch  *Batcher
	events *Batcher

	done    chan string
	stopped chan struct{}
	once    sync.Once

	seed  maphash.Seed
	locks [256]sync.Mutex
}

func newIntents(db *mongo.Database, opts BatcherOptions) *intents {
	in := &intents{
		db: db, coll: db.Collection(IntentCollection),
		done: make(chan string, 4096), stopped: make(chan struct{}), seed: maphash.MakeSeed(),
	}
	in.batch = NewBatcher(in.coll, opts)
	in.events = NewBatcher(db.Collection("events"), opts)
	go in.reap()
	return in
}

// lock serializes this process's writes of one record.
func (in *intents) lock(coll, id string) func() {
	m := &in.locks[maphash.String(in.seed, coll+"\x00"+id)%uint64(len(in.locks))]
	m.Lock()
	return m.Unlock
}

// begin stores the intent of a write of record id in coll with fans'
// events and returns the intent's id (the record's new "_w"); prev is the
// record as read before an update or delete (nil for a create).
func (in *intents) begin(ctx context.Context, op, coll, id string, prev bson.D, fans []*jqlgate.Fanout) (string, error) {
	doc := intentDoc{ID: jqlgate.NewID("wri"), Coll: coll, Op: op, Record: id, Prev: stampOf(prev), At: time.Now().UTC()}
	for _, f := range fans {
		doc.Events = append(doc.Events, toEventDoc(f))
		doc.Node = f.Node
	}
	if err := in.batch.Insert(ctx, doc); err != nil {
		return "", err
	}
	return doc.ID, nil
}

// finish stores fans' events; the intent goes once they are stored.
func (in *intents) finish(ctx context.Context, intent string, fans []*jqlgate.Fanout) error {
	docs := make([]any, len(fans))
	for i, f := range fans {
		docs[i] = toEventDoc(f)
	}
	if err := in.events.InsertMany(ctx, docs); err != nil {
		return err
	}
	in.forget(intent)
	return nil
}

// forget deletes an intent in the background. If the process stops before
// it is deleted, recovery finds the write done and stores nothing new.
func (in *intents) forget(intent string) {
	select {
	case in.done <- intent:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = in.coll.DeleteOne(Counted(ctx), bson.D{{Key: "_id", Value: intent}})
	}
}

// reap deletes finished intents in batches.
func (in *intents) reap() {
	defer close(in.stopped)
	var ids []string
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(ids) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = in.coll.DeleteMany(Counted(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		ids = ids[:0]
	}
	for {
		select {
		case id, ok := <-in.done:
			if !ok {
				flush()
				return
			}
			if ids = append(ids, id); len(ids) >= 256 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

func (in *intents) close(ctx context.Context) error {
	err := in.batch.Close(ctx)
	if eerr := in.events.Close(ctx); err == nil {
		err = eerr
	}
	in.once.Do(func() { close(in.done) })
	select {
	case <-in.stopped:
	case <-ctx.Done():
	}
	return err
}

// resolveIntents finishes the intents node left (see the top of this
// file) and returns how many it found. It must run only while node has no
// write in flight: when its process starts, or after another adopted it.
// It first waits until the youngest intent is intentSettle old. An update
// or delete found not to have happened is fenced: the record's stamp moves
// on, so the write, should it arrive after all, matches nothing.
func resolveIntents(ctx context.Context, db *mongo.Database, node string) (int, error) {
	coll := db.Collection(IntentCollection)
	cur, err := coll.Find(Counted(ctx), bson.D{{Key: "node", Value: node}})
	if err != nil {
		return 0, translate("read intents", err)
	}
	var docs []intentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, translate("read intents", err)
	}
	var youngest time.Time
	for _, d := range docs {
		if d.At.After(youngest) {
			youngest = d.At
		}
	}
	if wait := time.Until(youngest.Add(intentSettle)); len(docs) > 0 && wait > 0 {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
	}
	events := db.Collection("events")
	for _, d := range docs {
		applied, err := intentApplied(ctx, db, &d)
		if err != nil {
			return 0, err
		}
		if !applied && d.Op != opInsert {
			fence := bson.D{{Key: "$set", Value: bson.D{{Key: writeField, Value: "void_" + d.ID}}}}
			if _, err := db.Collection(d.Coll).UpdateOne(Counted(ctx), stampFilter(d.Record, d.Prev), fence); err != nil {
				return 0, translate("fence an intent's record", err)
			}
		}
		if applied {
			for _, ev := range d.Events {
				if _, err := events.InsertOne(Counted(ctx), ev); err != nil && !mongo.IsDuplicateKeyError(err) &&
					jqlgate.ErrorCode(translate("", err)) != jqlgate.ECONFLICT {
					return 0, translate("store an intent's event", err)
				}
			}
		}
		if _, err := coll.DeleteOne(Counted(ctx), bson.D{{Key: "_id", Value: d.ID}}); err != nil {
			return 0, translate("delete intent", err)
		}
	}
	return len(docs), nil
}

// intentApplied reports whether the record shows d's write.
func intentApplied(ctx context.Context, db *mongo.Database, d *intentDoc) (bool, error) {
	var doc bson.M
	err := db.Collection(d.Coll).FindOne(Counted(ctx), bson.D{{Key: "_id", Value: d.Record}},
		options.FindOne().SetProjection(bson.D{{Key: writeField, Value: 1}})).Decode(&doc)
	exists := err == nil
	if err != nil && err != mongo.ErrNoDocuments {
		return false, translate("read an intent's record", err)
	}
	switch d.Op {
	case opInsert:
		return exists, nil
	case opUpdate:
		return exists && doc[writeField] == d.ID, nil
	default:
		return !exists, nil
	}
}

// stampOf returns the write stamp of a record as read, nil if none.
func stampOf(doc bson.D) any {
	for _, e := range doc {
		if e.Key == writeField {
			return e.Value
		}
	}
	return nil
}

// versionFilter selects the record id only while its last write is still
// that of before.
func versionFilter(id string, before bson.D) bson.D { return stampFilter(id, stampOf(before)) }

// stampFilter selects the record id only while its write stamp is stamp
// (nil: it has none).
func stampFilter(id string, stamp any) bson.D {
	if stamp == nil {
		return bson.D{{Key: "_id", Value: id}, {Key: writeField, Value: bson.D{{Key: "$exists", Value: false}}}}
	}
	return bson.D{{Key: "_id", Value: id}, {Key: writeField, Value: stamp}}
}
