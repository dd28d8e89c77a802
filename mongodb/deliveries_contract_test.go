package mongodb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
	"github.com/jqlgate/jqlgate/test/storetest"
)

func TestDeliveriesContract(t *testing.T) {
	storetest.Deliveries(t, func(t *testing.T) storetest.DeliveryStores {
		ctx := context.Background()
		db := mongotest.New(t)
		s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
		t.Cleanup(func() { _ = s.Close(ctx) })
		if err := s.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		if err := q.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		return storetest.DeliveryStores{Store: s, Query: q, Checkpoint: s.Checkpoint, RacyUpdates: os.Getenv("MONGODB_URI") == "",
			Sweep: func(ctx context.Context, now time.Time, retention time.Duration, batch int) (int64, int64, int, error) {
				// No TTL index: the sweeper deletes attempt records too.
				w := mongodb.NewSweeper(s, mongodb.SweeperOptions{Retention: retention, Attempts: true, Batch: batch,
					Pause: time.Millisecond, Now: func() time.Time { return now }})
				res, err := w.Sweep(ctx)
				return res.Events, res.Attempts, res.Batches, err
			}}
	})
}
