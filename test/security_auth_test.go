package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// postToken posts a client_credentials request with HTTP Basic through hc
// and returns the status.
func postToken(t *testing.T, hc *http.Client, tokenURL, id, secret string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Item 3: client ids are not secret (they are the sub of every token), so
// wrong-secret requests naming one must not spend that client's own
// token budget. The guesser connects from another loopback address.
func TestSecurityTokenEndpointNoLockout(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	elsewhere := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext,
	}}
	statuses := map[int]int{}
	for range 30 {
		statuses[postToken(t, elsewhere, p.URL+"/oauth2/token", adminID, "wrong-secret-guess")]++
	}
	// The guesser itself is slowed down: its failures are limited.
	if statuses[http.StatusUnauthorized] == 0 || statuses[http.StatusTooManyRequests] == 0 || len(statuses) != 2 {
		t.Errorf("30 wrong secrets answered %v, want 401s then 429s", statuses)
	}
	// The client itself is not: its requests still get tokens, several.
	for i := range 5 {
		if code := postToken(t, http.DefaultClient, p.URL+"/oauth2/token", adminID, adminSecret); code != 200 {
			t.Fatalf("the client's own token request %d after the guesses: got %d, want 200", i+1, code)
		}
	}
	_ = p.token(adminID, adminSecret)
}

// login posts system.User authenticate.
func login(p *proc, username, password string) answer {
	return p.jql(map[string]any{
		"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
		"username": username, "password": password,
	})
}

// Item 4: password guessing locks the account, with a growing delay, the
// same way for unknown users; the right password works once the lock
// ends.
func TestSecurityLoginBruteForceLockout(t *testing.T) {
	dir := t.TempDir()
	createDocUser(t, dir) // ada / correct horse battery staple
	p := serve(t, dir)
	const right = "correct horse battery staple"

	var wrongMsg string
	for _, user := range []string{"ada", "no-such-user"} {
		for i := range 5 {
			a := login(p, user, "wrong password")
			if a.HTTPStatus != 401 || len(a.Errors) != 1 || a.Errors[0].ErrorCode != "JQL:AuthenticationException" {
				t.Fatalf("%s guess %d: got %d %s, want 401", user, i+1, a.HTTPStatus, a.Raw)
			}
			if wrongMsg == "" {
				wrongMsg = a.Errors[0].ErrorMessage
			} else if a.Errors[0].ErrorMessage != wrongMsg {
				t.Errorf("%s: error %q differs from %q: the answer tells users apart", user, a.Errors[0].ErrorMessage, wrongMsg)
			}
		}
		pw := right
		if user != "ada" {
			pw = "anything"
		}
		a := login(p, user, pw)
		if a.HTTPStatus != 429 || a.Errors[0].ErrorCode != "JQL:RateLimitException" || a.Header.Get("Retry-After") != "1" {
			t.Fatalf("%s after 5 failures: got %d Retry-After %q %s, want 429 JQL:RateLimitException, Retry-After 1", user, a.HTTPStatus, a.Header.Get("Retry-After"), a.Raw)
		}
	}
	// The next failure after the lock doubles it.
	time.Sleep(1100 * time.Millisecond)
	if a := login(p, "ada", "wrong again"); a.HTTPStatus != 401 {
		t.Fatalf("guess after the lock: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
	a := login(p, "ada", right)
	if a.HTTPStatus != 429 || a.Header.Get("Retry-After") != "2" {
		t.Fatalf("right password during the second lock: got %d Retry-After %q, want 429 Retry-After 2", a.HTTPStatus, a.Header.Get("Retry-After"))
	}
	time.Sleep(2100 * time.Millisecond)
	login(p, "ada", right).must(t)
	// A success clears the count.
	if a := login(p, "ada", "wrong password"); a.HTTPStatus != 401 {
		t.Fatalf("first guess after a success: got %d, want 401", a.HTTPStatus)
	}
}

// Item 4: password checks are bounded; a login flood is answered 429 with
// Retry-After instead of queueing bcrypt work without end. GOMAXPROCS=2
// gives the server one hashing slot, so a simultaneous burst must
// overflow it whatever machine runs the test.
func TestSecurityLoginHashingBounded(t *testing.T) {
	dir := t.TempDir()
	createDocUser(t, dir)
	p := serve(t, dir, "GOMAXPROCS=2")
	const n = 40
	var wg sync.WaitGroup
	start := make(chan struct{})
	answers := make([]answer, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = login(p, "flood-"+strconv.Itoa(i), "wrong password")
		}()
	}
	close(start)
	wg.Wait()
	busy := 0
	for i, a := range answers {
		switch {
		case a.HTTPStatus == 401:
		case a.HTTPStatus == 429 && a.Errors[0].ErrorCode == "JQL:RateLimitException" && a.Header.Get("Retry-After") != "":
			busy++
		default:
			t.Errorf("login %d: got %d %s, want 401 or 429 with Retry-After", i, a.HTTPStatus, a.Raw)
		}
	}
	if busy == 0 {
		t.Errorf("%d simultaneous logins all had their password checked; want the excess refused with 429", n)
	}
	login(p, "ada", "correct horse battery staple").must(t)
}

// externalIssuer is an external authorization server publishing a JWKS
// and signing ES256 access tokens.
type externalIssuer struct {
	srv    *httptest.Server
	signer jose.Signer
}

func newExternalIssuer(t *testing.T) *externalIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "ext-1", Algorithm: "ES256", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(srv.Close)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "ext-1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return &externalIssuer{srv: srv, signer: signer}
}

