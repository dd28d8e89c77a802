package mongodb_test

import (
	"context"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
)

// Every store creates its indexes at each start; a store reopened from its
// files must accept that again (the embedded store once dropped the
// connection when one command re-created several existing indexes).
func TestIndexesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	key, err := mongodb.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := mongodb.NewSealer(key)
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
