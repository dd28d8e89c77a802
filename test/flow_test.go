package test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/webhook"
)

const (
	adminID     = "admin"
	adminSecret = "e2e-admin-secret-0123456789abcdef"
)

// serveWithAdmin starts a server with a bootstrap all-permission client and
// loopback receivers allowed.
func serveWithAdmin(t *testing.T, dataDir string) *proc {
	t.Helper()
	return serve(t, dataDir,
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID,
		"JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8",
	)
}

// The whole path as Antly documents it: a token from the OAuth2 server,
// Antly's subscribe example with only the URL and token changed, a customer
// created, the signed webhook received and verified, Antly's unsubscribe.
func TestSubscribeCreateReceiveUnsubscribe(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)

	first, second := newReceiver(), newReceiver()
	srv1, srv2 := httptest.NewServer(first), httptest.NewServer(second)
	defer srv1.Close()
	defer srv2.Close()

	sub := p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix":   "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": srv1.URL + "/webhooks/handle",
	}).must(t)
	var subData struct{ ID, Secret string }
	sub.decode(t, &subData)
	if subData.ID == "" || len(subData.Secret) < 10 {
		t.Fatalf("subscribe answered %s, want an id and a secret", sub.Data)
	}
	p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix":   "Second", "trigger": "profile.Customer:*", "webhookUrl": srv2.URL,
	}).must(t)

	created := p.jql(map[string]any{
		"__meta__": meta("profile.Customer", "model", "create", tok),
		"name":     "Ada Lovelace", "email": "ada@example.com",
	}).must(t)
	var customer map[string]any
	created.decode(t, &customer)

	got := first.waitFor(t, 1, 30*time.Second)[0]
	ev, err := webhook.Verify(subData.Secret, got.Header, got.Body)
	if err != nil {
		t.Fatalf("webhook does not verify: %v\nheaders %v\nbody %s", err, got.Header, got.Body)
	}
	if ev.Event != "profile.Customer:create" || ev.Data["name"] != "Ada Lovelace" || ev.Data["id"] != customer["id"] {
		t.Errorf("webhook event %+v, want the created customer %v", ev, customer)
	}
	for h, want := range map[string]string{"X-Webhook-Event": "profile.Customer:create", "X-Webhook-Subscription": subData.ID, "X-Webhook-Entity-Id": customer["id"].(string), "X-Webhook-Attempt": "1"} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("header %s = %q, want %q", h, v, want)
		}
	}
	var body map[string]json.RawMessage
	_ = json.Unmarshal(got.Body, &body)
	for _, k := range []string{"id", "event", "timestamp", "data"} {
		if _, ok := body[k]; !ok {
			t.Errorf("webhook body lacks %q: %s", k, got.Body)
		}
	}

	p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "unsubscribeFromWebhook", tok),
		"prefix":   "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": srv1.URL + "/webhooks/handle",
	}).must(t)
	second.waitFor(t, 1, 30*time.Second)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Grace Hopper", "email": "grace@example.com"}).must(t)
	// The second subscription still gets events; once it has the new one,
	// the first would have had it too if it were still subscribed.
	second.waitFor(t, 2, 30*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := first.count(); n != 1 {
		t.Errorf("unsubscribed receiver got %d webhooks, want 1", n)
	}
}
