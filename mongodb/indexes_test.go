package mongodb_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/internal/ferret"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Every store creates its indexes at each start; a database that has them
// must accept that again. Without MONGODB_URI each run restarts FerretDB
// on the same files (FerretDB v1 drops the connection when one command
// re-creates several existing indexes in a database reopened from its
// files, hence one command per index); with it, both runs use one
// database.
func TestIndexesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	uri := os.Getenv("MONGODB_URI")
	dbName := "test_" + jqlgate.NewID("")[:20]
	key, err := jqlgate.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		runURI, stop := uri, func() {}
		if uri == "" {
			if runURI, stop, err = ferret.Start(ctx, dir, quietLogger()); err != nil {
				t.Fatal(err)
			}
		}
		db, err := mongodb.Open(ctx, mongodb.Config{URI: runURI, Database: dbName, Logger: quietLogger()})
		if err != nil {
			stop()
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
		if run == 1 && uri != "" {
			_ = db.Database.Drop(ctx)
		}
		err = db.Close(ctx)
		stop()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// EnsureIndexes creates every index it is given, a unique one refuses
// duplicates, and a second run (every start) is a no-op.
func TestEnsureIndexesCreatesEveryIndex(t *testing.T) {
	ctx := context.Background()
	coll := mongotest.New(t).Collection("ix")
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "status", Value: 1}}},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "created_at", Value: -1}}},
	}
	for run := range 2 {
		if err := mongodb.EnsureIndexes(ctx, coll, "test", models...); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
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
	if want := []string{"_id_", "email_1", "status_1", "status_1_created_at_-1"}; !slices.Equal(names, want) {
		t.Errorf("indexes %v, want %v", names, want)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("a duplicate email was stored (err %v): the unique index is missing", err)
	}
}
