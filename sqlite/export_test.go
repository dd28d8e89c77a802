package sqlite_test

import (
	"testing"

	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/storetest"
)

func TestExportContract(t *testing.T) {
	storetest.Export(t, func(t *testing.T) (storetest.ExportRecords, storetest.ExportDeliveries) {
		db := MustOpenDB(t)
		return sqlite.NewRecordStore(db), sqlite.NewDeliveryStore(db)
	})
}
