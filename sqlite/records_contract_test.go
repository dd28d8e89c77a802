package sqlite_test

import (
	"context"
	"testing"

	"github.com/jqlgate/jqlgate/namespaces/model"
	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/storetest"
)

func TestRecordsContract(t *testing.T) {
	storetest.Records(t, func(t *testing.T) model.Store {
		return sqlite.NewRecordStore(MustOpenDB(t))
	})
}

func TestOutboxContract(t *testing.T) {
	storetest.Outbox(t, func(t *testing.T) (storetest.OutboxStore, func(string) int) {
		db := MustOpenDB(t)
		return sqlite.NewRecordStore(db), func(id string) int {
			var n int
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE id = ?`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	})
}
