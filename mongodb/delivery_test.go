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

// The request headers an attempt document leaves out because they follow
// from the attempt's fields come back exactly; one of those names with
// another value (a redacted custom header) is kept as sent.
func TestDeliveryStoreDerivedRequestHeaders(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewDeliveryStore(mongotest.New(t))
	t.Cleanup(func() { _ = s.Close(ctx) })
	at := time.Date(2026, 3, 1, 12, 0, 0, 999_700_000, time.UTC) // stored as ...999 ms
	headers := func(entity string) map[string]string {
		return map[string]string{"webhook-id": "msg_2", "webhook-timestamp": "1772366400", "webhook-signature": "v1,abc",
			"X-Webhook-Event": "a.B:create", "X-Webhook-Subscription": "sub_2", "X-Webhook-Trigger": "a.B:*",
			"X-Webhook-Entity-Id": entity, "X-Webhook-Attempt": "2", "Content-Type": "application/json",
			"User-Agent": "jqlgate/test", "X-Custom": "1"}
	}
	derived := &jqlgate.Attempt{DeliveryID: "msg_2", EventID: "evt_2", Event: "a.B:create", Trigger: "a.B:*", EntityID: "e2",
		SubscriptionID: "sub_2", Attempt: 2, Status: jqlgate.StatusDone, URL: "http://x", ResponseCode: 204,
		RequestHeaders: headers("e2"), CreatedAt: at, Node: "n9"}
	kept := &jqlgate.Attempt{DeliveryID: "msg_3", EventID: "evt_3", Event: "a.B:create", EntityID: "e3",
		SubscriptionID: "sub_2", Attempt: 1, Status: jqlgate.StatusDone, URL: "http://x", ResponseCode: 204,
		RequestHeaders: headers(jqlgate.RedactedValue), CreatedAt: at, Node: "n9"}
	want := []map[string]string{headers("e2"), headers(jqlgate.RedactedValue)}
	if err := s.InsertAttempts(ctx, []*jqlgate.Attempt{derived, kept}); err != nil {
		t.Fatalf("InsertAttempts: %v", err)
	}
	if diff := cmp.Diff(want, []map[string]string{derived.RequestHeaders, kept.RequestHeaders}); diff != "" {
		t.Errorf("insert changed the caller's headers (-want +got):\n%s", diff)
	}
	as, err := s.AttemptsSince(ctx, "n9", at.Add(-time.Second))
	if err != nil {
		t.Fatalf("AttemptsSince: %v", err)
	}
	got := map[string]map[string]string{}
	for _, a := range as {
		got[a.DeliveryID] = a.RequestHeaders
	}
	if diff := cmp.Diff(map[string]map[string]string{"msg_2": want[0], "msg_3": want[1]}, got); diff != "" {
		t.Errorf("stored request headers (-want +got):\n%s", diff)
	}
}
