package test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/jqlgate/jqlgate/webhook"
)

// The seeds' payload and signing points (Etlworks 003, AccuLynx 002), over
// the real serve binary with a real receiver. Receivers verify with the
// official Standard Webhooks Go library (github.com/standard-webhooks/
// standard-webhooks/libraries, v0.0.1; it knows v1 only), with jqlgate's
// own webhook package, and for v1a with crypto/ed25519 exactly as the spec
// defines the signed content.

const publicURL = "https://jqlgate.example.com/base"

// payloadServer starts serve with --public-url (as JQLGATE_PUBLIC_URL) and
// returns it with an all-permission token.
func payloadServer(t *testing.T) (*proc, string) {
	t.Helper()
	p := serve(t, t.TempDir(),
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_PUBLIC_URL="+publicURL)
	return p, p.token(adminID, adminSecret)
}

// subscribeAt subscribes Antly's way (prefix, trigger, webhookUrl) plus
// options and returns the answer.
func subscribeAt(p *proc, tok, prefix, webhookURL string, options map[string]any) answer {
	req := map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix":   prefix, "trigger": "profile.Customer:create", "webhookUrl": webhookURL,
	}
	for k, v := range options {
		req[k] = v
	}
	return p.jql(req)
}

type subAnswer struct{ ID, Secret, SignatureScheme string }

func mustSubscribe(t *testing.T, p *proc, tok, prefix, webhookURL string, options map[string]any) subAnswer {
	t.Helper()
	var s subAnswer
	subscribeAt(p, tok, prefix, webhookURL, options).must(t).decode(t, &s)
	return s
}

func createCustomerAs(t *testing.T, p *proc, tok, name string) string {
	t.Helper()
	var c struct{ ID string }
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": name,
		"email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"}).must(t).decode(t, &c)
	return c.ID
}

// request rebuilds the request a receiver got, for webhook.VerifyRequest.
func (r received) request() *http.Request {
	req := httptest.NewRequest(r.Method, "/hook?"+r.Query, bytes.NewReader(r.Body))
	req.Header = r.Header.Clone()
	return req
}

// randomSecret is a whsec_ secret of n random bytes, as a user would make.
func randomSecret(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// AccuLynx (item 6) and Etlworks' entity URL (item 5): every JSON body
// carries subscriptionId, and entityUrl when --public-url is set, which
// X-Webhook-Entity-Url repeats; the official library verifies it.
func TestSecuritySeedPayloadJSONSubscriptionIDAndEntityURL(t *testing.T) {
	p, tok := payloadServer(t)
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := mustSubscribe(t, p, tok, "YourAppPrefix", srv.URL+"/webhooks/handle", nil)
	if s.SignatureScheme != "v1" || !strings.HasPrefix(s.Secret, "whsec_") {
		t.Fatalf("subscribe answered scheme %q secret %q, want v1 and a whsec_ secret", s.SignatureScheme, s.Secret)
	}
	cus := createCustomerAs(t, p, tok, "Ada Lovelace")
	got := rc.waitFor(t, 1, 30*time.Second)[0]

	wantURL := publicURL + "/console/records/profile.Customer/" + cus
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body %s: %v", got.Body, err)
	}
	for k, want := range map[string]string{"subscriptionId": s.ID, "entityUrl": wantURL, "event": "profile.Customer:create"} {
		if body[k] != want {
			t.Errorf("body %s = %v, want %q (body %s)", k, body[k], want, got.Body)
		}
	}
	if data, _ := body["data"].(map[string]any); data["id"] != cus {
		t.Errorf("body data = %v, want the customer %s", body["data"], cus)
	}
	if h := got.Header.Get("X-Webhook-Entity-Url"); h != wantURL {
		t.Errorf("X-Webhook-Entity-Url = %q, want %q", h, wantURL)
	}
	wh, err := standardwebhooks.NewWebhook(s.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Errorf("official Standard Webhooks library: %v", err)
	}
	ev, err := webhook.VerifyRequest(s.Secret, got.request())
	if err != nil || ev.SubscriptionID != s.ID || ev.EntityURL != wantURL {
		t.Errorf("webhook.VerifyRequest = %+v, %v", ev, err)
	}
}

