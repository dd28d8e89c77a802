package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// env is a running built-in authorization server on a real store.
type env struct {
	store  *mongodb.AuthStore
	keys   *auth.KeySet
	tokens *auth.Tokens
	server *auth.Server
	authn  *auth.Authenticator
	users  *auth.Users
	http   *httptest.Server
	// principals is set by withPrincipals.
	principals *auth.Principals
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvLogger(t, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func newEnvLogger(t testing.TB, logger *slog.Logger) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{store: mongodb.NewAuthStore(mongotest.New(t))}
	if err := e.store.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	e.keys = &auth.KeySet{Store: e.store}
	if err := e.keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.NotFoundHandler()
	e.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.http.Close)
	e.tokens = &auth.Tokens{Keys: e.keys, Issuer: e.http.URL, Audience: "jqlgate"}
	e.server = &auth.Server{Tokens: e.tokens, Clients: e.store, Logger: logger, ClientRate: -1, IPRate: -1}
	h = e.server.Handler()
	e.authn = &auth.Authenticator{Tokens: e.tokens, APIKeys: e.store, APIKeyCacheTTL: -1}
	e.users = &auth.Users{Store: e.store, Tokens: e.tokens, Cost: bcrypt.MinCost}
	return e
}

// client creates a client and returns its credentials config.
func (e *env) client(t testing.TB, scope string) clientcredentials.Config {
	t.Helper()
	cc, err := auth.CreateClient(context.Background(), e.store, "test", scope)
	if err != nil {
		t.Fatal(err)
	}
	return clientcredentials.Config{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, TokenURL: e.http.URL + "/oauth2/token"}
}

// token obtains an access token with golang.org/x/oauth2.
func (e *env) token(t testing.TB, cfg clientcredentials.Config) string {
	t.Helper()
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

// forge signs claims with any key and header values, for attack tests.
func forge(t testing.TB, alg jose.SignatureAlgorithm, key any, kid, typ string, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// accessClaims are valid access token claims for e, to be spoiled.
func (e *env) accessClaims(sub string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": e.tokens.Issuer, "sub": sub, "aud": "jqlgate", "client_id": sub, "scope": "*",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "jti_x",
	}
}
