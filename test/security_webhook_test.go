package test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webhookCall posts one system.Webhook intent with tok and fields.
func webhookCall(p *proc, intent, tok string, fields map[string]any) answer {
	body := map[string]any{"__meta__": meta("system.Webhook", "controller", intent, tok)}
	for k, v := range fields {
		body[k] = v
	}
	return p.jql(body)
}

// wantFieldError fails unless a answered status with an error on field.
func wantFieldError(t *testing.T, what string, a answer, status int, field string) {
	t.Helper()
	if a.HTTPStatus != status || len(a.Errors) == 0 || a.Errors[0].Field != field {
		t.Errorf("%s answered %d %s, want %d on field %s", what, a.HTTPStatus, a.Raw, status, field)
	}
}

// Credentials in custom headers are sealed at rest, redacted in every
// answer and in the delivery log, never in the process's log, and still
// reach the receiver in clear; a subscription read back and written back
// keeps them.
func TestSecurityWebhookSecretHeadersSealedAndRedacted(t *testing.T) {
	dir := t.TempDir()
	p := serveWithAdmin(t, dir)
	tok := p.token(adminID, adminSecret)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	secrets := map[string]string{
		"Authorization": "Bearer sealed-authz-7f3a91",
		"X-Api-Key":     "sealed-apikey-c20d44",
		"Cookie":        "session=sealed-cookie-e81b07",
		"X-Partner-Id":  "sealed-marked-5a6c2e", // secret only because it is marked
	}
	headers := map[string]any{"X-Plain": "plain-value-visible"}
	for k, v := range secrets {
		headers[k] = v
	}
	sub := webhookCall(p, "subscribeToWebhook", tok, map[string]any{
		"prefix": "Sec", "trigger": "profile.Customer:create", "webhookUrl": srv.URL,
		"headers": headers, "secretHeaders": []string{"x-partner-id"},
	}).must(t)
	var view struct {
		ID      string
		Headers map[string]string
	}
	sub.decode(t, &view)

	answers := map[string]answer{"subscribeToWebhook": sub}
	answers["getWebhook"] = webhookCall(p, "getWebhook", tok, map[string]any{"id": view.ID}).must(t)
	answers["listWebhooks"] = webhookCall(p, "listWebhooks", tok, nil).must(t)
	// Written back as read: the redacted values keep the stored ones.
	answers["updateWebhook"] = webhookCall(p, "updateWebhook", tok, map[string]any{"id": view.ID, "headers": view.Headers}).must(t)
	for intent, a := range answers {
		for name, v := range secrets {
			if strings.Contains(a.Raw, v) {
				t.Errorf("%s shows the value of %s: %s", intent, name, a.Raw)
			}
		}
	}
	for name := range secrets {
		if view.Headers[name] != "[redacted]" {
			t.Errorf("subscribe shows header %s as %q, want [redacted]", name, view.Headers[name])
		}
	}
	if view.Headers["X-Plain"] != "plain-value-visible" {
		t.Errorf("subscribe shows X-Plain as %q, want its value", view.Headers["X-Plain"])
	}

	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Sealed Header", "email": "sh@example.com"}).must(t)
	got := rcv.waitFor(t, 1, 30*time.Second)[0]
	for name, v := range secrets {
		if got.Header.Get(name) != v {
			t.Errorf("receiver got %s = %q, want %q (sent unsealed)", name, got.Header.Get(name), v)
		}
	}

	logs := waitLogs(t, p, tok, view.ID, 1)
	for name, v := range secrets {
		if strings.Contains(logs.Raw, v) {
			t.Errorf("getWebhookLogs shows the value of %s: %s", name, logs.Raw)
		}
		if strings.Contains(p.logs.String(), v) {
			t.Errorf("the process logged the value of %s", name)
		}
	}
	if os.Getenv("MONGODB_URI") == "" {
		p.signal(os.Interrupt)
		p.wait(30 * time.Second)
		for name, v := range secrets {
			if f := fileContaining(t, dir, v); f != "" {
				t.Errorf("the value of %s is stored in clear in %s", name, f)
			}
		}
	}
}