// Etlworks (item 5): form bodies are flat, GET deliveries carry the same
// fields in the query and sign the raw query string, and a user may bring
// a strong secret (at subscribe and at rotation) but not a weak one.
func TestSecuritySeedPayloadEtlworksFormGETAndUserSecret(t *testing.T) {
	p, tok := payloadServer(t)
	formRc, getRc := newReceiver(), newReceiver()
	formSrv, getSrv := httptest.NewServer(formRc), httptest.NewServer(getRc)
	defer formSrv.Close()
	defer getSrv.Close()

	own := randomSecret(t, 32)
	form := mustSubscribe(t, p, tok, "Form", formSrv.URL, map[string]any{
		"contentType": "application/x-www-form-urlencoded", "includeEntity": false, "secret": own})
	if form.Secret != own {
		t.Errorf("subscribe answered secret %q, want the one given", form.Secret)
	}
	get := mustSubscribe(t, p, tok, "Get", getSrv.URL+"/hook?token=abc&z=1", map[string]any{"method": "GET"})
	cus := createCustomerAs(t, p, tok, "Grace Hopper")

	t.Run("form", func(t *testing.T) {
		got := formRc.waitFor(t, 1, 30*time.Second)[0]
		v, err := url.ParseQuery(string(got.Body))
		if err != nil {
			t.Fatalf("form body %q: %v", got.Body, err)
		}
		want := map[string]string{"event": "profile.Customer:create", "subscriptionId": form.ID, "entityId": cus,
			"entityUrl": publicURL + "/console/records/profile.Customer/" + cus}
		for k, w := range want {
			if v.Get(k) != w {
				t.Errorf("form %s = %q, want %q", k, v.Get(k), w)
			}
		}
		if v.Get("id") == "" || v.Get("timestamp") == "" || v.Has("data") {
			t.Errorf("form = %v, want id and timestamp, and no data (includeEntity false)", v)
		}
		wh, _ := standardwebhooks.NewWebhook(own)
		if err := wh.Verify(got.Body, got.Header); err != nil {
			t.Errorf("official library, user-supplied secret: %v", err)
		}
		if ev, err := webhook.VerifyRequest(own, got.request()); err != nil || ev.EntityID != cus || ev.SubscriptionID != form.ID {
			t.Errorf("webhook.VerifyRequest = %+v, %v", ev, err)
		}
	})

	t.Run("GET", func(t *testing.T) {
		got := getRc.waitFor(t, 1, 30*time.Second)[0]
		if got.Method != http.MethodGet || len(got.Body) != 0 {
			t.Fatalf("got %s with %d body bytes, want GET without body", got.Method, len(got.Body))
		}
		q, _ := url.ParseQuery(got.Query)
		if q.Get("token") != "abc" || q.Get("subscriptionId") != get.ID || q.Get("entityId") != cus || q.Get("entityUrl") == "" {
			t.Errorf("query = %v, want the URL's own parameters and the flat fields", q)
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(q.Get("data")), &data); err != nil || data["id"] != cus {
			t.Errorf("query data = %q (%v), want the customer", q.Get("data"), err)
		}
		// The receiver passes the raw query string as the payload.
		wh, _ := standardwebhooks.NewWebhook(get.Secret)
		if err := wh.Verify([]byte(got.Query), got.Header); err != nil {
			t.Errorf("official library over the raw query string: %v", err)
		}
		if ev, err := webhook.VerifyRequest(get.Secret, got.request()); err != nil || ev.EntityID != cus || ev.Data["id"] != cus {
			t.Errorf("webhook.VerifyRequest = %+v, %v", ev, err)
		}
		// A changed query no longer verifies.
		tampered := got
		tampered.Query = strings.Replace(got.Query, "token=abc", "token=abd", 1)
		if _, err := webhook.VerifyRequest(get.Secret, tampered.request()); err == nil {
			t.Errorf("a GET with a changed query string verifies")
		}
	})

	t.Run("weak secrets refused", func(t *testing.T) {
		weak := map[string]string{
			"short":      randomSecret(t, 16),
			"text":       "whsec_" + base64.StdEncoding.EncodeToString([]byte("correct horse battery staple")),
			"zeros":      "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
			"no prefix":  strings.TrimPrefix(randomSecret(t, 32), "whsec_"),
			"not base64": "whsec_####",
		}
		for name, secret := range weak {
			a := subscribeAt(p, tok, "Weak "+name, formSrv.URL+"/weak", map[string]any{"secret": secret})
			wantFieldError(t, "the request", a, 400, "secret")
			if strings.Contains(a.Raw, secret) {
				t.Errorf("%s: the answer repeats the secret: %s", name, a.Raw)
			}
		}
	})

	t.Run("rotation", func(t *testing.T) {
		rotate := func(secret any) answer {
			return p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "rotateWebhookSecret", tok), "id": form.ID, "secret": secret})
		}
		wantFieldError(t, "the request", rotate("whsec_"+base64.StdEncoding.EncodeToString([]byte("passwordpasswordpassword"))), 400, "secret")
		next := randomSecret(t, 48)
		var r struct{ Secret string }
		rotate(next).must(t).decode(t, &r)
		if r.Secret != next {
			t.Errorf("rotate answered secret %q, want the one given", r.Secret)
		}
		createCustomerAs(t, p, tok, "Katherine Johnson")
		got := formRc.waitFor(t, 2, 30*time.Second)[1]
		for _, secret := range []string{own, next} { // the old one signs during the grace period
			wh, _ := standardwebhooks.NewWebhook(secret)
			if err := wh.Verify(got.Body, got.Header); err != nil {
				t.Errorf("after rotation, %s… does not verify: %v", secret[:10], err)
			}
		}
	})
}

