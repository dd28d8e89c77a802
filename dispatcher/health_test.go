package dispatcher_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// healthEnv is a dispatcher over the real subscription store.
type healthEnv struct {
	subs  *mongodb.SubscriptionStore
	store *mongodb.DeliveryStore
}

func newHealthEnv(t *testing.T) *healthEnv {
	t.Helper()
	db := mongotest.New(t)
	key, _ := jqlgate.GenerateKey()
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	h := &healthEnv{subs: mongodb.NewSubscriptionStore(db, sealer), store: mongodb.NewDeliveryStore(db)}
	if err := h.subs.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.store.Close(context.Background()) })
	return h
}

// start runs a dispatcher that disables a subscription after failures
// deliveries Failed in a row.
func (h *healthEnv) start(t *testing.T, failures int) *dispatcher.Dispatcher {
	t.Helper()
	d := dispatcher.New(dispatcher.Config{Store: h.store, Source: h.subs, Disabler: h.subs, Node: "health-node",
		Policy: loopback, Workers: 4, Tick: 50 * time.Millisecond, Rand: func() float64 { return 0.5 },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DisableAfterFailures: failures, RetryHorizon: 2 * time.Hour})
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d
}

func (h *healthEnv) create(t *testing.T, owner, trigger, url string) *jqlgate.Subscription {
	t.Helper()
	s := sub(jqlgate.NewID("sub"), trigger, url)
	s.Owner, s.Prefix = owner, "App"
	s.RetryPolicy.Schedule = []time.Duration{10 * time.Millisecond}
	s.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	s.UpdatedAt = s.CreatedAt
	if _, _, err := h.subs.Create(context.Background(), s); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

// systemEvent waits for the next request to rc and decodes it.
func systemEvent(t *testing.T, rc *receiver) (string, map[string]any) {
	t.Helper()
	var p struct {
		Event string         `json:"event"`
		Data  map[string]any `json:"data"`
	}
	r := rc.next(t)
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("system event body %s: %v", r.Body, err)
	}
	return p.Event, p.Data
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFailingSubscriptionIsDisabledAndParked: after N deliveries in a row
// fail after every retry, the subscription is disabled with a reason and
// the owner's system.Webhook subscription hears of it (another owner's
// does not); its deliveries still waiting for a retry are parked, across a
// restart, and go out once the subscription is enabled again, which is
// announced too.
func TestFailingSubscriptionIsDisabledAndParked(t *testing.T) {
	var healthy atomic.Bool
	flakyRC := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch entity := r.Header.Get("X-Webhook-Entity-Id"); {
		case healthy.Load():
		case entity == "later1" || entity == "later2":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	watchRC, strangerRC := newReceiver(t, nil), newReceiver(t, nil)
	h := newHealthEnv(t)
	flaky := h.create(t, "owner-a", "a.B:create", flakyRC.URL)
	h.create(t, "owner-a", "system.Webhook:*", watchRC.URL)
	h.create(t, "owner-b", "system.Webhook:*", strangerRC.URL)
	d := h.start(t, 3)

	// Two deliveries wait an hour for their retry, then three fail.
	h.publish(t, d, "later1", "later2")
	waitFor(t, "two retries scheduled", func() bool { return len(flakyRC.reqs) == 2 })
	h.publish(t, d, "1", "2", "3")
	typ, data := systemEvent(t, watchRC)
	got, err := h.subs.Get(context.Background(), flaky.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || !strings.Contains(got.DisabledReason, "3 deliveries in a row failed") {
		t.Errorf("after 3 failed deliveries: enabled=%v reason %q, want disabled for 3 failures", got.Enabled, got.DisabledReason)
	}
	if typ != dispatcher.EventWebhookDisabled || data["id"] != flaky.ID || data["enabled"] != false ||
		data["disabledReason"] != got.DisabledReason || data["webhookUrl"] != flakyRC.URL || len(data) != 7 {
		t.Errorf("system event = %s %v, want %s of %s with its reason", typ, data, dispatcher.EventWebhookDisabled, flaky.ID)
	}
	waitFor(t, "two deliveries parked", func() bool { return d.Parked() == 2 })
	_ = d.Close(context.Background())
	d = h.start(t, 3)
	if n := d.Parked(); n != 2 {
		t.Errorf("after a restart %d deliveries parked, want 2", n)
	}
	if n := len(flakyRC.reqs); n != 8 {
		t.Errorf("flaky receiver got %d requests, want 8 (2 + 3 deliveries × 2 attempts)", n)
	}

	healthy.Store(true)
	h.enable(t, d, got)
	for range 8 {
		flakyRC.next(t) // the requests before enabling
	}
	entities := map[string]bool{}
	for range 2 {
		entities[flakyRC.next(t).Header.Get("X-Webhook-Entity-Id")] = true
	}
	if !entities["later1"] || !entities["later2"] {
		t.Errorf("after enabling, delivered entities %v, want later1 and later2", entities)
	}
	if typ, data := systemEvent(t, watchRC); typ != dispatcher.EventWebhookEnabled || data["enabled"] != true || data["id"] != flaky.ID {
		t.Errorf("system event = %s %v, want %s of %s", typ, data, dispatcher.EventWebhookEnabled, flaky.ID)
	}
	if d.Parked() != 0 || len(strangerRC.reqs) != 0 {
		t.Errorf("parked %d, another owner got %d events; want 0 and 0", d.Parked(), len(strangerRC.reqs))
	}
}

func (h *healthEnv) publish(t *testing.T, d *dispatcher.Dispatcher, entities ...string) {
	t.Helper()
	for _, id := range entities {
		if err := d.Publish(context.Background(), event("a.B:create", id, nil)); err != nil {
			t.Fatal(err)
		}
	}
}

// enable switches sub on again as enableWebhook does: write, then tell the
// dispatcher.
func (h *healthEnv) enable(t *testing.T, d *dispatcher.Dispatcher, sub *jqlgate.Subscription) {
	t.Helper()
	sub.Enabled, sub.DisabledReason, sub.UpdatedAt = true, "", time.Now().UTC().Truncate(time.Millisecond)
	if err := h.subs.Update(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	if err := d.SubscriptionChanged(context.Background(), sub.ID); err != nil {
		t.Fatal(err)
	}
}
