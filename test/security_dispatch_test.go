package test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// hangingReceiver accepts requests and never answers until released.
type hangingReceiver struct {
	*httptest.Server
	release chan struct{}
	active  atomic.Int64
	total   atomic.Int64
}

func newHangingReceiver(t *testing.T) *hangingReceiver {
	h := &hangingReceiver{release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.active.Add(1)
		h.total.Add(1)
		defer h.active.Add(-1)
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
	}))
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() { close(h.release) })
		h.Close()
	})
	return h
}

// Item 2: one owner's hanging receiver no longer starves everyone else.
// Owner A has two subscriptions at the largest settings allowed
// (maxInFlight 50, timeoutSeconds 30: together more than the 64 workers)
// to a receiver that never answers, and creates 80 customers; owner B's
// delivery still arrives at once, while A's receiver is still hanging.
// Before owners had a bounded share of the workers, B waited for A's
// timeouts (58.7 s in the report).
func TestSecurityFairnessHangingOwnerDoesNotStarveOthers(t *testing.T) {
	dir := t.TempDir()
	b := createClient(t, dir, "owner-b", "*")
	bID, bSecret := b.ClientID, b.ClientSecret
	p := serve(t, dir,
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_RATE_LIMIT=100000", "JQLGATE_RATE_BURST=100000")
	tokA, tokB := p.token(adminID, adminSecret), p.token(bID, bSecret)

	// B's record and subscription (to updates, so A's flood of creates
	// does not reach B's receiver).
	var cust struct{ ID string }
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tokB), "name": "B's customer", "email": "b@example.com"}).must(t).decode(t, &cust)
	fast := newReceiver()
	fastSrv := httptest.NewServer(fast)
	defer fastSrv.Close()
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tokB),
		"prefix": "B", "trigger": "profile.Customer:update", "webhookUrl": fastSrv.URL + "/b"}).must(t)

	hang := newHangingReceiver(t)
	for i := range 2 {
		p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tokA),
			"prefix": fmt.Sprint("A", i), "trigger": "profile.Customer:create", "webhookUrl": fmt.Sprintf("%s/a%d", hang.URL, i),
			"maxInFlight": 50, "timeoutSeconds": 30}).must(t)
	}
	for i := range 80 {
		p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tokA),
			"name": fmt.Sprint("A flood ", i), "email": fmt.Sprintf("a%d@example.com", i)}).must(t)
	}
	deadline := time.Now().Add(20 * time.Second)
	for hang.active.Load() < 16 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// Let the dispatcher take every worker it is going to give A.
	time.Sleep(300 * time.Millisecond)
	inFlightA := hang.active.Load()
	if inFlightA < 16 {
		t.Fatalf("A's hanging receiver holds %d requests, want the flood under way", inFlightA)
	}

	start := time.Now()
	p.jql(map[string]any{"__meta__": map[string]any{"namespace": "profile.Customer", "schema": "model", "intent": "update",
		"authenticationClass": "oauth2", "authenticationToken": tokB, "uniqueObject": map[string]any{"id": cust.ID}},
		"name": "B's customer, renamed"}).must(t)
	fast.waitFor(t, 1, 5*time.Second)
	latency := time.Since(start)
	stillHanging := hang.active.Load()
	t.Logf("owner B's delivery arrived %v after its update, with %d of A's requests hanging (A in flight at start: %d)", latency, stillHanging, inFlightA)
	if stillHanging == 0 {
		t.Errorf("A's receiver stopped hanging before B's delivery arrived; the test proves nothing")
	}
	if inFlightA > 64/4 {
		t.Errorf("A held %d requests in flight, more than its share of 16 of the 64 workers", inFlightA)
	}
}