// waitLogs waits until subscription id's log shows n entries, all Done.
func waitLogs(t *testing.T, p *proc, tok, id string, n int) answer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := webhookCall(p, "getWebhookLogs", tok, map[string]any{"id": id}).must(t)
		var entries []struct{ Status string }
		a.decode(t, &entries)
		done := 0
		for _, e := range entries {
			if e.Status == "Done" {
				done++
			}
		}
		if done >= n {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("getWebhookLogs = %s, want %d Done attempts", a.Data, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fileContaining returns a file under dir that contains s, or "".
func fileContaining(t *testing.T, dir, s string) string {
	t.Helper()
	found := ""
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(s)) {
			found = path
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A token narrowed to system.Webhook:* (the same client, so the same
// owner) no longer reads customer records: the log withholds the bodies of
// customer events, and replaying or retrying them is refused, while the
// full token still sees and replays them.
func TestSecurityWebhookEventDataNeedsReadPermission(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	full := p.token(adminID, adminSecret)
	narrow := p.token(adminID, adminSecret, "system.Webhook:*")
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	var sub struct{ ID string }
	webhookCall(p, "subscribeToWebhook", full, map[string]any{"prefix": "Read", "trigger": "profile.Customer:create", "webhookUrl": srv.URL}).must(t).decode(t, &sub)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", full), "name": "Private Person", "email": "private@example.com"}).must(t)
	rcv.waitFor(t, 1, 30*time.Second)
	fullLogs := waitLogs(t, p, full, sub.ID, 1)
	if !strings.Contains(fullLogs.Raw, "Private Person") {
		t.Fatalf("the full token's log lacks the body: %s", fullLogs.Raw)
	}
	var entries []struct {
		EventID, DeliveryID string
		Withheld            bool
	}
	fullLogs.decode(t, &entries)

	narrowLogs := webhookCall(p, "getWebhookLogs", narrow, map[string]any{"id": sub.ID}).must(t)
	if strings.Contains(narrowLogs.Raw, "Private Person") || strings.Contains(narrowLogs.Raw, "private@example.com") {
		t.Errorf("a token without profile.Customer:retrieve reads the record in the log: %s", narrowLogs.Raw)
	}
	var withheld []struct{ Withheld bool }
	narrowLogs.decode(t, &withheld)
	if len(withheld) != 1 || !withheld[0].Withheld {
		t.Errorf("narrowed log = %s, want one entry marked withheld", narrowLogs.Data)
	}

	replay := webhookCall(p, "replayEvent", narrow, map[string]any{"eventId": entries[0].EventID})
	wantFieldError(t, "replayEvent with a narrowed token", replay, 403, "eventId")
	retry := webhookCall(p, "retryDelivery", narrow, map[string]any{"deliveryId": entries[0].DeliveryID})
	wantFieldError(t, "retryDelivery with a narrowed token", retry, 403, "deliveryId")
	retryAll := webhookCall(p, "retryDelivery", narrow, map[string]any{"id": sub.ID, "since": "2000-01-01T00:00:00Z"})
	wantFieldError(t, "retryDelivery of a subscription with a narrowed token", retryAll, 403, "id")
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests after refused replays, want 1", n)
	}
	webhookCall(p, "replayEvent", full, map[string]any{"eventId": entries[0].EventID}).must(t)
	rcv.waitFor(t, 2, 30*time.Second)
}

// One owner may hold at most --max-subscriptions-per-owner subscriptions:
// the next is refused with 409 naming the cap, subscribing again to an
// existing one still answers it, and unsubscribing makes room.
func TestSecurityWebhookSubscriptionCapPerOwner(t *testing.T) {
	p := serve(t, t.TempDir(),
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_MAX_SUBSCRIPTIONS_PER_OWNER=3")
	tok := p.token(adminID, adminSecret)
	srv := httptest.NewServer(newReceiver())
	defer srv.Close()
	subscribe := func(path string) answer {
		return webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "Cap", "trigger": "profile.Customer:create", "webhookUrl": srv.URL + path})
	}
	for _, path := range []string{"/1", "/2", "/3"} {
		subscribe(path).must(t)
	}
	over := subscribe("/4")
	if over.HTTPStatus != 409 || len(over.Errors) == 0 || over.Errors[0].ErrorCode != "JQL:ConflictException" || !strings.Contains(over.Errors[0].ErrorMessage, "3") {
		t.Errorf("a fourth subscription answered %d %s, want 409 ConflictException naming the cap 3", over.HTTPStatus, over.Raw)
	}
	subscribe("/2").must(t)
	webhookCall(p, "unsubscribeFromWebhook", tok, map[string]any{"prefix": "Cap", "trigger": "profile.Customer:create", "webhookUrl": srv.URL + "/1"}).must(t)
	subscribe("/4").must(t)
}

// webhookUrl ports outside 1-65535 and absurd rate limits are refused on
// their field, at subscribe and at update.
func TestSecurityWebhookPortAndRateLimitRanges(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	srv := httptest.NewServer(newReceiver())
	defer srv.Close()
	base := map[string]any{"prefix": "Range", "trigger": "profile.Customer:create"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{"webhookUrl": srv.URL}
		for bk, bv := range base {
			m[bk] = bv
		}
		m[k] = v
		return m
	}
	// Loopback is allowed here, so only the port can make these wrong (and
	// no lookup can fail first).
	for _, u := range []string{"http://127.0.0.1:0/x", "http://127.0.0.1:65536/x", "http://127.0.0.1:99999/x", "http://127.0.0.1:00/x"} {
		a := webhookCall(p, "subscribeToWebhook", tok, with("webhookUrl", u))
		wantFieldError(t, "webhookUrl "+u, a, 400, "webhookUrl")
		if len(a.Errors) > 0 && !strings.Contains(a.Errors[0].ErrorMessage, "port") {
			t.Errorf("webhookUrl %s refused with %q, want a message about the port", u, a.Errors[0].ErrorMessage)
		}
	}
	for _, v := range []any{json.Number("1e-300"), -1, json.Number("10000.5"), 1e9, "NaN", json.Number("0.009")} {
		a := webhookCall(p, "subscribeToWebhook", tok, with("rateLimitPerSecond", v))
		wantFieldError(t, "rateLimitPerSecond "+strings.TrimSpace(toJSON(v)), a, 400, "rateLimitPerSecond")
	}
	var sub struct {
		ID                 string
		RateLimitPerSecond float64
	}
	webhookCall(p, "subscribeToWebhook", tok, with("rateLimitPerSecond", 0.01)).must(t).decode(t, &sub)
	if sub.RateLimitPerSecond != 0.01 {
		t.Errorf("rateLimitPerSecond 0.01 stored as %v", sub.RateLimitPerSecond)
	}
	wantFieldError(t, "update to port 0", webhookCall(p, "updateWebhook", tok, map[string]any{"id": sub.ID, "webhookUrl": "http://127.0.0.1:0/"}), 400, "webhookUrl")
	wantFieldError(t, "update to rate 1e-300", webhookCall(p, "updateWebhook", tok, map[string]any{"id": sub.ID, "rateLimitPerSecond": json.Number("1e-300")}), 400, "rateLimitPerSecond")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// retryDelivery answers another owner's delivery exactly as it answers a
// delivery that does not exist, so ids can't be probed.
func TestSecurityWebhookRetryOtherOwnersDeliveryLikeMissing(t *testing.T) {
	dir := t.TempDir()
	// Not an operator: "*" holds system.Webhook:operate, which may retry
	// every owner's deliveries.
	other := createClient(t, dir, "other", "system.Webhook:* profile.Customer:*")
	p := serveWithAdmin(t, dir)
	tok := p.token(adminID, adminSecret)
	otherTok := p.token(other.ClientID, other.ClientSecret)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	var sub struct{ ID string }
	webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "Mine", "trigger": "profile.Customer:create", "webhookUrl": srv.URL}).must(t).decode(t, &sub)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Owner Only", "email": "owner@example.com"}).must(t)
	rcv.waitFor(t, 1, 30*time.Second)
	var entries []struct{ DeliveryID string }
	waitLogs(t, p, tok, sub.ID, 1).decode(t, &entries)
	id := entries[0].DeliveryID
	missingID := "msg_" + strings.Repeat("a", len(id)-len("msg_"))

	foreign := webhookCall(p, "retryDelivery", otherTok, map[string]any{"deliveryId": id})
	missing := webhookCall(p, "retryDelivery", otherTok, map[string]any{"deliveryId": missingID})
	if foreign.HTTPStatus != 404 || foreign.HTTPStatus != missing.HTTPStatus || foreign.Raw != missing.Raw {
		t.Errorf("another owner's delivery answered %d %s\na missing one answered %d %s\nwant the same 404", foreign.HTTPStatus, foreign.Raw, missing.HTTPStatus, missing.Raw)
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests, want 1: another owner retried the delivery", n)
	}
}
