package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
)

func TestClientCredentialsFlow(t *testing.T) {
	e := newEnv(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := e.client(t, "system.Webhook:* profile.Customer:create")
		cfg.AuthStyle = style
		tok := e.token(t, cfg)
		p, err := e.authn.Authenticate(context.Background(), jqlgate.AuthOAuth2, tok)
		if err != nil {
			t.Fatalf("style %d: authenticate: %v", style, err)
		}
		if p.ID != cfg.ClientID || p.Kind != jqlgate.PrincipalClient {
			t.Errorf("principal = %+v, want client %s", p, cfg.ClientID)
		}
		if !p.Can("profile.Customer", "create") || p.Can("profile.Customer", "update") || !p.Can("system.Webhook", "subscribeToWebhook") {
			t.Errorf("permissions = %v", p.Permissions)
		}
		checkAccessHeader(t, tok)
	}
}

// checkAccessHeader checks the RFC 9068 shape of an access token.
func checkAccessHeader(t *testing.T, tok string) {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		t.Errorf("typ = %v, want at+jwt", typ)
	}
	var c map[string]any
	_ = parsed.UnsafeClaimsWithoutVerification(&c)
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} {
		if _, ok := c[k]; !ok {
			t.Errorf("claim %s missing from %v", k, c)
		}
	}
}

func TestScopeRequest(t *testing.T) {
	e := newEnv(t)
	cfg := e.client(t, "system.Webhook:* profile.Customer:create")
	tests := []struct {
		scope []string
		want  string // granted scope, or the error code
	}{
		{nil, "system.Webhook:* profile.Customer:create"},
		{[]string{"profile.Customer:create"}, "profile.Customer:create"},
		{[]string{"system.Webhook:subscribeToWebhook"}, "system.Webhook:subscribeToWebhook"},
		{[]string{"profile.Customer:update"}, "invalid_scope"},
		{[]string{"*"}, "invalid_scope"},
		{[]string{"profile.Cust:*"}, "invalid_scope"},
		{[]string{"not a scope"}, "invalid_scope"},
	}
	for _, tt := range tests {
		c := cfg
		c.Scopes = tt.scope
		tok, err := c.Token(context.Background())
		var got string
		if re := (*oauth2.RetrieveError)(nil); err != nil && asRetrieve(err, &re) {
			got = re.ErrorCode
		} else if err == nil {
			got, _ = tok.Extra("scope").(string)
		}
		if got != tt.want {
			t.Errorf("scope %v: got %q (err %v), want %q", tt.scope, got, err, tt.want)
		}
	}
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool {
	r, ok := err.(*oauth2.RetrieveError)
	*re = r
	return ok
}

// post sends a form to path, with basic credentials when user is set.
func post(t *testing.T, e *env, path string, form url.Values, user, pass string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	cfg := e.client(t, "profile.Customer:*")
	id, secret := cfg.ClientID, cfg.ClientSecret
	cc := url.Values{"grant_type": {"client_credentials"}}
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code       string
		challenge  bool
	}{
		{"unknown client basic", cc, "cl_nobody", secret, 401, "invalid_client", true},
		{"wrong secret basic", cc, id, "wrong", 401, "invalid_client", true},
		{"wrong secret post", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"wrong"}}, "", "", 401, "invalid_client", false},
		{"unknown client post", url.Values{"grant_type": {"client_credentials"}, "client_id": {"cl_nobody"}, "client_secret": {secret}}, "", "", 401, "invalid_client", false},
		{"no credentials", cc, "", "", 401, "invalid_client", true},
		{"two methods", url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}}, id, secret, 400, "invalid_request", false},
		{"no grant", url.Values{}, id, secret, 400, "invalid_request", false},
		{"password grant", url.Values{"grant_type": {"password"}}, id, secret, 400, "unsupported_grant_type", false},
		{"refresh grant", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, id, secret, 400, "invalid_grant", false},
		{"repeated parameter", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, id, secret, 400, "invalid_request", false},
		{"scope beyond client", url.Values{"grant_type": {"client_credentials"}, "scope": {"system.Webhook:*"}}, id, secret, 400, "invalid_scope", false},
	}
	descs := map[string]string{}
	for _, tt := range tests {
		resp, body := post(t, e, "/oauth2/token", tt.form, tt.user, tt.pass)
		if resp.StatusCode != tt.status || body["error"] != tt.code {
			t.Errorf("%s: got %d %v, want %d %s", tt.name, resp.StatusCode, body["error"], tt.status, tt.code)
		}
		if got := resp.Header.Get("WWW-Authenticate") != ""; got != tt.challenge {
			t.Errorf("%s: WWW-Authenticate present = %v, want %v", tt.name, got, tt.challenge)
		}
		if tt.code == "invalid_client" && tt.name != "no credentials" {
			descs[body["error_description"].(string)] = tt.name
		}
	}
	if len(descs) != 1 {
		t.Errorf("unknown client and wrong secret gave different texts: %v", descs)
	}
	resp, body := post(t, e, "/oauth2/token", cc, id, secret)
	if resp.StatusCode != 200 || body["token_type"] != "Bearer" || body["expires_in"].(float64) != 3600 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("good request: got %d %v %v", resp.StatusCode, body, resp.Header)
	}
}