// Item 7: reaching receivers that only --webhook-allow-cidrs makes
// reachable takes system.Webhook:privateTargets, which system.Webhook:*
// does not grant (not even as a narrowed token scope); testWebhook is
// limited per owner (429 JQL:RateLimitException with Retry-After) and shows
// at most 4 KiB of the receiver's answer.
func TestSecurityPrivateTargetsNeedTheirOwnPermission(t *testing.T) {
	dir := t.TempDir()
	plainC := createClient(t, dir, "plain", "system.Webhook:* profile.Customer:*")
	plainID, plainSecret := plainC.ClientID, plainC.ClientSecret
	fullC := createClient(t, dir, "full", "*")
	fullID, fullSecret := fullC.ClientID, fullC.ClientSecret
	p := serve(t, dir,
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_RATE_LIMIT=100000", "JQLGATE_RATE_BURST=100000")

	secretDoc := strings.Repeat("internal-secret ", 1024) // 16 KiB
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, secretDoc)
	}))
	defer internal.Close()
	subscribe := func(tok, prefix string) answer {
		return p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
			"prefix": prefix, "trigger": "profile.Customer:create", "webhookUrl": internal.URL + "/internal"})
	}

	plain := p.token(plainID, plainSecret)
	if a := subscribe(plain, "Plain"); a.HTTPStatus != 403 || len(a.Errors) == 0 || a.Errors[0].Field != "webhookUrl" ||
		!strings.Contains(a.Errors[0].ErrorMessage, "system.Webhook:privateTargets") {
		t.Errorf("subscribe to a private-but-allowed receiver with system.Webhook:* answered %d %s, want 403 on webhookUrl naming system.Webhook:privateTargets", a.HTTPStatus, a.Raw)
	}
	cc := clientcredentials.Config{ClientID: plainID, ClientSecret: plainSecret, TokenURL: p.URL + "/oauth2/token", Scopes: []string{"system.Webhook:privateTargets"}}
	if _, err := cc.Token(context.Background()); err == nil {
		t.Error("a client holding system.Webhook:* got a token with scope system.Webhook:privateTargets")
	}

	// The full client's subscription; a token narrowed to system.Webhook:*
	// may not test (read) it.
	var sub struct{ ID string }
	subscribe(p.token(fullID, fullSecret), "Full").must(t).decode(t, &sub)
	narrowed := p.token(fullID, fullSecret, "system.Webhook:*", "profile.Customer:*")
	a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "testWebhook", narrowed), "id": sub.ID})
	if a.HTTPStatus != 403 || strings.Contains(a.Raw, "internal-secret") {
		t.Errorf("testWebhook of a private receiver without system.Webhook:privateTargets answered %d %.300s, want 403 without the body", a.HTTPStatus, a.Raw)
	}

	// With the permission: a few tests pass, each showing at most 4 KiB,
	// then 429 with Retry-After.
	full := p.token(fullID, fullSecret)
	limited := 0
	for i := range 20 {
		a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "testWebhook", full), "id": sub.ID})
		if a.HTTPStatus == 429 {
			if len(a.Errors) == 0 || a.Errors[0].ErrorCode != "JQL:RateLimitException" || a.Header.Get("Retry-After") == "" {
				t.Errorf("429 answer %s (Retry-After %q), want JQL:RateLimitException with Retry-After", a.Raw, a.Header.Get("Retry-After"))
			}
			limited++
			continue
		}
		var view struct {
			StatusCode int
			Body       string
		}
		a.must(t).decode(t, &view)
		if view.StatusCode != 200 || len(view.Body) > 4096 || !strings.HasPrefix(view.Body, "internal-secret") {
			t.Errorf("test %d: status %d, body of %d bytes; want 200 and at most 4096 bytes", i, view.StatusCode, len(view.Body))
		}
	}
	if limited == 0 {
		t.Error("20 testWebhook calls in a row were all sent; want a per-owner rate limit")
	}
}

// Item 11: IPv6 forms that embed a special IPv4 address (IPv4-compatible,
// 6to4, Teredo, NAT64 local-use, SIIT) and the deprecated site-local range
// are refused at subscribe, with 400 on webhookUrl.
func TestSecurityEmbeddedIPv4ReceiversRefused(t *testing.T) {
	p := serve(t, t.TempDir(), "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret)
	tok := p.token(adminID, adminSecret)
	for _, host := range []string{"[::127.0.0.2]", "[::169.254.169.254]", "[2002:a9fe:a9fe::1]", "[2001:0:a9fe:a9fe::1]",
		"[64:ff9b:1::a9fe:a9fe]", "[::ffff:0:a9fe:a9fe]", "[fec0::1]"} {
		a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
			"prefix": "X", "trigger": "profile.Customer:create", "webhookUrl": "http://" + host + "/x"})
		if a.HTTPStatus != 400 || len(a.Errors) == 0 || a.Errors[0].Field != "webhookUrl" {
			t.Errorf("subscribe to http://%s/x answered %d %s, want 400 on webhookUrl", host, a.HTTPStatus, a.Raw)
		}
	}
}
