package mongodb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func TestBatcherConcurrentInsertsAreDurable(t *testing.T) {
	db := mongotest.New(t)
	coll := db.Collection("items")
	b := mongodb.NewBatcher(coll, mongodb.BatcherOptions{MaxBatch: 50})
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.Insert(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("i%03d", i)}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Insert: %v", err)
		}
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 500 {
		t.Fatalf("got %d documents, want 500", n)
	}
}

func TestBatcherDuplicateFailsOnlyItsCaller(t *testing.T) {
	db := mongotest.New(t)
	coll := db.Collection("items")
	ctx := context.Background()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "dup"}}); err != nil {
		t.Fatal(err)
	}
	// A long MaxWait makes both inserts share one InsertMany.
	b := mongodb.NewBatcher(coll, mongodb.BatcherOptions{MaxBatch: 2, MaxWait: time.Second, Flushers: 1})
	defer b.Close(ctx)

	var dupErr, okErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); dupErr = b.Insert(ctx, bson.D{{Key: "_id", Value: "dup"}}) }()
	go func() { defer wg.Done(); okErr = b.Insert(ctx, bson.D{{Key: "_id", Value: "fresh"}}) }()
	wg.Wait()

	if got := jqlgate.ErrorCode(dupErr); got != jqlgate.ECONFLICT {
		t.Errorf("duplicate insert: got code %q (%v), want %q", got, dupErr, jqlgate.ECONFLICT)
	}
	if okErr != nil {
		t.Errorf("fresh insert: got %v, want nil", okErr)
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "fresh"}}).Err(); err != nil {
		t.Errorf("fresh document not stored: %v", err)
	}
}

func TestBatcherRefusesAfterClose(t *testing.T) {
	db := mongotest.New(t)
	b := mongodb.NewBatcher(db.Collection("items"), mongodb.BatcherOptions{})
	ctx := context.Background()
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jqlgate.ErrorCode(b.Insert(ctx, bson.D{{Key: "x", Value: 1}})); got != jqlgate.EUNAVAILABLE {
		t.Fatalf("insert after close: got %q, want %q", got, jqlgate.EUNAVAILABLE)
	}
}
