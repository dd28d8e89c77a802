package dispatcher_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// verify recomputes Standard Webhooks' signature for one secret, the way a
// receiver would, and reports whether any of the header's entries matches.
func verify(t *testing.T, secret string, h http.Header, body []byte) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func TestSignVectors(t *testing.T) {
	body := []byte(`{"test": 2432232314}`)
	tests := []struct {
		name    string
		secrets []string
		want    string
	}{
		{"spec vector", []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"rotation", []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
			"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,O4Gjv1HqPqsMrjmczoggs/sWA8gZD0VyHG+fLh4+ktI="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dispatcher.Sign(tt.secrets, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
			if got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeliverySignedJSON(t *testing.T) {
	rc := newReceiver(t, nil)
	s := sub("sub_1", "profile.Customer:create", rc.URL+"/hook")
	s.Headers = map[string]string{"X-Tenant": "acme", "X-Api-Key": "k-123"}
	s.BasicAuth = &jqlgate.BasicAuth{Username: "user", Password: "pass"}
	e := start(t, newSource(s), dispatcher.Config{})
	ev := event("profile.Customer:create", "cus_1", map[string]any{"id": "cus_1", "name": "Ada"})
	ev.Timestamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	publish(t, e, ev)

	r := rc.next(t)
	if !verify(t, s.Secrets[0].Value, r.Header, r.Body) {
		t.Errorf("signature %q does not verify", r.Header.Get("webhook-signature"))
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	want := map[string]any{"id": ev.ID, "event": "profile.Customer:create", "timestamp": "2026-01-02T03:04:05Z",
		"subscriptionId": "sub_1", "data": map[string]any{"id": "cus_1", "name": "Ada"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	user, pass, _ := (&http.Request{Header: r.Header}).BasicAuth()
	headers := map[string]string{
		"webhook-id": dispatcher.DeliveryID(ev.ID, "sub_1"), "X-Webhook-Event": "profile.Customer:create",
		"X-Webhook-Subscription": "sub_1", "X-Webhook-Entity-Id": "cus_1", "X-Webhook-Attempt": "1",
		"User-Agent": "jqlgate/test", "Content-Type": "application/json", "X-Tenant": "acme", "X-Api-Key": "k-123",
	}
	for k, want := range headers {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if user != "user" || pass != "pass" {
		t.Errorf("basic auth = %q:%q, want user:pass", user, pass)
	}
	if ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); time.Since(time.Unix(ts, 0)) > time.Minute {
		t.Errorf("webhook-timestamp %d is not now", ts)
	}
	as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
	a := as[0]
	if a.Status != jqlgate.StatusDone || a.ResponseCode != 200 || a.Attempt != 1 {
		t.Errorf("attempt = %s/%d/#%d, want Done/200/#1", a.Status, a.ResponseCode, a.Attempt)
	}
	if _, ok := a.RequestHeaders["Authorization"]; ok {
		t.Errorf("recorded headers keep Authorization: %v", a.RequestHeaders)
	}
	if got := a.RequestHeaders["X-Api-Key"]; got != "[redacted]" {
		t.Errorf("recorded X-Api-Key = %q, want [redacted]", got)
	}
}

func TestRequestModes(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*jqlgate.Subscription)
		check func(t *testing.T, r received, ev *jqlgate.Event)
	}{
		{"form", func(s *jqlgate.Subscription) { s.ContentType = "application/x-www-form-urlencoded" }, checkForm},
		{"GET", func(s *jqlgate.Subscription) { s.Method = "GET" }, checkGet},
		{"entity id only", func(s *jqlgate.Subscription) { s.IncludeEntity = false }, checkEntityOnly},
		{"form entity id only", func(s *jqlgate.Subscription) {
			s.ContentType, s.IncludeEntity = "application/x-www-form-urlencoded", false
		}, checkFormEntityOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := sub("sub_m", "*", rc.URL)
			tt.setup(s)
			e := start(t, newSource(s), dispatcher.Config{})
			ev := event("profile.Customer:update", "cus_9", map[string]any{"id": "cus_9", "email": "a@b.c"})
			publish(t, e, ev)
			r := rc.next(t)
			signed := r.Body
			if r.Method == http.MethodGet {
				u, _ := url.Parse(r.URL)
				signed = []byte(u.RawQuery)
			}
			if !verify(t, s.Secrets[0].Value, r.Header, signed) {
				t.Errorf("signature does not verify")
			}
			tt.check(t, r, ev)
		})
	}
}

func checkForm(t *testing.T, r received, ev *jqlgate.Event) {
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("form body %q: %v", r.Body, err)
	}
	if v.Get("id") != ev.ID || v.Get("event") != ev.Type || v.Get("timestamp") == "" ||
		v.Get("subscriptionId") != "sub_m" || v.Get("entityId") != "cus_9" || v.Has("entityUrl") {
		t.Errorf("form = %v", v)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(v.Get("data")), &data); err != nil || data["email"] != "a@b.c" {
		t.Errorf("form data = %q (%v)", v.Get("data"), err)
	}
}

func checkGet(t *testing.T, r received, ev *jqlgate.Event) {
	if r.Method != "GET" || len(r.Body) != 0 {
		t.Errorf("got %s with %d body bytes, want GET without body", r.Method, len(r.Body))
	}
	u, _ := url.Parse(r.URL)
	q := u.Query()
	if q.Get("id") != ev.ID || q.Get("event") != ev.Type || q.Get("timestamp") == "" ||
		q.Get("subscriptionId") != "sub_m" || q.Get("entityId") != "cus_9" || q.Get("data") == "" {
		t.Errorf("query = %v", q)
	}
}

func checkFormEntityOnly(t *testing.T, r received, ev *jqlgate.Event) {
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("form body %q: %v", r.Body, err)
	}
	if v.Get("entityId") != "cus_9" || v.Has("data") {
		t.Errorf("form = %v, want entityId and no data", v)
	}
}

func checkEntityOnly(t *testing.T, r received, ev *jqlgate.Event) {
	var got struct{ Data map[string]any }
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"id": "cus_9"}, got.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

func TestRotationSignsWithEverySecret(t *testing.T) {
	rc := newReceiver(t, nil)
	s := sub("sub_r", "*", rc.URL)
	old := "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	expired := "whsec_ZXhwaXJlZGV4cGlyZWRleHBpcmVk"
	s.Secrets = append(s.Secrets, jqlgate.Secret{Value: old, ExpiresAt: time.Now().Add(time.Hour)},
		jqlgate.Secret{Value: expired, ExpiresAt: time.Now().Add(-time.Hour)})
	e := start(t, newSource(s), dispatcher.Config{})
	publish(t, e, event("a.B:create", "x", nil))
	r := rc.next(t)
	if n := len(strings.Fields(r.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("got %d signatures, want 2", n)
	}
	for _, sec := range []string{s.Secrets[0].Value, old} {
		if !verify(t, sec, r.Header, r.Body) {
			t.Errorf("no signature verifies with %s", sec)
		}
	}
	if verify(t, expired, r.Header, r.Body) {
		t.Errorf("expired secret still signs")
	}
}

// A v1a signature is the Ed25519 signature of id.timestamp.body, checked
// with crypto/ed25519 exactly as the Standard Webhooks spec defines it.
func TestSignV1aEd25519(t *testing.T) {
	key := jqlgate.NewSigningSecret(jqlgate.SchemeV1a)
	hmacSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	got := dispatcher.Sign([]string{key, hmacSecret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
	parts := strings.Fields(got)
	if len(parts) != 2 || parts[1] != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign = %q, want a v1a entry then the spec's v1 vector", got)
	}
	b64, ok := strings.CutPrefix(parts[0], "v1a,")
	sig, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		t.Fatalf("entry %q is not v1a,<base64>", parts[0])
	}
	pub, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(jqlgate.PublicSecret(key), "whpk_"))
	msg := []byte("msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + string(body))
	if !ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
		t.Errorf("v1a signature does not verify with the whpk_ public key")
	}
	if ed25519.Verify(ed25519.PublicKey(pub), append(msg, ' '), sig) {
		t.Errorf("v1a signature verifies a changed body")
	}
}

func TestBodySignature(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"a":1}`)
	for alg, h := range map[string]func() hash.Hash{"sha256": sha256.New, "sha1": sha1.New, "": sha256.New} {
		mac := hmac.New(h, []byte(secret))
		mac.Write(body)
		name := alg
		if name == "" {
			name = "sha256"
		}
		if got, want := dispatcher.BodySignature(alg, secret, body), name+"="+hex.EncodeToString(mac.Sum(nil)); got != want {
			t.Errorf("BodySignature(%q) = %q, want %q", alg, got, want)
		}
	}
}

func TestEntityURL(t *testing.T) {
	ev := &jqlgate.Event{Type: "profile.Customer:create", EntityID: "cus_1/x"}
	if got := dispatcher.EntityURL("https://api.example.com/", ev); got != "https://api.example.com/console/records/profile.Customer/cus_1%2Fx" {
		t.Errorf("EntityURL = %q", got)
	}
	if got := dispatcher.EntityURL("", ev); got != "" {
		t.Errorf("EntityURL without a public URL = %q, want empty", got)
	}
}
