package mongodb_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Every store creates its indexes at each start; a store reopened from its
// files must accept that again (the embedded store once dropped the
// connection when one command re-created several existing indexes).
func TestIndexesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	key, err := jqlgate.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		db, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		records := mongodb.NewRecordStore(db.Database, mongodb.BatcherOptions{})
		deliveries := mongodb.NewDeliveryStore(db.Database)
		steps := map[string]func() error{
			"subscriptions": func() error { return mongodb.NewSubscriptionStore(db.Database, sealer).EnsureIndexes(ctx) },
			"auth":          func() error { return mongodb.NewAuthStore(db.Database).EnsureIndexes(ctx) },
			"deliveries":    func() error { return deliveries.EnsureIndexes(ctx) },
			"records": func() error {
				return records.EnsureIndexes(ctx, "model_x", []jqlgate.Index{{Fields: []string{"email"}, Unique: true}, {Fields: []string{"status", "created_at"}}})
			},
		}
		for name, step := range steps {
			if err := step(); err != nil {
				t.Errorf("run %d: %s indexes: %v", run, name, err)
			}
		}
		_ = records.Close(ctx)
		_ = deliveries.Close(ctx)
		if err := db.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// On the embedded store, whose SQLite backend reads whole collections
// whatever the indexes, only indexes that change a write are kept: a
// unique one still refuses duplicates, a plain one is not created (and one
// an older version made is dropped), and a TTL one still reaches the
// server, which refuses it, so retention keeps sweeping.
func TestEmbeddedStoreKeepsOnlyConstrainingIndexes(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("this is about the embedded store; MONGODB_URI is set")
	}
	ctx := context.Background()
	coll := mongotest.New(t).Collection("ix")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "old", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	err := mongodb.EnsureIndexes(ctx, coll, "test",
		mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if want := []string{"_id_", "email_1"}; !slices.Equal(names, want) {
		t.Errorf("indexes %v, want %v", names, want)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("a duplicate email was stored (err %v): the unique index is gone", err)
	}
	ttl := mongo.IndexModel{Keys: bson.D{{Key: "created_at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(60)}
	if err := mongodb.EnsureIndexes(ctx, coll, "ttl", ttl); err == nil {
		t.Error("a TTL index was skipped silently: retention would take it for a working TTL index and stop sweeping")
	}
}
