package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/webhook"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// Principals of the operator tests.
var (
	opsA = &jqlgate.Principal{ID: "a", Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", "system.Webhook:privateTargets", "profile.Customer:retrieve"}}
	opsB = &jqlgate.Principal{ID: "b", Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", "system.Webhook:privateTargets", "profile.Customer:retrieve"}}
)

var opsLoopback = jqlgate.AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// opsCatalogue is a fixed trigger catalogue.
type opsCatalogue struct{}

func (opsCatalogue) EventTypes() []jqlgate.EventType {
	return []jqlgate.EventType{
		{Name: "profile.Customer:create", Description: "created", Example: map[string]any{"id": "cus_example", "name": "Ada"}},
		{Name: "profile.Customer:update", Description: "updated", Example: map[string]any{"id": "cus_example"}},
	}
}

// opsReceiver answers the statuses in plan in turn, then its last one
// forever; it records every request.
type opsReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	plan     []int
	requests []*http.Request
	bodies   []string
	block    chan struct{} // when not nil, requests wait for it to close
}

func newOpsReceiver(t *testing.T, plan ...int) *opsReceiver {
	r := &opsReceiver{plan: plan}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *opsReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests, r.bodies = append(r.requests, req), append(r.bodies, string(body))
	status, block := r.plan[0], r.block
	if len(r.plan) > 1 {
		r.plan = r.plan[1:]
	}
	r.mu.Unlock()
	if block != nil {
		<-block
	}
	w.Header().Set("X-Reply", "yes")
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d", status)
}

// setPlan replaces the statuses still to answer.
func (r *opsReceiver) setPlan(plan ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plan = plan
}

func (r *opsReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// opsEnv is the real wiring of system.Webhook's operator intents: the
// subscription store, the delivery store and a running dispatcher.
type opsEnv struct {
	t   *testing.T
	mux *namespaces.Mux
	d   *dispatcher.Dispatcher
}

func newOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	return newOpsEnvWith(t, dispatcher.Config{})
}

// newOpsEnvWith is newOpsEnv with the dispatcher's retry horizon and load
// interval taken from cfg.
func newOpsEnvWith(t *testing.T, cfg dispatcher.Config) *opsEnv {
	t.Helper()
	ctx := context.Background()
	db := mongotest.New(t)
	key, _ := jqlgate.GenerateKey()
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	subs := mongodb.NewSubscriptionStore(db, sealer)
	store := mongodb.NewDeliveryStore(db)
	if err := subs.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	d := dispatcher.New(dispatcher.Config{Store: store, Source: subs, Disabler: subs, Node: "ops-test",
		Policy: opsLoopback, Logger: quiet, Tick: 100 * time.Millisecond,
		RetryHorizon: cfg.RetryHorizon, LoadEvery: cfg.LoadEvery})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.Close(ctx)
		_ = store.Close(ctx)
	})
	mux := namespaces.NewMux()
	webhook.Register(mux, webhook.Deps{Store: subs, Catalogue: opsCatalogue{}, Notifier: notifier{d, quiet},
		Policy: opsLoopback, Operations: &webhookOps{deliveryQuery: mongodb.NewDeliveryQuery(db), d: d}})
	return &opsEnv{t: t, mux: mux, d: d}
}

// do runs intent as p with fields.
func (e *opsEnv) do(p *jqlgate.Principal, intent string, fields map[string]any) (*jqlgate.Result, error) {
	e.t.Helper()
	b, _ := json.Marshal(fields)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var f map[string]any
	if err := dec.Decode(&f); err != nil {
		e.t.Fatal(err)
	}
	cmd := &jqlgate.Command{Principal: p, Fields: f, Meta: jqlgate.Meta{Namespace: webhook.Namespace, Schema: jqlgate.SchemaController, Intent: intent}}
	return e.mux.Serve(context.Background(), cmd)
}

// ok runs intent as opsA and returns its data, JSON round-tripped.
func (e *opsEnv) ok(intent string, fields map[string]any) any {
	e.t.Helper()
	res, err := e.do(opsA, intent, fields)
	if err != nil {
		e.t.Fatalf("%s %v: %v", intent, fields, err)
	}
	b, _ := json.Marshal(res.Data)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// subscribe subscribes opsA's receiver url with a retry schedule in seconds.
func (e *opsEnv) subscribe(url string, schedule ...float64) string {
	e.t.Helper()
	data := e.ok("subscribeToWebhook", map[string]any{"prefix": "ops", "trigger": "profile.Customer:create",
		"webhookUrl": url, "retryPolicy": map[string]any{"schedule": schedule}})
	return data.(map[string]any)["id"].(string)
}

// publish publishes one customer event and returns its id.
func (e *opsEnv) publish(entity string) string {
	e.t.Helper()
	ev := &jqlgate.Event{Type: "profile.Customer:create", EntityID: entity, Data: map[string]any{"id": entity}}
	if err := e.d.Publish(context.Background(), ev); err != nil {
		e.t.Fatal(err)
	}
	return ev.ID
}

// logs returns the log entries getWebhookLogs answers for fields.
func (e *opsEnv) logs(fields map[string]any) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, x := range e.ok("getWebhookLogs", fields).([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// waitLogs polls the log of sub until cond holds of it.
func (e *opsEnv) waitLogs(sub string, what string, cond func([]map[string]any) bool) []map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		entries := e.logs(map[string]any{"id": sub})
		if cond(entries) {
			return entries
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; log: %v", what, summary(entries))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// summary is "status/attempt/code" of each entry.
func summary(entries []map[string]any) []string {
	var out []string
	for _, e := range entries {
		code := any(0)
		if r, ok := e["response"].(map[string]any); ok {
			code = r["code"]
		}
		out = append(out, fmt.Sprintf("%v/%v/%v", e["status"], e["attempt"], code))
	}
	return out
}

// latestIs reports whether the newest entry has status and attempt.
func latestIs(status string, attempt int) func([]map[string]any) bool {
	return func(entries []map[string]any) bool {
		return len(entries) > 0 && entries[0]["status"] == status && entries[0]["attempt"] == float64(attempt)
	}
}
