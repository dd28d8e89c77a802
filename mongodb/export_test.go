package mongodb_test

import (
	"testing"

	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
	"github.com/jqlgate/jqlgate/test/storetest"
)

func TestExportContract(t *testing.T) {
	storetest.Export(t, func(t *testing.T) (storetest.ExportRecords, storetest.ExportDeliveries) {
		db := mongotest.New(t)
		return mongodb.NewRecordStore(db, mongodb.BatcherOptions{}), mongodb.NewDeliveryStore(db)
	})
}
