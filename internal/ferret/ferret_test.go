package ferret_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate/internal/ferret"
)

// FerretDB keeps its data in dir across a restart and listens on loopback
// only.
func TestStartKeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() (*mongo.Client, string, func()) {
		uri, stop, err := ferret.Start(ctx, dir, logger)
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			stop()
			t.Fatal(err)
		}
		return client, uri, func() {
			_ = client.Disconnect(ctx)
			stop()
		}
	}
	client, _, stop := open()
	if _, err := client.Database("d").Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "kept"}}); err != nil {
		stop()
		t.Fatal(err)
	}
	stop()

	client, uri, stop := open()
	defer stop()
	if err := client.Database("d").Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "kept"}}).Err(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if strings.Contains(uri, "0.0.0.0") || !strings.Contains(uri, "127.0.0.1") {
		t.Errorf("URI %q, want a loopback address", uri)
	}
}
