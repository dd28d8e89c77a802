package mongodb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// TestSweeperDeletesOldRecordsInBatches: with a 30-day retention and the
// clock at day 100, events and attempt records older than day 70 go, in
// batches of at most 3, recent ones stay, and no event at or after the
// oldest node watermark goes however old it is.
func TestSweeperDeletesOldRecordsInBatches(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewDeliveryStore(mongotest.New(t))
	t.Cleanup(func() { _ = s.Close(ctx) })
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	const day = 24 * time.Hour
	ttl, err := s.EnsureRetention(ctx, 30*day)
	if err != nil {
		t.Fatalf("EnsureRetention: %v", err)
	}
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var fans []*jqlgate.Fanout
	var attempts []*jqlgate.Attempt
	for i, at := range []time.Duration{0, 1, 2, 3, 4, 5, 6, 99 * day, 99*day + 1} {
		id := fmt.Sprintf("evt_%d", i)
		fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "a.B:create", Timestamp: base.Add(at)},
			Targets: []string{"sub_1"}, Node: "n1", Accepted: base.Add(at)})
		attempts = append(attempts, &jqlgate.Attempt{DeliveryID: "msg_" + id, EventID: id, SubscriptionID: "sub_1",
			Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: base.Add(at), Node: "n1"})
	}
	if err := s.InsertEvents(ctx, fans); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAttempts(ctx, attempts); err != nil {
		t.Fatal(err)
	}
	w := mongodb.NewSweeper(s, mongodb.SweeperOptions{Retention: 30 * day, Attempts: !ttl, Batch: 3, Pause: time.Millisecond,
		Now: func() time.Time { return base.Add(100 * day) }})
	res, err := w.Sweep(ctx)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want := mongodb.SweepResult{Events: 7, Batches: 3}
	if !ttl {
		want.Attempts, want.Batches = 7, 6
	}
	if res != want {
		t.Errorf("sweep = %+v, want %+v (7 old of each in batches of at most 3)", res, want)
	}
	if n := countEvents(t, s); n != 2 {
		t.Errorf("%d events left, want the 2 recent ones", n)
	}
	if as, _ := s.AttemptsSince(ctx, "n1", time.Time{}); !ttl && len(as) != 2 {
		t.Errorf("%d attempt records left, want the 2 recent ones", len(as))
	}

	// A node whose watermark is at day 15 still has unfinished deliveries
	// of events from then on: those stay.
	old := []*jqlgate.Fanout{
		{Event: &jqlgate.Event{ID: "evt_day10", Type: "a.B:create"}, Targets: []string{"sub_1"}, Node: "n1", Accepted: base.Add(10 * day)},
		{Event: &jqlgate.Event{ID: "evt_day20", Type: "a.B:create"}, Targets: []string{"sub_1"}, Node: "n1", Accepted: base.Add(20 * day)},
	}
	if err := s.InsertEvents(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx, "n2", base.Add(15*day), base.Add(200*day)); err != nil {
		t.Fatal(err)
	}
	if res, err := w.Sweep(ctx); err != nil || res.Events != 1 {
		t.Fatalf("guarded sweep = %+v, %v; want the day-10 event deleted", res, err)
	}
	if got, _ := s.EventsByID(ctx, []string{"evt_day10", "evt_day20"}); len(got) != 1 || got[0].Event.ID != "evt_day20" {
		t.Errorf("after the guarded sweep %d of the old events left, want evt_day20 only", len(got))
	}
}

func countEvents(t *testing.T, s *mongodb.DeliveryStore) int {
	t.Helper()
	fans, err := s.EventsSince(context.Background(), "n1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return len(fans)
}

// TestSweeperStartStop: with no retention index to drop, a started sweeper
// runs its first sweep and stops.
func TestSweeperStartStop(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewDeliveryStore(mongotest.New(t))
	t.Cleanup(func() { _ = s.Close(ctx) })
	if ttl, err := s.EnsureRetention(ctx, 0); ttl || err != nil {
		t.Fatalf("EnsureRetention(0) = %v, %v; want no TTL index and no error", ttl, err)
	}
	base := time.Now().UTC().Add(-2 * time.Hour)
	if err := s.InsertEvents(ctx, []*jqlgate.Fanout{{Event: &jqlgate.Event{ID: "evt_old", Type: "a.B:create"},
		Targets: []string{}, Node: "n1", Accepted: base}}); err != nil {
		t.Fatal(err)
	}
	w := mongodb.NewSweeper(s, mongodb.SweeperOptions{Retention: time.Hour, FirstAfter: time.Millisecond, Every: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	w.Start()
	deadline := time.Now().Add(10 * time.Second)
	for countEvents(t, s) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first sweep never deleted the old event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.Stop(sctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
