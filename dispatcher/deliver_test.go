package dispatcher_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

func sortAttempts(as []*jqlgate.Attempt) []*jqlgate.Attempt {
	sort.Slice(as, func(i, j int) bool { return as[i].Attempt < as[j].Attempt })
	return as
}

func TestOAuth2Receiver(t *testing.T) {
	var tokenCalls int
	var mu sync.Mutex
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if r.FormValue("grant_type") != "client_credentials" || id != "cid" || secret != "csecret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		mu.Lock()
		tokenCalls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(tokenSrv.Close)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	s := sub("sub_o", "*", rc.URL)
	s.OAuth2 = &jqlgate.ReceiverOAuth2{TokenURL: tokenSrv.URL, ClientID: "cid", ClientSecret: "csecret"}
	e := start(t, newSource(s), dispatcher.Config{})
	publish(t, e, event("a.B:create", "1", nil), event("a.B:create", "2", nil))
	as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 2 })
	for _, a := range as {
		if a.Status != jqlgate.StatusDone {
			t.Errorf("attempt %s: %s %d %s, want Done", a.EventID, a.Status, a.ResponseCode, a.Error)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if tokenCalls != 1 {
		t.Errorf("token endpoint called %d times, want 1 (cached)", tokenCalls)
	}
}

func TestRetryThenDone(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	})
	s := sub("sub_retry", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{20 * time.Millisecond}
	e := start(t, newSource(s), dispatcher.Config{})
	publish(t, e, event("a.B:create", "1", nil))
	first, second := rc.next(t), rc.next(t)
	if first.Header.Get("webhook-id") != second.Header.Get("webhook-id") {
		t.Errorf("webhook-id changed across retries: %q then %q", first.Header.Get("webhook-id"), second.Header.Get("webhook-id"))
	}
	if got := second.Header.Get("X-Webhook-Attempt"); got != "2" {
		t.Errorf("second X-Webhook-Attempt = %q, want 2", got)
	}
	as := sortAttempts(e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 2 }))
	if as[0].Status != jqlgate.StatusResent || as[0].ResponseCode != 500 || as[0].NextAttemptAt.IsZero() || as[0].ResponseBody != "busy\n" {
		t.Errorf("first attempt = %s %d next=%v body=%q, want Resent 500 with a next time", as[0].Status, as[0].ResponseCode, as[0].NextAttemptAt, as[0].ResponseBody)
	}
	if as[1].Status != jqlgate.StatusDone {
		t.Errorf("second attempt = %s, want Done", as[1].Status)
	}
}

func TestFailureOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		respond func(n int, w http.ResponseWriter, r *http.Request)
		want    []string
		errHas  string
	}{
		{"last retry fails", func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) },
			[]string{"Resent", "Failed"}, "Bad Gateway"},
		{"redirect is a failure", func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		}, []string{"Resent", "Failed"}, "redirect"},
		{"410 gives up at once", func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(410) },
			[]string{"Failed"}, "410"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.respond)
			s := sub("sub_f", "*", rc.URL)
			s.RetryPolicy.Schedule = []time.Duration{10 * time.Millisecond}
			var disabled []string
			var mu sync.Mutex
			dis := dispatcher.DisablerFunc(func(_ context.Context, id, _ string) error {
				mu.Lock()
				defer mu.Unlock()
				disabled = append(disabled, id)
				return nil
			})
			e := start(t, newSource(s), dispatcher.Config{Disabler: dis})
			publish(t, e, event("a.B:create", "1", nil))
			as := sortAttempts(e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == len(tt.want) }))
			for i, a := range as {
				if a.Status != tt.want[i] || !strings.Contains(a.Error, tt.errHas) {
					t.Errorf("attempt %d = %s %q, want %s containing %q", i+1, a.Status, a.Error, tt.want[i], tt.errHas)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if wantDisabled := tt.want[0] == "Failed"; wantDisabled != (len(disabled) == 1) {
				t.Errorf("disabled = %v", disabled)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	s := sub("sub_ra", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{time.Second}
	e := start(t, newSource(s), dispatcher.Config{})
	publish(t, e, event("a.B:create", "1", nil))
	as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
	if wait := time.Until(as[0].NextAttemptAt); wait < 100*time.Second || wait > 121*time.Second {
		t.Errorf("next attempt in %s, want about 120s", wait)
	}
}

func TestMatching(t *testing.T) {
	rc := newReceiver(t, nil)
	subs := []*jqlgate.Subscription{
		sub("exact", "profile.Customer:create", rc.URL),
		sub("model", "profile.Customer:*", rc.URL),
		sub("all", "*", rc.URL),
		sub("other", "shop.Order:create", rc.URL),
		sub("filtered", "profile.Customer:create", rc.URL),
	}
	subs[4].Filter = map[string]any{"tier": "gold", "age__gte": 18}
	e := start(t, newSource(subs...), dispatcher.Config{})
	tests := []struct {
		ev   *jqlgate.Event
		want []string
	}{
		{event("profile.Customer:create", "1", map[string]any{"tier": "gold", "age": 30}), []string{"all", "exact", "filtered", "model"}},
		{event("profile.Customer:create", "2", map[string]any{"tier": "gold", "age": 12}), []string{"all", "exact", "model"}},
		{event("profile.Customer:delete", "3", nil), []string{"all", "model"}},
		{event("shop.Order:create", "4", nil), []string{"all", "other"}},
	}
	for _, tt := range tests {
		publish(t, e, tt.ev)
		var got []string
		for range tt.want {
			got = append(got, rc.next(t).Header.Get("X-Webhook-Subscription"))
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s %v went to %v, want %v", tt.ev.Type, tt.ev.Data, got, tt.want)
		}
	}
	select {
	case r := <-rc.reqs:
		t.Errorf("unexpected extra delivery to %s", r.Header.Get("X-Webhook-Subscription"))
	case <-time.After(100 * time.Millisecond):
	}
}

func TestConnectTimeRefusal(t *testing.T) {
	rc := newReceiver(t, nil)
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	// The name resolved public when the subscription was made; now it
	// resolves to loopback (DNS rebinding).
	resolve := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	tests := []struct {
		name   string
		policy jqlgate.AddrPolicy
		want   string
	}{
		{"refused", jqlgate.AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, jqlgate.StatusResent},
		{"allowed", loopback, jqlgate.StatusDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sub("sub_dns", "*", "http://hooks.example.com:"+port+"/in")
			e := start(t, newSource(s), dispatcher.Config{Policy: tt.policy, Resolve: resolve})
			publish(t, e, event("a.B:create", "1", nil))
			as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
			if as[0].Status != tt.want {
				t.Fatalf("attempt = %s %q, want %s", as[0].Status, as[0].Error, tt.want)
			}
			if tt.want == jqlgate.StatusResent && !strings.Contains(as[0].Error, "not allowed") {
				t.Errorf("error = %q, want a refused address", as[0].Error)
			}
		})
	}
	if len(rc.reqs) != 1 {
		t.Errorf("receiver got %d requests, want only the allowed one", len(rc.reqs))
	}
}

func TestRemovedSubscriptionCancelsPending(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	s := sub("sub_gone", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{time.Hour}
	src := newSource(s)
	// Retries in memory: one left in the store is failed when it falls due.
	e := start(t, src, dispatcher.Config{RetryHorizon: -1})
	publish(t, e, event("a.B:create", "1", nil))
	e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
	src.remove("sub_gone")
	if err := e.d.SubscriptionChanged(context.Background(), "sub_gone"); err != nil {
		t.Fatalf("SubscriptionChanged: %v", err)
	}
	as := sortAttempts(e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 2 }))
	if as[1].Status != jqlgate.StatusFailed || as[1].Error != "subscription removed" || as[1].ResponseCode != 0 {
		t.Errorf("after removal: %s %q code %d, want Failed \"subscription removed\" unsent", as[1].Status, as[1].Error, as[1].ResponseCode)
	}
	publish(t, e, event("a.B:create", "2", nil))
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.reqs); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

func TestVersionPollPicksUpNewSubscription(t *testing.T) {
	rc := newReceiver(t, nil)
	src := newSource()
	e := start(t, src, dispatcher.Config{})
	src.put(sub("sub_late", "*", rc.URL))
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.reqs) == 0 && time.Now().Before(deadline) {
		publish(t, e, event("a.B:create", "1", nil))
		time.Sleep(30 * time.Millisecond)
	}
	if len(rc.reqs) == 0 {
		t.Fatal("a subscription added behind the dispatcher's back never received events")
	}
}
