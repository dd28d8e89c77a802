package mongodb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// A process that dies in the middle of a write with events leaves an
// intent; recovering its node (EventsSince) leaves the record change with
// its event, or neither, whichever instant it died at.
func TestIntentCrashPoints(t *testing.T) {
	defer mongodb.SetIntentSettle(mongodb.SetIntentSettle(0))
	ctx := context.Background()
	const coll, node = "model_test_thing", "n1"
	for _, op := range []string{"insert", "update", "delete"} {
		for _, stage := range []string{"intent", "record"} {
			t.Run(op+"/"+stage, func(t *testing.T) {
				db := mongotest.New(t)
				s := mongodb.NewRecordStore(db, mongodb.BatcherOptions{})
				t.Cleanup(func() { _ = s.Close(ctx) })
				if op != "insert" {
					if err := s.Insert(ctx, coll, map[string]any{"id": "thi_1", "n": int64(1)}); err != nil {
						t.Fatal(err)
					}
				}
				evID := "evt_" + op + "_" + stage
				out := &jqlgate.Outbox{
					Events: func(before, after map[string]any) []*jqlgate.Event {
						return []*jqlgate.Event{{ID: evID, Type: "test.Thing:" + op, EntityID: "thi_1", Timestamp: time.Now()}}
					},
					Fan: func(evs []*jqlgate.Event) []*jqlgate.Fanout {
						return []*jqlgate.Fanout{{Event: evs[0], Targets: []string{"sub_1"}, Node: node, Accepted: time.Now()}}
					},
					Done: func([]*jqlgate.Fanout, error) {},
				}
				mongodb.SetCrashPoint(s, stage)
				var err error
				switch op {
				case "insert":
					err = s.InsertWithEvents(ctx, coll, map[string]any{"id": "thi_1", "n": int64(2)}, out)
				case "update":
					_, err = s.UpdateWithEvents(ctx, coll, "thi_1", map[string]any{"n": int64(2)}, out)
				case "delete":
					_, err = s.DeleteWithEvents(ctx, coll, "thi_1", out)
				}
				if err == nil {
					t.Fatal("the crash point did not stop the write")
				}
				mongodb.SetCrashPoint(s, "")
				if n := countIntents(t, db); n != 1 {
					t.Fatalf("intents after the crash = %d, want 1", n)
				}

				fans, err := mongodb.NewDeliveryStore(db).EventsSince(ctx, node, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				rec, gerr := s.Get(ctx, coll, "thi_1")
				applied := stage == "record"
				var changed bool
				switch op {
				case "insert":
					changed = gerr == nil
				case "update":
					changed = gerr == nil && rec["n"] == int64(2)
				case "delete":
					changed = jqlgate.ErrorCode(gerr) == jqlgate.ENOTFOUND
				}
				hasEvent := len(fans) == 1 && fans[0].Event.ID == evID
				if changed != applied || hasEvent != applied || len(fans) > 1 {
					t.Errorf("after recovery: record changed %v, event stored %v (%d events); want both %v", changed, hasEvent, len(fans), applied)
				}
				if _, ok := rec["_w"]; ok {
					t.Errorf("a record shows its write stamp: %v", rec)
				}
				if n := countIntents(t, db); n != 0 {
					t.Errorf("intents after recovery = %d, want 0", n)
				}
				// The dead process's update or delete, arriving only now,
				// matches nothing: recovery fenced the record.
				if op != "insert" && !applied {
					late := bson.D{{Key: "_id", Value: "thi_1"}, {Key: "_w", Value: bson.D{{Key: "$exists", Value: false}}}}
					res, err := db.Collection(coll).UpdateOne(ctx, late, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: int64(9)}}}})
					if err != nil || res.MatchedCount != 0 {
						t.Errorf("a late write of an unapplied %s matched %v (%v); want the record fenced", op, res, err)
					}
				}
				// The record takes further writes.
				if op != "delete" && gerr == nil {
					out.Events = func(_, _ map[string]any) []*jqlgate.Event {
						return []*jqlgate.Event{{ID: evID + "_next", Type: "test.Thing:update", EntityID: "thi_1", Timestamp: time.Now()}}
					}
					if _, err := s.UpdateWithEvents(ctx, coll, "thi_1", map[string]any{"n": int64(3)}, out); err != nil {
						t.Errorf("update after recovery: %v", err)
					}
				}
			})
		}
	}
}

// Concurrent updates of one record in one process take turns: each sees
// the one before it, and every one stores its event.
func TestIntentConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	s := mongodb.NewRecordStore(db, mongodb.BatcherOptions{})
	t.Cleanup(func() { _ = s.Close(ctx) })
	const coll = "model_test_thing"
	if err := s.Insert(ctx, coll, map[string]any{"id": "thi_1", "n": int64(0)}); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			out := &jqlgate.Outbox{
				Events: func(_, _ map[string]any) []*jqlgate.Event {
					return []*jqlgate.Event{{ID: fmt.Sprintf("evt_%d", i), Type: "test.Thing:update", EntityID: "thi_1", Timestamp: time.Now()}}
				},
				Fan: func(evs []*jqlgate.Event) []*jqlgate.Fanout {
					return []*jqlgate.Fanout{{Event: evs[0], Node: "n1", Accepted: time.Now()}}
				},
				Done: func([]*jqlgate.Fanout, error) {},
			}
			_, err := s.UpdateWithEvents(ctx, coll, "thi_1", map[string]any{fmt.Sprintf("f%d", i): int64(i)}, out)
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	rec, err := s.Get(ctx, coll, "thi_1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range writers {
		if rec[fmt.Sprintf("f%d", i)] != int64(i) {
			t.Errorf("field f%d lost: %v", i, rec)
		}
	}
	n, err := db.Collection("events").CountDocuments(ctx, bson.D{})
	if err != nil || n != writers {
		t.Errorf("events = %d, %v; want %d", n, err, writers)
	}
}

func countIntents(t *testing.T, db *mongo.Database) int {
	t.Helper()
	n, err := db.Collection(mongodb.IntentCollection).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
