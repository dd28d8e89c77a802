package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/jqlgate/jqlgate"
)

// RFC 7009: a client revokes its own access token at /oauth2/revoke
// (advertised in the metadata); the token is refused from then on, by
// this process at once, by another within its poll, and by a process
// started later (a restart). Invalid tokens are answered 200 too.
func TestRevokeEndpoint(t *testing.T) {
	e := withPrincipals(newEnv(t))
	ctx := context.Background()
	var meta map[string]any
	getJSON(t, e.http.URL+"/.well-known/oauth-authorization-server", &meta)
	if meta["revocation_endpoint"] != e.http.URL+"/oauth2/revoke" {
		t.Fatalf("metadata revocation_endpoint = %v, want %s/oauth2/revoke", meta["revocation_endpoint"], e.http.URL)
	}
	other := otherProcess(e)
	cfg := e.client(t, "*")
	tok, kept := e.token(t, cfg), e.token(t, cfg)
	mustAuth(t, e.authn, jqlgate.AuthOAuth2, tok)
	mustAuth(t, other, jqlgate.AuthOAuth2, tok)

	// Only the client it was issued to may revoke it.
	intruder := e.client(t, "*")
	if resp, body := post(t, e, "/oauth2/revoke", url.Values{"token": {tok}}, intruder.ClientID, intruder.ClientSecret); resp.StatusCode != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("another client revoking the token: got %d %v, want 400 unauthorized_client", resp.StatusCode, body)
	}
	if resp, _ := post(t, e, "/oauth2/revoke", url.Values{"token": {tok}}, cfg.ClientID, "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoking with a wrong secret: got %d, want 401", resp.StatusCode)
	}
	mustAuth(t, e.authn, jqlgate.AuthOAuth2, tok)

	resp, _ := post(t, e, "/oauth2/revoke", url.Values{"token": {tok}, "token_type_hint": {"access_token"}}, cfg.ClientID, cfg.ClientSecret)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("revoke: got %d (Cache-Control %q), want 200 no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if _, err := e.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tok); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("the revoked token in this process: got %v, want EUNAUTHORIZED at once", err)
	}
	if !refused(t, other, jqlgate.AuthOAuth2, tok) {
		t.Errorf("another process still accepts the revoked token after %s", 20*poll)
	}
	if _, err := otherProcess(e).Authenticate(ctx, jqlgate.AuthOAuth2, tok); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("a process started after the revocation: got %v, want EUNAUTHORIZED", err)
	}
	mustAuth(t, e.authn, jqlgate.AuthOAuth2, kept) // only that token
	if _, body := post(t, e, "/oauth2/introspect", url.Values{"token": {tok}}, cfg.ClientID, cfg.ClientSecret); body["active"] != false {
		t.Errorf("introspection of the revoked token: %v, want active false", body)
	}

	// Revoking again, or revoking what is no token of ours, is still 200.
	for _, bad := range []string{tok, "not-a-token", kept + "x"} {
		if resp, _ := post(t, e, "/oauth2/revoke", url.Values{"token": {bad}}, cfg.ClientID, cfg.ClientSecret); resp.StatusCode != http.StatusOK {
			t.Errorf("revoking %.20q: got %d, want 200", bad, resp.StatusCode)
		}
	}
	if resp, body := post(t, e, "/oauth2/revoke", url.Values{}, cfg.ClientID, cfg.ClientSecret); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("revoke without a token: got %d %v, want 400 invalid_request", resp.StatusCode, body)
	}
}
