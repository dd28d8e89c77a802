package webhook_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/webhook"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const otherSecret = "whsec_aGVsbG8gd29ybGQgdGhpcyBpcyBhIGtleQ=="

func signed(t *testing.T, id string, ts time.Time, body string, secrets ...string) http.Header {
	t.Helper()
	sig, err := webhook.Sign(id, ts, []byte(body), secrets...)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", fmt.Sprint(ts.Unix()))
	h.Set("webhook-signature", sig)
	h.Set("Content-Type", "application/json")
	return h
}

// The Standard Webhooks specification's own test vector.
func TestVerifyStandardWebhooksVector(t *testing.T) {
	body := `{"test": 2432232314}`
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1614265330, 0) }
	if _, err := v.Verify(h, []byte(body)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	now := time.Now()
	body := `{"id":"evt_1","event":"profile.Customer:create","timestamp":"2026-01-02T03:04:05Z","data":{"id":"cus_1"}}`
	tests := []struct {
		name   string
		header http.Header
		body   string
		secret string
		want   error
	}{
		{"tampered body", signed(t, "evt_1", now, body, secret), body + " ", secret, webhook.ErrNoMatch},
		{"wrong secret", signed(t, "evt_1", now, body, otherSecret), body, secret, webhook.ErrNoMatch},
		{"stale timestamp", signed(t, "evt_1", now.Add(-10*time.Minute), body, secret), body, secret, webhook.ErrBadTimestamp},
		{"future timestamp", signed(t, "evt_1", now.Add(10*time.Minute), body, secret), body, secret, webhook.ErrBadTimestamp},
		{"no headers", http.Header{}, body, secret, webhook.ErrMissingHeaders},
		{"not a secret", signed(t, "evt_1", now, body, secret), body, "whsec_!!!", webhook.ErrBadSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.Verify(tt.secret, tt.header, []byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyAcceptsAnyRotatedSignature(t *testing.T) {
	body := `{"id":"evt_2","event":"profile.Customer:update","timestamp":"2026-01-02T03:04:05Z","data":{}}`
	h := signed(t, "evt_2", time.Now(), body, otherSecret, secret)
	ev, err := webhook.Verify(secret, h, []byte(body))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if ev.ID != "evt_2" || ev.Event != "profile.Customer:update" {
		t.Errorf("got event %+v", ev)
	}
}

func TestVerifyDecodesForm(t *testing.T) {
	body := `id=evt_3&event=profile.Customer%3Acreate&timestamp=2026-01-02T03%3A04%3A05Z&data=%7B%22id%22%3A%22cus_9%22%7D`
	h := signed(t, "evt_3", time.Now(), body, secret)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	ev, err := webhook.Verify(secret, h, []byte(body))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if ev.Data["id"] != "cus_9" || ev.Event != "profile.Customer:create" {
		t.Errorf("got event %+v", ev)
	}
}

func ExampleVerify() {
	body := []byte(`{"id":"evt_1","event":"profile.Customer:create","timestamp":"2026-01-02T03:04:05Z","data":{"id":"cus_1","name":"Ada"}}`)
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	// What jqlgate sends, made here with Sign.
	ts := time.Now()
	sig, _ := webhook.Sign("evt_1", ts, body, secret)
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", fmt.Sprint(ts.Unix()))
	h.Set("webhook-signature", sig)

	ev, err := webhook.Verify(secret, h, body)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(ev.Event, ev.Data["name"])
	// Output: profile.Customer:create Ada
}

func TestVerifyRequestGETQuery(t *testing.T) {
	query := "data=%7B%22id%22%3A%22cus_1%22%7D&entityId=cus_1&event=profile.Customer%3Acreate&id=evt_1&subscriptionId=sub_1&timestamp=2026-01-02T03%3A04%3A05Z"
	h := signed(t, "msg_1", time.Now(), query, secret)
	r := httptest.NewRequest(http.MethodGet, "/hook?"+query, nil)
	r.Header = h
	ev, err := webhook.VerifyRequest(secret, r)
	if err != nil {
		t.Fatalf("VerifyRequest: %v", err)
	}
	if ev.ID != "evt_1" || ev.SubscriptionID != "sub_1" || ev.EntityID != "cus_1" || ev.Data["id"] != "cus_1" {
		t.Errorf("event = %+v", ev)
	}
	r = httptest.NewRequest(http.MethodGet, "/hook?"+query+"&x=1", nil)
	r.Header = h
	if _, err := webhook.VerifyRequest(secret, r); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("changed query: err = %v, want ErrNoMatch", err)
	}
}

func TestVerifyRequestPOSTKeepsBody(t *testing.T) {
	body := `{"id":"evt_1","event":"a.B:create","timestamp":"2026-01-02T03:04:05Z","subscriptionId":"sub_1","data":{}}`
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	r.Header = signed(t, "msg_1", time.Now(), body, secret)
	ev, err := webhook.VerifyRequest(secret, r)
	if err != nil || ev.SubscriptionID != "sub_1" {
		t.Fatalf("VerifyRequest = %+v, %v", ev, err)
	}
	again, _ := io.ReadAll(r.Body)
	if string(again) != body {
		t.Errorf("body after VerifyRequest = %q, want it readable again", again)
	}
}

func TestVerifyV1aPublicKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	whsk := "whsk_" + base64.StdEncoding.EncodeToString(priv)
	whpk := "whpk_" + base64.StdEncoding.EncodeToString(pub)
	body := `{"id":"evt_1"}`
	h := signed(t, "msg_1", time.Now(), body, whsk)
	if !strings.HasPrefix(h.Get("webhook-signature"), "v1a,") {
		t.Fatalf("signature %q is not v1a", h.Get("webhook-signature"))
	}
	if _, err := webhook.Verify(whpk, h, []byte(body)); err != nil {
		t.Errorf("Verify with the public key: %v", err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := webhook.Verify("whpk_"+base64.StdEncoding.EncodeToString(otherPub), h, []byte(body)); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("another public key: err = %v, want ErrNoMatch", err)
	}
	if _, err := webhook.Verify(secret, h, []byte(body)); !errors.Is(err, webhook.ErrNoMatch) {
		t.Errorf("a whsec_ secret verifies a v1a signature: %v", err)
	}
}

func TestCheckBodySignature(t *testing.T) {
	body := []byte(`{"a":1}`)
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	sha1Sig := "sha1=" + hex.EncodeToString(mac.Sum(nil))
	if webhook.CheckBodySignature(secret, sha1Sig, body, false) {
		t.Errorf("sha1 accepted without allowSHA1")
	}
	if !webhook.CheckBodySignature(secret, sha1Sig, body, true) {
		t.Errorf("sha1 refused with allowSHA1")
	}
}
