package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/model"
)

// testOutbox records what the store does with an outbox.
type testOutbox struct {
	mu             sync.Mutex
	before, after  map[string]any
	eventsCalls    int
	fanCalls       int
	doneCalls      int
	doneFans       []*jqlgate.Fanout
	doneErr        error
	eventID        string
	fannedInWriter bool
}

func (o *testOutbox) outbox() *jqlgate.Outbox {
	return &jqlgate.Outbox{
		Events: func(before, after map[string]any) []*jqlgate.Event {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.eventsCalls++
			o.before, o.after = before, after
			rec := after
			if rec == nil {
				rec = before
			}
			return []*jqlgate.Event{{ID: o.eventID, Type: "test.Thing:x", EntityID: rec["id"].(string), Data: rec,
				Timestamp: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}}
		},
		Fan: func(evs []*jqlgate.Event) []*jqlgate.Fanout {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.fanCalls++
			fans := make([]*jqlgate.Fanout, len(evs))
			for i, ev := range evs {
				fans[i] = &jqlgate.Fanout{Event: ev, Targets: []string{"sub_1"}, Node: "n1", Accepted: time.Now(), Seq: 1}
			}
			return fans
		},
		Done: func(fans []*jqlgate.Fanout, err error) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.doneCalls++
			o.doneFans, o.doneErr = fans, err
		},
	}
}

func (o *testOutbox) check(t *testing.T, what string, fanned bool, code string) {
	t.Helper()
	switch {
	case o.doneCalls != 1:
		t.Errorf("%s: Done called %d times, want once", what, o.doneCalls)
	case fanned && (len(o.doneFans) != 1 || o.doneFans[0].Event.ID != o.eventID):
		t.Errorf("%s: Done got fans %v, want the one fanned", what, o.doneFans)
	case !fanned && o.doneFans != nil:
		t.Errorf("%s: Done got fans %v, want nil (Fan not reached)", what, o.doneFans)
	case jqlgate.ErrorCode(o.doneErr) != code && !(code == "" && o.doneErr == nil):
		t.Errorf("%s: Done got err %v, want %q", what, o.doneErr, code)
	}
	if fanned && o.fanCalls != 1 {
		t.Errorf("%s: Fan called %d times, want once", what, o.fanCalls)
	}
}

// OutboxStore is a record store that writes a record and its events
// together.
type OutboxStore interface {
	model.Store
	model.TxStore
}

