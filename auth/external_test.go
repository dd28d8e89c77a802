package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
)

func TestExternalJWKSIssuer(t *testing.T) {
	ctx := context.Background()
	local, external, stranger := newEnv(t), newEnv(t), newEnv(t)
	local.authn.External = []auth.Verifier{&auth.JWKSVerifier{
		URL: external.http.URL + "/.well-known/jwks.json", Issuer: external.http.URL, Audience: "jqlgate",
	}}
	extTok := external.token(t, external.client(t, "profile.Customer:create"))
	p, err := local.authn.Authenticate(ctx, jqlgate.AuthOAuth2, extTok)
	if err != nil || !p.Can("profile.Customer", "create") || len(p.Permissions) != 1 {
		t.Fatalf("external token: %+v %v; want profile.Customer:create only", p, err)
	}
	// The built-in issuer still works beside the external one.
	if _, err := local.authn.Authenticate(ctx, jqlgate.AuthOAuth2, local.token(t, local.client(t, "*"))); err != nil {
		t.Errorf("built-in token with an external issuer configured: %v", err)
	}
	claims := stranger.accessClaims("cl_x")
	claims["iss"] = external.http.URL
	refused := map[string]string{
		"another issuer's token":          stranger.token(t, stranger.client(t, "*")),
		"another issuer's key, right iss": forgeWithServerKey(t, stranger, claims),
		"external token, wrong audience":  wrongAudience(t, external),
		"external token sent as apiKey":   extTok,
	}
	for name, tok := range refused {
		class := jqlgate.AuthOAuth2
		if name == "external token sent as apiKey" {
			class = jqlgate.AuthAPIKey
		}
		if p, err := local.authn.Authenticate(ctx, class, tok); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
			t.Errorf("%s: got %+v %v, want EUNAUTHORIZED", name, p, err)
		}
	}
}

func wrongAudience(t *testing.T, e *env) string {
	t.Helper()
	c := e.accessClaims("cl_x")
	c["aud"] = "not-jqlgate"
	return forgeWithServerKey(t, e, c)
}

// TestExternalScopeClaim uses an issuer with EdDSA keys that puts
// permissions in an array claim of another name.
func TestExternalScopeClaim(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "ed1", Algorithm: "EdDSA", Use: "sig"}}}
	fetches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches++
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer srv.Close()
	v := &auth.JWKSVerifier{URL: srv.URL, Issuer: "https://idp.example", Audience: "jqlgate", ScopeClaim: "permissions"}
	a := &auth.Authenticator{External: []auth.Verifier{v}}
	now := time.Now().Unix()
	claims := map[string]any{"iss": "https://idp.example", "sub": "svc-1", "aud": []string{"jqlgate"}, "exp": now + 60, "iat": now,
		"permissions": []string{"system.Webhook:*", "profile.Cust:*", "openid"}}
	p, err := a.Authenticate(context.Background(), jqlgate.AuthOAuth2, forge(t, jose.EdDSA, priv, "ed1", "JWT", claims))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Can("system.Webhook", "subscribeToWebhook") || p.Can("profile.Customer", "create") {
		t.Errorf("permissions %v: want system.Webhook:* and no profile.Customer", p.Permissions)
	}
	// Unknown kids reload the set at most once per refresh interval.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	for range 5 {
		_, _ = a.Authenticate(context.Background(), jqlgate.AuthOAuth2, forge(t, jose.EdDSA, other, "ed2", "JWT", claims))
	}
	if fetches != 1 {
		t.Errorf("jwks fetched %d times, want 1", fetches)
	}
}

func TestExternalIntrospection(t *testing.T) {
	ctx := context.Background()
	local, external := newEnv(t), newEnv(t)
	rs := external.client(t, "system.Webhook:retrieve") // the resource server's own client
	intro := &auth.Introspector{
		Endpoint:    external.http.URL + "/oauth2/introspect",
		Credentials: clientcredentials.Config{ClientID: rs.ClientID, ClientSecret: rs.ClientSecret, TokenURL: rs.TokenURL},
	}
	local.authn = &auth.Authenticator{External: []auth.Verifier{intro}}
	tok := external.token(t, external.client(t, "profile.Customer:*"))
	p, err := local.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tok)
	if err != nil || !p.Can("profile.Customer", "update") {
		t.Fatalf("introspected token: %+v %v", p, err)
	}
	if _, err := local.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tok+"x"); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("inactive token: got %v, want EUNAUTHORIZED", err)
	}
}
