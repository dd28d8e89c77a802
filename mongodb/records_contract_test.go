package mongodb_test

import (
	"context"
	"testing"

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
