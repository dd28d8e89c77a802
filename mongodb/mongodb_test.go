package mongodb_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jqlgate/jqlgate/mongodb"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestEmbeddedStoreKeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *mongodb.DB {
		db, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir, Logger: quietLogger()})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !db.Embedded {
			t.Fatal("got a non-embedded store, want the embedded one")
		}
		return db
	}
	db := open()
	if _, err := db.Database.Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "kept"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close(ctx)
	if err := db.Database.Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "kept"}}).Err(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if strings.Contains(db.URI, "0.0.0.0") || !strings.Contains(db.URI, "127.0.0.1") {
		t.Errorf("embedded store URI %q, want a loopback address", db.URI)
	}
}

func TestOpenFailsFastOnBadURI(t *testing.T) {
	tests := []struct {
		name, uri, want string
	}{
		{"bad scheme", "postgres://u:secretpw@localhost/db", "invalid URI"},
		{"unreachable", "mongodb://u:secretpw@127.0.0.1:1/?connectTimeoutMS=200", "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := mongodb.Open(context.Background(), mongodb.Config{URI: tt.uri, ConnectTimeout: 2 * time.Second, Logger: quietLogger()})
			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error %q leaks the password", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Open took %s, want it bounded by the connect timeout", d)
			}
		})
	}
}

func TestMaskURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mongodb://user:pw@host:27017/db", "mongodb://user:xxxxx@host:27017/db"},
		{"mongodb://host/db", "mongodb://host/db"},
		{"mongodb+srv://a:b@cluster.example/x?tls=true", "mongodb+srv://a:xxxxx@cluster.example/x?tls=true"},
		{"://weird:pw@host", "://xxxxx@host"},
	}
	for _, tt := range tests {
		if got := mongodb.MaskURI(tt.in); got != tt.want {
			t.Errorf("MaskURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
