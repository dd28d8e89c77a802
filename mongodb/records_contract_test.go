package mongodb_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/namespaces/model"
	"github.com/jqlgate/jqlgate/test/mongotest"
	"github.com/jqlgate/jqlgate/test/storetest"
)

func TestRecordsContract(t *testing.T) {
	storetest.Records(t, func(t *testing.T) model.Store {
		s := mongodb.NewRecordStore(mongotest.New(t), mongodb.BatcherOptions{})
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	})
}

func TestOutboxContract(t *testing.T) {
	storetest.Outbox(t, func(t *testing.T) (storetest.OutboxStore, func(string) int) {
		db := mongotest.New(t)
		s := mongodb.NewRecordStore(db, mongodb.BatcherOptions{})
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s, func(id string) int {
			n, err := db.Collection("events").CountDocuments(context.Background(), bson.D{{Key: "_id", Value: id}})
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	})
}