func (e *externalIssuer) token(t *testing.T, sub, scope string) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": e.srv.URL, "aud": "jqlgate", "sub": sub, "client_id": sub, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "ext-" + strconv.FormatInt(now.UnixNano(), 36)}
	tok, err := jwt.Signed(e.signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Item 6: an external issuer's token whose sub equals a built-in client's
// id is a different principal: it can't list or read that client's
// subscriptions or secrets.
func TestSecurityExternalIssuerOwnerKeys(t *testing.T) {
	ext := newExternalIssuer(t)
	p := serve(t, t.TempDir(),
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8",
		"JQLGATE_EXTERNAL_ISSUER="+ext.srv.URL, "JQLGATE_EXTERNAL_JWKS_URL="+ext.srv.URL+"/jwks.json",
	)
	recv := httptest.NewServer(newReceiver())
	defer recv.Close()

	adminTok := p.token(adminID, adminSecret)
	var adminSub struct{ ID, Secret string }
	p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", adminTok),
		"prefix":   "Admin", "trigger": "profile.Customer:create", "webhookUrl": recv.URL + "/admin",
	}).must(t).decode(t, &adminSub)

	scope := "profile.Customer:retrieve system.Webhook:subscribeToWebhook system.Webhook:listWebhooks system.Webhook:getWebhook system.Webhook:getWebhookSecret system.Webhook:privateTargets"
	extTok := ext.token(t, adminID, scope)
	// The external token works, for its own subscriptions.
	var extSub struct{ ID string }
	p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", extTok),
		"prefix":   "External", "trigger": "profile.Customer:create", "webhookUrl": recv.URL + "/ext",
	}).must(t).decode(t, &extSub)

	var listed []struct{ ID string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "listWebhooks", extTok)}).must(t).decode(t, &listed)
	if len(listed) != 1 || listed[0].ID != extSub.ID {
		t.Errorf("external sub=%q lists %v, want only its own %s (not the built-in client's %s)", adminID, listed, extSub.ID, adminSub.ID)
	}
	for _, intent := range []string{"getWebhook", "getWebhookSecret"} {
		a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", intent, extTok), "id": adminSub.ID})
		if a.HTTPStatus != 404 || strings.Contains(a.Raw, adminSub.Secret) {
			t.Errorf("external %s of the built-in client's subscription: got %d %s, want 404", intent, a.HTTPStatus, a.Raw)
		}
	}
	// And the other way round: the built-in client does not see the
	// external principal's subscription.
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "listWebhooks", adminTok)}).must(t).decode(t, &listed)
	if len(listed) != 1 || listed[0].ID != adminSub.ID {
		t.Errorf("built-in client lists %v, want only its own %s", listed, adminSub.ID)
	}
}

// Item 14: a token sent with a public intent must verify; none is fine.
func TestSecurityPublicIntentBadToken(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	describe := func(token string) answer {
		m := map[string]any{"namespace": "system.Schema", "schema": "controller", "intent": "describe"}
		if token != "" {
			m["authenticationClass"], m["authenticationToken"] = "oauth2", token
		}
		return p.jql(map[string]any{"__meta__": m})
	}
	describe("").must(t)
	describe(p.token(adminID, adminSecret)).must(t)
	for name, tok := range map[string]string{"garbage": "not-a-token", "tampered": p.token(adminID, adminSecret) + "x"} {
		if a := describe(tok); a.HTTPStatus != 401 || a.Errors[0].ErrorCode != "JQL:AuthenticationException" {
			t.Errorf("describe with a %s token: got %d %.300s, want 401 JQL:AuthenticationException", name, a.HTTPStatus, a.Raw)
		}
	}
	// authenticate with a bad Bearer header.
	body := `{"__meta__":{"namespace":"system.User","schema":"controller","intent":"authenticate"},"username":"x","password":"y"}`
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, p.URL+"/jql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer not-a-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("authenticate with a bad Bearer token: got %d, want 401", resp.StatusCode)
	}
	// A stale jwt cookie is not a token sent to authenticate: logging in
	// again must still be possible (here: the usual 401 for a wrong
	// password, not a token error).
	body = `{"__meta__":{"namespace":"system.User","schema":"controller","intent":"authenticate","authenticationClass":"jwt"},"username":"x","password":"y"}`
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, p.URL+"/jql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "jwt", Value: "expired.jwt.cookie"})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if resp.StatusCode != 401 || len(a.Errors) != 1 || a.Errors[0].ErrorMessage != "Invalid username or password." {
		t.Errorf("authenticate with a stale jwt cookie: got %d %+v, want the wrong-password 401", resp.StatusCode, a.Errors)
	}
}

