// Package mongotest gives each test a fresh database on a MongoDB-wire
// store: the MongoDB at MONGODB_URI when it is set, otherwise FerretDB on
// SQLite files in a temporary directory (internal/ferret), started once per
// test binary, behind a proxy that reports its unique index violations as
// MongoDB does (see dupKeyProxy). Each database has a random name and is
// dropped when the test ends.
package mongotest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/internal/ferret"
	"github.com/jqlgate/jqlgate/mongodb"
)

var (
	once    sync.Once
	shared  *mongodb.DB
	openErr error
)

// URI returns the URI of the shared test store, starting it if needed.
// Tests that run a jqlgate process of their own point it here.
func URI(t testing.TB) string {
	t.Helper()
	return sharedDB(t).URI
}

func sharedDB(t testing.TB) *mongodb.DB {
	t.Helper()
	once.Do(func() {
		ctx := context.Background()
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		uri := os.Getenv("MONGODB_URI")
		if uri == "" {
			dir, err := os.MkdirTemp("", "jqlgate-mongotest-")
			if err != nil {
				openErr = err
				return
			}
			// FerretDB, its files and the proxy live as long as the test
			// binary: every test shares them.
			var furi string
			if furi, _, openErr = ferret.Start(ctx, dir, logger); openErr != nil {
				return
			}
			if uri, openErr = behindDupKeyProxy(furi); openErr != nil {
				return
			}
		}
		shared, openErr = mongodb.Open(ctx, mongodb.Config{URI: uri, ConnectTimeout: 20 * time.Second, Logger: logger})
	})
	if openErr != nil {
		t.Fatalf("mongotest: %v", openErr)
	}
	return shared
}

// New returns a fresh, empty database that is dropped when t ends.
func New(t testing.TB) *mongo.Database {
	t.Helper()
	db := sharedDB(t)
	database := db.Client.Database("test_" + jqlgate.NewID("")[:20])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = database.Drop(ctx)
	})
	return database
}
