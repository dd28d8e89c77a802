package dispatcher_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// failFirst answers 500 to the first request and 200 after.
func failFirst(n int, w http.ResponseWriter, _ *http.Request) {
	if n == 1 {
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// TestRetryBeyondHorizonLeavesMemory: a retry due beyond the horizon is
// left in the store, and loaded back when it comes due.
func TestRetryBeyondHorizonLeavesMemory(t *testing.T) {
	rc := newReceiver(t, failFirst)
	s := sub("sub_far", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{400 * time.Millisecond}
	reg := prometheus.NewRegistry()
	e := start(t, newSource(s), dispatcher.Config{RetryHorizon: 100 * time.Millisecond, LoadEvery: 20 * time.Millisecond, Registry: reg})
	publish(t, e, event("a.B:create", "1", nil))
	as := sortAttempts(e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 2 }))
	if as[0].Status != jqlgate.StatusResent || as[1].Status != jqlgate.StatusDone || as[1].Attempt != 2 {
		t.Fatalf("attempts = %v, want Resent then Done #2", statuses(as))
	}
	if got := as[1].CreatedAt.Sub(as[0].NextAttemptAt); got < -50*time.Millisecond {
		t.Errorf("second attempt %s before it was due", -got)
	}
	for _, name := range []string{"jqlgate_dispatcher_retries_parked_total", "jqlgate_dispatcher_retries_loaded_total"} {
		if n := counter(t, reg, name); n != 1 {
			t.Errorf("%s = %v, want 1", name, n)
		}
	}
}

// TestRecoveryFindsStoredRetries: after a restart, a retry that was left
// in the store is found through the retry floor although the watermark
// has moved past its event.
func TestRecoveryFindsStoredRetries(t *testing.T) {
	rc := newReceiver(t, failFirst)
	s := sub("sub_far2", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{1500 * time.Millisecond}
	store := mongodb.NewDeliveryStore(mongotest.New(t))
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := dispatcher.Config{RetryHorizon: 200 * time.Millisecond, LoadEvery: 20 * time.Millisecond}
	e := startOn(t, store, newSource(s), cfg)
	publish(t, e, event("a.B:create", "1", nil))
	as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wm, floor, err := store.LoadCheckpoint(ctx, "test-node")
	if err != nil {
		t.Fatal(err)
	}
	if !wm.After(as[0].CreatedAt) || floor.After(as[0].NextAttemptAt) {
		t.Fatalf("checkpoint watermark %s floor %s; want the watermark past the attempt (%s) and the floor at or before its next attempt (%s)",
			wm, floor, as[0].CreatedAt, as[0].NextAttemptAt)
	}
	e2 := startOn(t, store, newSource(s), cfg)
	as = sortAttempts(e2.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 2 }))
	if as[1].Status != jqlgate.StatusDone || as[1].Attempt != 2 {
		t.Fatalf("attempts = %v, want Resent then Done #2", statuses(as))
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestResendStoredSupersedesStoredRetry: a retry left in the store and
// brought forward is sent at once as the next attempt; neither the loader
// nor recovery after a restart sends the stale retry when it falls due.
func TestResendStoredSupersedesStoredRetry(t *testing.T) {
	rc := newReceiver(t, failFirst)
	s := sub("sub_far3", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{1500 * time.Millisecond}
	store := mongodb.NewDeliveryStore(mongotest.New(t))
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := dispatcher.Config{RetryHorizon: 100 * time.Millisecond, LoadEvery: 20 * time.Millisecond}
	e := startOn(t, store, newSource(s), cfg)
	publish(t, e, event("a.B:create", "1", nil))
	last := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fans, err := store.EventsByID(ctx, []string{last.EventID})
	if err != nil || len(fans) != 1 {
		t.Fatalf("EventsByID = %v, %v", fans, err)
	}
	if ok, err := e.d.ResendStored(ctx, fans[0], s.ID, last); !ok || err != nil {
		t.Fatalf("ResendStored = %v, %v; want queued", ok, err)
	}
	first, again := rc.next(t), rc.next(t)
	if id := first.Header.Get("webhook-id"); id == "" || again.Header.Get("webhook-id") != id {
		t.Errorf("webhook-id: %q then %q, want the same", id, again.Header.Get("webhook-id"))
	}
	as := sortAttempts(e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 2 }))
	if as[1].Status != jqlgate.StatusDone || as[1].Attempt != 2 || !as[1].CreatedAt.Before(last.NextAttemptAt) {
		t.Fatalf("attempts = %v, want Done #2 before the stored retry was due", statuses(as))
	}
	if err := e.d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	startOn(t, store, newSource(s), cfg)
	time.Sleep(time.Until(last.NextAttemptAt) + 400*time.Millisecond)
	select {
	case r := <-rc.reqs:
		t.Fatalf("stale retry sent after it was superseded: %s", r.Header.Get("webhook-id"))
	default:
	}
}