// Outbox runs the contract of a store's transactional outbox against the
// store open returns, fresh and empty; countEvents says how many stored
// events have an id. Each write calls Done exactly once, with the fanouts
// if Fan was reached; Events gets the record before and after; a create,
// update or delete stores its event with it; an event that cannot be
// stored undoes the record change; a unique conflict or a missing record
// stores no event.
func Outbox(t *testing.T, open func(t *testing.T) (s OutboxStore, countEvents func(id string) int)) {
	s, count := open(t)
	ctx := context.Background()
	const coll = "model_test_thing"
	if err := s.EnsureIndexes(ctx, coll, []jqlgate.Index{{Fields: []string{"code"}, Unique: true}}); err != nil {
		t.Fatal(err)
	}

	// A create stores the record and its event together.
	o := &testOutbox{eventID: "evt_1"}
	if err := s.InsertWithEvents(ctx, coll, map[string]any{"id": "thi_1", "code": "a", "n": 2.0}, o.outbox()); err != nil {
		t.Fatal(err)
	}
	o.check(t, "insert", true, "")
	if o.before != nil || o.after["n"] != 2.0 || o.after["id"] != "thi_1" {
		t.Errorf("Events got before %v, after %v", o.before, o.after)
	}
	if count("evt_1") != 1 {
		t.Error("the event of a create is not stored")
	}

	// An event that can't be stored (its id is taken) undoes the record.
	o = &testOutbox{eventID: "evt_1"}
	err := s.InsertWithEvents(ctx, coll, map[string]any{"id": "thi_2", "code": "b"}, o.outbox())
	if err == nil {
		t.Fatal("insert with a duplicate event id succeeded")
	}
	o.check(t, "insert with a failing event", true, jqlgate.ErrorCode(err))
	if o.doneErr == nil {
		t.Error("Done got no error for a failed write")
	}
	if _, err := s.Get(ctx, coll, "thi_2"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("record of a failed outbox write: err = %v, want ENOTFOUND", err)
	}

	// A unique conflict stores no event. (A store may find the conflict
	// before or after it fanned the event out; Done says which.)
	o = &testOutbox{eventID: "evt_2"}
	err = s.InsertWithEvents(ctx, coll, map[string]any{"id": "thi_3", "code": "a"}, o.outbox())
	if jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Fatalf("duplicate unique value: err = %v, want ECONFLICT", err)
	}
	o.check(t, "conflicting insert", o.fanCalls > 0, jqlgate.ECONFLICT)
	if count("evt_2") != 0 {
		t.Error("a conflicting create stored its event")
	}

	// An update gives Events the record before and after.
	o = &testOutbox{eventID: "evt_3"}
	after, err := s.UpdateWithEvents(ctx, coll, "thi_1", map[string]any{"n": int64(3)}, o.outbox())
	if err != nil || after["n"] != int64(3) || after["code"] != "a" {
		t.Fatalf("UpdateWithEvents = %v, %v", after, err)
	}
	o.check(t, "update", true, "")
	if o.before["n"] != 2.0 || o.after["n"] != int64(3) || count("evt_3") != 1 {
		t.Errorf("update: Events got before %v, after %v", o.before, o.after)
	}

	// A failing event leaves the record as it was.
	o = &testOutbox{eventID: "evt_3"}
	if _, err := s.UpdateWithEvents(ctx, coll, "thi_1", map[string]any{"n": int64(4)}, o.outbox()); err == nil {
		t.Fatal("update with a duplicate event id succeeded")
	}
	o.check(t, "update with a failing event", true, o.errCode())
	if got, _ := s.Get(ctx, coll, "thi_1"); got["n"] != int64(3) {
		t.Errorf("after a failed outbox update n = %v, want 3", got["n"])
	}

	// A missing record reaches neither Events nor Fan.
	o = &testOutbox{eventID: "evt_4"}
	if _, err := s.UpdateWithEvents(ctx, coll, "thi_9", map[string]any{"n": int64(4)}, o.outbox()); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("update of a missing record: err = %v, want ENOTFOUND", err)
	}
	o.check(t, "update of a missing record", false, jqlgate.ENOTFOUND)
	if o.eventsCalls != 0 {
		t.Error("Events called for a missing record")
	}
	o = &testOutbox{eventID: "evt_4"}
	if _, err := s.DeleteWithEvents(ctx, "model_never_written", "thi_9", o.outbox()); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("delete in a missing collection: err = %v, want ENOTFOUND", err)
	}
	o.check(t, "delete in a missing collection", false, jqlgate.ENOTFOUND)

	// A failing event keeps a deleted record; a stored one removes it.
	o = &testOutbox{eventID: "evt_1"}
	if _, err := s.DeleteWithEvents(ctx, coll, "thi_1", o.outbox()); err == nil {
		t.Fatal("delete with a duplicate event id succeeded")
	}
	o.check(t, "delete with a failing event", true, o.errCode())
	if _, err := s.Get(ctx, coll, "thi_1"); err != nil {
		t.Errorf("record of a failed outbox delete: %v", err)
	}
	o = &testOutbox{eventID: "evt_5"}
	before, err := s.DeleteWithEvents(ctx, coll, "thi_1", o.outbox())
	if err != nil || before["n"] != int64(3) {
		t.Fatalf("DeleteWithEvents = %v, %v", before, err)
	}
	o.check(t, "delete", true, "")
	if o.before["id"] != "thi_1" || o.after != nil || count("evt_5") != 1 {
		t.Errorf("delete: Events got before %v, after %v", o.before, o.after)
	}
	if _, err := s.Get(ctx, coll, "thi_1"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Get after delete: err = %v, want ENOTFOUND", err)
	}
}

func (o *testOutbox) errCode() string {
	if o.doneErr == nil {
		return "none"
	}
	return jqlgate.ErrorCode(o.doneErr)
}
