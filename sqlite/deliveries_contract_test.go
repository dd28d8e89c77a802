package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/storetest"
)

func TestDeliveriesContract(t *testing.T) {
	storetest.Deliveries(t, func(t *testing.T) storetest.DeliveryStores {
		db := MustOpenDB(t)
		s := sqlite.NewDeliveryStore(db)
		return storetest.DeliveryStores{Store: s, Query: sqlite.NewDeliveryQuery(db), Checkpoint: s.Checkpoint,
			Sweep: func(ctx context.Context, now time.Time, retention time.Duration, batch int) (int64, int64, int, error) {
				w := sqlite.NewSweeper(s, sqlite.SweeperOptions{Retention: retention, Batch: batch, Pause: time.Millisecond,
					Now: func() time.Time { return now }})
				res, err := w.Sweep(ctx)
				return res.Events, res.Attempts, res.Batches, err
			}}
	})
}