// Item 8: receivers that check a plain body HMAC get one in the header
// they name, sha256 unless sha1 is asked for; the Standard Webhooks
// headers are always sent too.
func TestSecuritySeedPayloadBodySignature(t *testing.T) {
	p, tok := payloadServer(t)
	plain, def, etl := newReceiver(), newReceiver(), newReceiver()
	plainSrv, defSrv, etlSrv := httptest.NewServer(plain), httptest.NewServer(def), httptest.NewServer(etl)
	defer plainSrv.Close()
	defer defSrv.Close()
	defer etlSrv.Close()

	none := mustSubscribe(t, p, tok, "Plain", plainSrv.URL, nil)
	gh := mustSubscribe(t, p, tok, "GitHub", defSrv.URL, map[string]any{"bodySignature": map[string]any{}})
	et := mustSubscribe(t, p, tok, "Etlworks", etlSrv.URL, map[string]any{
		"contentType":   "application/x-www-form-urlencoded",
		"bodySignature": map[string]any{"header": "X-Etl-Webhook-Signature", "algorithm": "sha1"}})
	wantFieldError(t, "the request", subscribeAt(p, tok, "Bad", defSrv.URL+"/x", map[string]any{"bodySignature": map[string]any{"algorithm": "md5"}}), 400, "bodySignature.algorithm")
	wantFieldError(t, "the request", subscribeAt(p, tok, "Bad", defSrv.URL+"/x", map[string]any{"bodySignature": map[string]any{"header": "webhook-signature"}}), 400, "bodySignature.header")
	wantFieldError(t, "the request", subscribeAt(p, tok, "Bad", defSrv.URL+"/x", map[string]any{"bodySignature": true, "signatureScheme": "v1a"}), 400, "bodySignature")

	createCustomerAs(t, p, tok, "Ada Lovelace")
	hexMAC := func(h func() hash.Hash, secret string, body []byte) string {
		m := hmac.New(h, []byte(secret))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	got := def.waitFor(t, 1, 30*time.Second)[0]
	if want := "sha256=" + hexMAC(sha256.New, gh.Secret, got.Body); got.Header.Get("X-Webhook-Signature") != want {
		t.Errorf("X-Webhook-Signature = %q, want %q", got.Header.Get("X-Webhook-Signature"), want)
	}
	if !webhook.CheckBodySignature(gh.Secret, got.Header.Get("X-Webhook-Signature"), got.Body, false) {
		t.Errorf("webhook.CheckBodySignature refuses the sha256 body signature")
	}
	gotEtl := etl.waitFor(t, 1, 30*time.Second)[0]
	if want := "sha1=" + hexMAC(sha1.New, et.Secret, gotEtl.Body); gotEtl.Header.Get("X-Etl-Webhook-Signature") != want {
		t.Errorf("X-Etl-Webhook-Signature = %q, want %q", gotEtl.Header.Get("X-Etl-Webhook-Signature"), want)
	}
	if gotEtl.Header.Get("X-Webhook-Signature") != "" {
		t.Errorf("the sha1 subscription also got X-Webhook-Signature")
	}
	gotPlain := plain.waitFor(t, 1, 30*time.Second)[0]
	if gotPlain.Header.Get("X-Webhook-Signature") != "" {
		t.Errorf("a subscription without bodySignature got X-Webhook-Signature")
	}
	for _, c := range []struct {
		secret string
		r      received
	}{{none.Secret, gotPlain}, {gh.Secret, got}, {et.Secret, gotEtl}} {
		wh, _ := standardwebhooks.NewWebhook(c.secret)
		if err := wh.Verify(c.r.Body, c.r.Header); err != nil {
			t.Errorf("Standard Webhooks signature: %v", err)
		}
	}
}

// Item 9: signatureScheme v1a signs with Ed25519. The signing key stays on
// the server; subscribe, getWebhookSecret and rotation answer the whpk_
// public key, and the old key keeps signing during the grace period.
func TestSecuritySeedPayloadV1aEd25519(t *testing.T) {
	p, tok := payloadServer(t)
	rc, mig := newReceiver(), newReceiver()
	srv, migSrv := httptest.NewServer(rc), httptest.NewServer(mig)
	defer srv.Close()
	defer migSrv.Close()

	s := mustSubscribe(t, p, tok, "Asym", srv.URL, map[string]any{"signatureScheme": "v1a"})
	if s.SignatureScheme != "v1a" || !strings.HasPrefix(s.Secret, "whpk_") {
		t.Fatalf("subscribe answered scheme %q secret %q, want v1a and a whpk_ public key", s.SignatureScheme, s.Secret)
	}
	var sec struct {
		Secret  string
		Secrets []struct{ Secret string }
	}
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "getWebhookSecret", tok), "id": s.ID}).must(t).decode(t, &sec)
	if sec.Secret != s.Secret || len(sec.Secrets) != 1 || sec.Secrets[0].Secret != s.Secret {
		t.Errorf("getWebhookSecret = %+v, want only the public key %s", sec, s.Secret)
	}
	v1 := mustSubscribe(t, p, tok, "Migrating", migSrv.URL, nil)
	wantFieldError(t, "the request", p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "updateWebhook", tok), "id": v1.ID, "signatureScheme": "v1a"}), 400, "signatureScheme")

	createCustomerAs(t, p, tok, "Ada Lovelace")
	got := rc.waitFor(t, 1, 30*time.Second)[0]
	if !specV1aVerifies(t, s.Secret, got) {
		t.Errorf("webhook-signature %q does not verify with %s", got.Header.Get("webhook-signature"), s.Secret)
	}
	if _, err := webhook.VerifyRequest(s.Secret, got.request()); err != nil {
		t.Errorf("webhook.VerifyRequest with the whpk_ key: %v", err)
	}

	// Rotation: a new key pair; the old key signs beside it.
	var rot struct{ Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "rotateWebhookSecret", tok), "id": s.ID}).must(t).decode(t, &rot)
	// Switching a v1 subscription to v1a: the whsec_ secret keeps signing v1
	// during the grace period, the new key signs v1a.
	var sw struct{ Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "rotateWebhookSecret", tok), "id": v1.ID, "signatureScheme": "v1a"}).must(t).decode(t, &sw)
	if !strings.HasPrefix(rot.Secret, "whpk_") || rot.Secret == s.Secret || !strings.HasPrefix(sw.Secret, "whpk_") {
		t.Fatalf("rotations answered %q and %q, want new whpk_ keys", rot.Secret, sw.Secret)
	}
	createCustomerAs(t, p, tok, "Grace Hopper")
	got = rc.waitFor(t, 2, 30*time.Second)[1]
	if n := len(strings.Fields(got.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("got %d signatures after rotation, want 2", n)
	}
	for _, key := range []string{s.Secret, rot.Secret} {
		if !specV1aVerifies(t, key, got) {
			t.Errorf("after rotation, no signature verifies with %s", key)
		}
	}
	gotMig := mig.waitFor(t, 2, 30*time.Second)[1]
	wh, _ := standardwebhooks.NewWebhook(v1.Secret)
	if err := wh.Verify(gotMig.Body, gotMig.Header); err != nil {
		t.Errorf("after switching to v1a, the old whsec_ secret no longer verifies during the grace period: %v", err)
	}
	if !specV1aVerifies(t, sw.Secret, gotMig) {
		t.Errorf("after switching to v1a, the new key does not verify")
	}
}

// specV1aVerifies checks a delivery's v1a signatures with crypto/ed25519,
// exactly as the Standard Webhooks spec defines them: base64 Ed25519
// signature of "<webhook-id>.<webhook-timestamp>.<body>", verified with the
// whpk_ public key.
func specV1aVerifies(t *testing.T, whpk string, r received) bool {
	t.Helper()
	pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whpk, "whpk_"))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("%q is not whpk_ and base64 of a 32-byte key", whpk)
	}
	msg := []byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(r.Body))
	for _, entry := range strings.Fields(r.Header.Get("webhook-signature")) {
		b64, ok := strings.CutPrefix(entry, "v1a,")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if ok && err == nil && ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
			return true
		}
	}
	return false
}
