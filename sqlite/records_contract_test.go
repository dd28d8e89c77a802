package sqlite_test

import (
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
