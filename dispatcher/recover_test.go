package dispatcher_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// TestRecoveryResumesUnfinished writes the state a crashed node leaves
// behind and checks what a restarted node sends: never-attempted and
// Resent deliveries, not finished ones.
func TestRecoveryResumesUnfinished(t *testing.T) {
	ctx := context.Background()
	rc := newReceiver(t, nil)
	store := mongodb.NewDeliveryStore(mongotest.New(t))
	now := time.Now().UTC()
	fan := func(id string) *jqlgate.Fanout {
		return &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "a.B:create", EntityID: id, Timestamp: now},
			Targets: []string{"sub_rec"}, Node: "test-node", Accepted: now}
	}
	if err := store.InsertEvents(ctx, []*jqlgate.Fanout{fan("evt_new"), fan("evt_done"), fan("evt_resent"), fan("evt_failed")}); err != nil {
		t.Fatal(err)
	}
	attempt := func(ev, status string, next time.Time) *jqlgate.Attempt {
		return &jqlgate.Attempt{DeliveryID: dispatcher.DeliveryID(ev, "sub_rec"), EventID: ev, SubscriptionID: "sub_rec",
			Attempt: 1, Status: status, NextAttemptAt: next, CreatedAt: now, Node: "test-node"}
	}
	if err := store.InsertAttempts(ctx, []*jqlgate.Attempt{attempt("evt_done", jqlgate.StatusDone, time.Time{}),
		attempt("evt_resent", jqlgate.StatusResent, now.Add(100*time.Millisecond)),
		attempt("evt_failed", jqlgate.StatusFailed, time.Time{})}); err != nil {
		t.Fatal(err)
	}
	startOn(t, store, newSource(sub("sub_rec", "*", rc.URL)), dispatcher.Config{})

	got := map[string]string{}
	for range 2 {
		r := rc.next(t)
		var p struct{ ID string }
		_ = json.Unmarshal(r.Body, &p)
		got[p.ID] = r.Header.Get("X-Webhook-Attempt")
	}
	want := map[string]string{"evt_new": "1", "evt_resent": "2"}
	if len(got) != 2 || got["evt_new"] != want["evt_new"] || got["evt_resent"] != want["evt_resent"] {
		t.Errorf("resumed %v, want %v", got, want)
	}
	select {
	case r := <-rc.reqs:
		t.Errorf("a finished delivery was sent again: %s", r.Body)
	case <-time.After(200 * time.Millisecond):
	}
}
