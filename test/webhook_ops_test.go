package test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// An operator's view over HTTP: a delivery made after a customer is created
// shows in getWebhookLogs as Done, with the receiver's answer, and
// system.Schema describes the operator intents.
func TestWebhookLogsOverHTTP(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	var sub struct{ ID string }
	p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix":   "Ops", "trigger": "profile.Customer:create", "webhookUrl": srv.URL,
	}).must(t).decode(t, &sub)
	p.jql(map[string]any{
		"__meta__": meta("profile.Customer", "model", "create", tok),
		"name":     "Grace Hopper", "email": "grace@example.com",
	}).must(t)
	got := rcv.waitFor(t, 1, 30*time.Second)[0]

	var entries []struct {
		Status, DeliveryID string
		Attempt            int
		Request            struct{ Body string }
		Response           struct{ Code int }
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "getWebhookLogs", tok), "id": sub.ID}).must(t)
		a.decode(t, &entries)
		if len(entries) == 1 && entries[0].Status == "Done" {
			if a.Extras["filtered"] != 1 || a.Extras["display"] != 1 {
				t.Errorf("extras = %v, want filtered 1, display 1", a.Extras)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("getWebhookLogs = %s, want one Done attempt", a.Data)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e := entries[0]
	if e.Attempt != 1 || e.Response.Code != 200 || e.DeliveryID != got.Header.Get("webhook-id") || !strings.Contains(e.Request.Body, "Grace Hopper") {
		t.Errorf("log entry %+v, want attempt 1 answered 200 for webhook-id %s", e, got.Header.Get("webhook-id"))
	}

	other := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "getWebhookLogs", tok), "id": sub.ID, "status": "Lost"})
	if other.HTTPStatus != 400 || len(other.Errors) == 0 || other.Errors[0].Field != "status" {
		t.Errorf("bad status answered %d %s, want 400 on status", other.HTTPStatus, other.Raw)
	}
	describe := p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.Schema", "schema": "controller", "intent": "describe"}}).must(t)
	for _, intent := range []string{"getWebhookLogs", "getWebhookQueue", "retryDelivery", "replayEvent", "testWebhook"} {
		if !strings.Contains(string(describe.Data), `"`+intent+`"`) {
			t.Errorf("describe does not list %s", intent)
		}
	}
}