// forwarded is an HTTP client whose requests say, through
// X-Forwarded-For, that they come from addr (what a reverse proxy in front
// of jqlgate adds).
func forwarded(addr string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: headerTransport{"X-Forwarded-For", addr}}
}

type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// loginVia posts system.User authenticate through hc and returns the
// status.
func loginVia(t *testing.T, hc *http.Client, p *proc, username, password string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
		"username": username, "password": password,
	})
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/jql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Behind a reverse proxy every request came from the proxy's address, so
// ten wrong secrets from anyone locked the client out of /oauth2/token
// for everyone, the right secret included. With --trusted-proxies each
// client is its own address, and a right secret passes whatever failed
// before it, even from the guesser's address.
func TestSecurityTokenEndpointBehindProxyNoLockout(t *testing.T) {
	p := serve(t, t.TempDir(), "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_TRUSTED_PROXIES=127.0.0.1/32")
	guesser := forwarded("203.0.113.9")
	statuses := map[int]int{}
	for range 15 {
		statuses[postToken(t, guesser, p.URL+"/oauth2/token", adminID, "wrong-secret-guess")]++
	}
	if statuses[http.StatusUnauthorized] != 10 || statuses[http.StatusTooManyRequests] != 5 {
		t.Errorf("15 wrong secrets answered %v, want 10 401s then 429s", statuses)
	}
	for name, hc := range map[string]*http.Client{"another client behind the proxy": forwarded("198.51.100.1"), "the guesser's own address": guesser} {
		if code := postToken(t, hc, p.URL+"/oauth2/token", adminID, adminSecret); code != 200 {
			t.Errorf("the right secret from %s after the guesses: got %d, want 200", name, code)
		}
	}
}

// A console or API login lock-out used to key on the username alone:
// five wrong passwords from anywhere locked an admin out for everyone, for
// up to 15 minutes. It keys on the username and the address now; the
// per-username ceiling only slows logins, and the right password still
// signs in from an address that did not guess.
func TestSecurityLoginLockoutPerAddress(t *testing.T) {
	dir := t.TempDir()
	createDocUser(t, dir) // ada / correct horse battery staple
	p := serve(t, dir, "JQLGATE_TRUSTED_PROXIES=127.0.0.1/32")
	const right = "correct horse battery staple"
	guesser := forwarded("203.0.113.9")
	for i := range 5 {
		if code := loginVia(t, guesser, p, "ada", "wrong password"); code != 401 {
			t.Fatalf("guess %d: %d, want 401", i+1, code)
		}
	}
	if code := loginVia(t, guesser, p, "ada", right); code != 429 {
		t.Errorf("the guesser's address after 5 guesses: %d, want 429", code)
	}
	if code := loginVia(t, forwarded("198.51.100.1"), p, "ada", right); code != 200 {
		t.Errorf("ada from her own address while the guesser is locked out: %d, want 200", code)
	}

	// Guesses spread over many addresses, none locked out, reach the
	// per-username ceiling (20): ada is slowed, not refused.
	for i := range 20 {
		if code := loginVia(t, forwarded("192.0.2."+strconv.Itoa(10+i/4)), p, "ada", "wrong password"); code != 401 {
			t.Fatalf("spread guess %d: %d, want 401", i+1, code)
		}
	}
	start := time.Now()
	if code := loginVia(t, forwarded("198.51.100.2"), p, "ada", right); code != 200 {
		t.Errorf("ada from a new address past the ceiling: %d, want 200", code)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("a login past the ceiling took %s, want it delayed by 2s", d)
	}
}

// With no --trusted-proxies (the default) X-Forwarded-For is the client's
// to write, so it is ignored: a guesser can't dodge its lock-out by
// naming new addresses.
func TestSecurityForwardedForIgnoredByDefault(t *testing.T) {
	dir := t.TempDir()
	createDocUser(t, dir)
	p := serve(t, dir)
	for i := range 5 {
		loginVia(t, forwarded("203.0.113."+strconv.Itoa(i+1)), p, "ada", "wrong password")
	}
	if code := loginVia(t, forwarded("198.51.100.99"), p, "ada", "wrong password"); code != 429 {
		t.Errorf("a sixth guess naming a new X-Forwarded-For address: %d, want 429 (the header is not trusted)", code)
	}
}