func TestTokenWrongContentType(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Post(e.http.URL+"/oauth2/token", "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("got %d, want 400", resp.StatusCode)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	e.server = &auth.Server{Tokens: e.tokens, Clients: e.store, Logger: e.server.Logger, ClientRate: 0.01, ClientBurst: 3, IPRate: -1, FailureRate: 0.01, FailureBurst: 4}
	h := e.server.Handler()
	e.http.Config.Handler = h
	cfg := e.client(t, "*")
	form := url.Values{"grant_type": {"client_credentials"}}
	var last *http.Response
	var body map[string]any
	// Guesses spend the guesser's failure budget, not the client's.
	for range 5 {
		last, body = post(t, e, "/oauth2/token", form, cfg.ClientID, "wrong-guess")
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || body["error"] == nil {
		t.Errorf("after 5 guesses: got %d Retry-After %q body %v, want 429 with Retry-After and an error body", last.StatusCode, last.Header.Get("Retry-After"), body)
	}
	// The client's own requests from another address (their secret right)
	// each spend one token of its own budget, untouched by the guesses.
	fromElsewhere := func() int {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cfg.ClientID, cfg.ClientSecret)
		req.RemoteAddr = "192.0.2.7:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for range 3 {
		if code := fromElsewhere(); code != 200 {
			t.Fatalf("client after guesses: got %d, want 200", code)
		}
	}
	if code := fromElsewhere(); code != http.StatusTooManyRequests {
		t.Errorf("client past its burst: got %d, want 429", code)
	}
	// Per IP: a fresh server limiting only by IP refuses the next client too.
	e.server = &auth.Server{Tokens: e.tokens, Clients: e.store, Logger: e.server.Logger, ClientRate: -1, IPRate: 0.01, IPBurst: 2}
	e.http.Config.Handler = e.server.Handler()
	for i := range 3 {
		last, _ = post(t, e, "/oauth2/token", form, "cl_guess"+string(rune('a'+i)), "x")
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Errorf("per IP: got %d, want 429", last.StatusCode)
	}
}

func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	cfg := e.client(t, "profile.Customer:*")
	tok := e.token(t, cfg)
	_, body := post(t, e, "/oauth2/introspect", url.Values{"token": {tok}}, cfg.ClientID, cfg.ClientSecret)
	if body["active"] != true || body["client_id"] != cfg.ClientID || body["scope"] != "profile.Customer:*" {
		t.Errorf("active token: got %v", body)
	}
	_, body = post(t, e, "/oauth2/introspect", url.Values{"token": {tok + "x"}}, cfg.ClientID, cfg.ClientSecret)
	if body["active"] != false || len(body) != 1 {
		t.Errorf("bad token: got %v, want only active false", body)
	}
	resp, _ := post(t, e, "/oauth2/introspect", url.Values{"token": {tok}}, cfg.ClientID, "wrong")
	if resp.StatusCode != 401 {
		t.Errorf("unauthenticated introspection: got %d, want 401", resp.StatusCode)
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	var meta map[string]any
	getJSON(t, e.http.URL+"/.well-known/oauth-authorization-server", &meta)
	if meta["issuer"] != e.http.URL || meta["token_endpoint"] != e.http.URL+"/oauth2/token" {
		t.Errorf("metadata = %v", meta)
	}
	var set jose.JSONWebKeySet
	getJSON(t, e.http.URL+"/.well-known/jwks.json", &set)
	if len(set.Keys) != 1 || !set.Keys[0].IsPublic() || set.Keys[0].Algorithm != "ES256" {
		t.Errorf("jwks = %+v, want one public ES256 key", set)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	var buf bytes.Buffer
	e := newEnvLogger(t, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	cfg := e.client(t, "*")
	tok := e.token(t, cfg)
	post(t, e, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, cfg.ClientID, "wrong-secret-guess")
	_, err := e.authn.Authenticate(context.Background(), jqlgate.AuthOAuth2, tok+"x")
	if err == nil {
		t.Fatal("tampered token accepted")
	}
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("request failed", "error", err.Error())
	logs := buf.String()
	if !strings.Contains(logs, "access token issued") || !strings.Contains(logs, "client authentication failed") {
		t.Fatalf("expected log lines missing: %s", logs)
	}
	for _, secret := range []string{cfg.ClientSecret, "wrong-secret-guess", tok[:40], strings.Split(tok, ".")[2]} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds a secret %q: %s", secret, logs)
		}
	}
}

// Wrong secrets from one address used to lock that client id out of the
// token endpoint for that address, the right secret included; behind a
// proxy (one address for everyone) that let anyone lock any client out.
// A right secret now passes whatever failed before it: only wrong ones
// are limited.
func TestTokenRightSecretPassesAfterFailures(t *testing.T) {
	e := newEnv(t)
	e.server = &auth.Server{Tokens: e.tokens, Clients: e.store, Logger: e.server.Logger, ClientRate: -1, IPRate: -1, FailureRate: 0.01, FailureBurst: 3}
	h := e.server.Handler()
	cfg := e.client(t, "*")
	send := func(secret string) int {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cfg.ClientID, secret)
		req.RemoteAddr = "192.0.2.9:40000" // guesser and client share one address, as behind a proxy
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	var got []int
	for range 5 {
		got = append(got, send("wrong-guess"))
	}
	if want := []int{401, 401, 401, 429, 429}; !slices.Equal(got, want) {
		t.Errorf("wrong secrets answered %v, want %v", got, want)
	}
	for i := range 3 {
		if code := send(cfg.ClientSecret); code != http.StatusOK {
			t.Fatalf("the right secret %d after the failures, from the same address: got %d, want 200", i+1, code)
		}
	}
	if code := send("wrong-again"); code != http.StatusTooManyRequests {
		t.Errorf("a wrong secret after the right ones: got %d, want 429 (a success does not refill the guesser's budget)", code)
	}
}
