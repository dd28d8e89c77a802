package mongodb_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func TestDeliveryStoreRecoveryReads(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewDeliveryStore(mongotest.New(t))
	t.Cleanup(func() { _ = s.Close(ctx) })
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fan := func(id, node string, at time.Duration) *jqlgate.Fanout {
		return &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "a.B:create", EntityID: "e1", Data: map[string]any{"k": "v"}, Timestamp: base},
			Targets: []string{"sub_1"}, Node: node, Accepted: base.Add(at)}
	}
	fans := []*jqlgate.Fanout{fan("evt_old", "n1", 0), fan("evt_new", "n1", time.Minute), fan("evt_other", "n2", time.Minute)}
	if err := s.InsertEvents(ctx, fans); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	if err := s.InsertEvents(ctx, fans[:1]); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("duplicate event: got %v, want ECONFLICT", err)
	}
	got, err := s.EventsSince(ctx, "n1", base.Add(time.Second))
	if err != nil {
		t.Fatalf("EventsSince: %v", err)
	}
	if diff := cmp.Diff([]*jqlgate.Fanout{fans[1]}, got); diff != "" {
		t.Errorf("EventsSince (-want +got):\n%s", diff)
	}

	a := &jqlgate.Attempt{DeliveryID: "msg_1", EventID: "evt_new", Event: "a.B:create", SubscriptionID: "sub_1", Attempt: 1,
		Status: jqlgate.StatusResent, URL: "http://x", ResponseCode: 500, Duration: 1500 * time.Microsecond,
		NextAttemptAt: base.Add(2 * time.Minute), CreatedAt: base.Add(time.Minute), Node: "n1"}
	old := &jqlgate.Attempt{DeliveryID: "msg_0", EventID: "evt_old", Status: jqlgate.StatusDone, CreatedAt: base, Node: "n1"}
	if err := s.InsertAttempts(ctx, []*jqlgate.Attempt{a, old}); err != nil {
		t.Fatalf("InsertAttempts: %v", err)
	}
	as, err := s.AttemptsSince(ctx, "n1", base.Add(time.Second))
	if err != nil {
		t.Fatalf("AttemptsSince: %v", err)
	}
	if diff := cmp.Diff([]*jqlgate.Attempt{a}, as); diff != "" {
		t.Errorf("AttemptsSince (-want +got):\n%s", diff)
	}
}

func TestDeliveryStoreCheckpoint(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewDeliveryStore(mongotest.New(t))
	t.Cleanup(func() { _ = s.Close(ctx) })
	wm, err := s.Watermark(ctx, "n1")
	if err != nil || !wm.IsZero() {
		t.Fatalf("Watermark before any checkpoint = %v, %v; want zero, nil", wm, err)
	}
	for _, want := range []time.Time{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)} {
		if err := s.Heartbeat(ctx, "n1", want); err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		if got, err := s.Watermark(ctx, "n1"); err != nil || !got.Equal(want) {
			t.Errorf("Watermark = %v, %v; want %v", got, err, want)
		}
	}
	nodes, err := s.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].Node != "n1" {
		t.Errorf("Nodes = %+v, %v; want one n1", nodes, err)
	}
}
