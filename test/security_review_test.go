package test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A username no user can have (Create refuses it) is a 400 on username,
// not a failed login: the login throttle kept every failed username as
// sent, so unique usernames of up to the string limit (256 KiB) each held
// that much memory for 15 minutes, from unauthenticated requests.
func TestSecurityReviewLoginUsernameNotRemembered(t *testing.T) {
	p := serve(t, t.TempDir())
	huge := strings.Repeat("a", 200<<10)
	for _, name := range []string{huge, " ada", "ada\t", "a b"} {
		// More than the 5 free failures: a remembered name would lock.
		for i := range 6 {
			a := login(p, name, "wrong password")
			if a.HTTPStatus != 400 || len(a.Errors) != 1 || a.Errors[0].Field != "username" {
				t.Fatalf("login %d as %.20q: got %d %.300s, want 400 on username", i+1, name, a.HTTPStatus, a.Raw)
			}
		}
	}
	// A valid unknown name is still an ordinary failed login.
	if a := login(p, "no-such-user", "wrong password"); a.HTTPStatus != 401 {
		t.Fatalf("unknown valid user: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
}

// An operator sees another owner's subscription with every custom header
// value hidden (they may carry the receiver's credentials under any
// name); getWebhookLogs and testWebhook showed the same values in the
// request headers of each attempt.
func TestSecurityReviewOperatorSeesNoCustomHeaderValues(t *testing.T) {
	dataDir := t.TempDir()
	sub := createClient(t, dataDir, "subscriber", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	op := createClient(t, dataDir, "operator", "system.Webhook:operate system.Webhook:privateTargets")
	p := serveWithAdmin(t, dataDir)
	admin := p.token(adminID, adminSecret)
	subTok, opTok := p.token(sub.ClientID, sub.ClientSecret), p.token(op.ClientID, op.ClientSecret)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	const value = "tenant-credential-4b1e9c"
	var created struct{ ID string }
	webhookCall(p, "subscribeToWebhook", subTok, map[string]any{
		"prefix": "Review", "trigger": "profile.Customer:create", "webhookUrl": srv.URL,
		"headers": map[string]string{"X-Tenant-Ref": value},
	}).must(t).decode(t, &created)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", admin), "name": "Header Review", "email": "hr@example.com"}).must(t)
	rcv.waitFor(t, 1, 30*time.Second)

	// The owner still sees its own value.
	if own := waitLogs(t, p, subTok, created.ID, 1); !strings.Contains(own.Raw, value) {
		t.Fatalf("the owner's log does not show its own header: %s", own.Raw)
	}
	answers := map[string]answer{
		"getWebhook":              webhookCall(p, "getWebhook", opTok, map[string]any{"id": created.ID}).must(t),
		"getWebhookLogs id":       webhookCall(p, "getWebhookLogs", opTok, map[string]any{"id": created.ID}).must(t),
		"getWebhookLogs owner":    webhookCall(p, "getWebhookLogs", opTok, map[string]any{"owner": "client:" + sub.ClientID}).must(t),
		"getWebhookLogs owner *":  webhookCall(p, "getWebhookLogs", opTok, map[string]any{"owner": "*"}).must(t),
		"testWebhook by operator": webhookCall(p, "testWebhook", opTok, map[string]any{"id": created.ID}).must(t),
	}
	for what, a := range answers {
		if strings.Contains(a.Raw, value) {
			t.Errorf("%s shows an operator another owner's custom header value: %s", what, a.Raw)
		}
		if what != "getWebhook" && !strings.Contains(a.Raw, "X-Tenant-Ref") {
			t.Errorf("%s has no X-Tenant-Ref request header (want it named, its value hidden): %s", what, a.Raw)
		}
	}
}
