package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
)

func TestAttacksRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := e.client(t, "*")
	good := e.token(t, cfg)
	kid := e.keys.JWKS().Keys[0].KeyID
	pub := e.keys.JWKS().Keys[0].Key
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)

	past := &auth.Tokens{Keys: e.keys, Issuer: e.tokens.Issuer, Audience: "jqlgate", Now: func() time.Time { return time.Now().Add(-3 * time.Hour) }}
	expired, _, _ := past.IssueAccess(ctx, cfg.ClientID, []string{"*"})
	otherIss := &auth.Tokens{Keys: e.keys, Issuer: "https://evil.example", Audience: "jqlgate"}
	wrongIss, _, _ := otherIss.IssueAccess(ctx, cfg.ClientID, []string{"*"})
	otherAud := &auth.Tokens{Keys: e.keys, Issuer: e.tokens.Issuer, Audience: "someone-else"}
	wrongAud, _, _ := otherAud.IssueAccess(ctx, cfg.ClientID, []string{"*"})
	noExp := e.accessClaims(cfg.ClientID)
	delete(noExp, "exp")

	tests := []struct {
		name, token string
	}{
		{"expired", expired},
		{"unknown key", forge(t, jose.ES256, newECKey(t), "key_unknown", "at+jwt", e.accessClaims(cfg.ClientID))},
		{"unknown key reusing a known kid", forge(t, jose.ES256, newECKey(t), kid, "at+jwt", e.accessClaims(cfg.ClientID))},
		{"alg none", algNone(kid, e.accessClaims(cfg.ClientID))},
		{"HS256 with the public key as secret", forge(t, jose.HS256, pubDER, kid, "at+jwt", e.accessClaims(cfg.ClientID))},
		{"wrong issuer", wrongIss},
		{"wrong audience", wrongAud},
		{"no exp", forgeWithServerKey(t, e, noExp)},
		{"tampered payload", tamper(t, good)},
		{"garbage", "not.a.token"},
	}
	for _, tt := range tests {
		p, err := e.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tt.token)
		if err == nil || jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
			t.Errorf("%s: got %+v, %v; want EUNAUTHORIZED", tt.name, p, err)
		}
	}
	if _, err := e.authn.Authenticate(ctx, jqlgate.AuthOAuth2, good); err != nil {
		t.Errorf("good token refused: %v", err)
	}
}

// forgeWithServerKey signs claims with a real signing key of e, reached by
// a second KeySet on the same store (as another process would).
func forgeWithServerKey(t *testing.T, e *env, claims map[string]any) string {
	t.Helper()
	stored, err := e.store.SigningKeys(context.Background())
	if err != nil || len(stored) == 0 {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(stored[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return forge(t, jose.ES256, priv, stored[0].ID, "at+jwt", claims)
}

func algNone(kid string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": kid})
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "."
}

// tamper widens the scope in a token's payload, keeping its signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	c["sub"] = "cl_someone_else"
	raw, _ = json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func TestClassesNotInterchangeable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	access := e.token(t, e.client(t, "*"))
	key, _, err := auth.CreateAPIKey(ctx, e.store, "k", "*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.users.Create(ctx, "ada", "correct horse", "*"); err != nil {
		t.Fatal(err)
	}
	login, err := e.users.Login(ctx, "ada", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{jqlgate.AuthOAuth2: access, jqlgate.AuthAPIKey: key, jqlgate.AuthJWT: login.Token}
	for made, tok := range tokens {
		for _, sent := range []string{jqlgate.AuthOAuth2, jqlgate.AuthAPIKey, jqlgate.AuthJWT} {
			p, err := e.authn.Authenticate(ctx, sent, tok)
			if made == sent && err != nil {
				t.Errorf("%s token as %s: %v", made, sent, err)
			}
			if made != sent && (err == nil || jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED) {
				t.Errorf("%s token accepted as %s: %+v %v", made, sent, p, err)
			}
		}
	}
	if _, err := e.authn.Authenticate(ctx, "session", access); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("unknown class: got %v, want EUNAUTHORIZED", err)
	}
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key, rec, err := auth.CreateAPIKey(ctx, e.store, "ci", "profile.Customer:create")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, auth.APIKeyPrefix) || strings.Contains(string(rec.Hash), key) {
		t.Fatalf("key %q: want jqk_ prefix and only a hash stored", key)
	}
	p, err := e.authn.Authenticate(ctx, jqlgate.AuthAPIKey, key)
	if err != nil || p.Kind != jqlgate.PrincipalAPIKey || !p.Can("profile.Customer", "create") || p.Can("profile.Customer", "update") {
		t.Fatalf("got %+v %v", p, err)
	}
	id, _, _ := auth.ParseAPIKey(key)
	bad := []string{key[:len(key)-1] + "0", auth.FormatAPIKey("ak_unknown", strings.Repeat("a", 64)), "jqk_", "jqk_x_y"}
	if key[len(key)-1] == '0' {
		bad[0] = key[:len(key)-1] + "1"
	}
	if err := e.store.DeleteAPIKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, b := range append(bad, key) {
		if _, err := e.authn.Authenticate(ctx, jqlgate.AuthAPIKey, b); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
			t.Errorf("key %q: got %v, want EUNAUTHORIZED", b, err)
		}
	}
	if _, _, err := auth.CreateAPIKey(ctx, e.store, "x", "profile.Customer"); jqlgate.ErrorCode(err) != jqlgate.EINVALID {
		t.Errorf("bad scope: got %v, want EINVALID", err)
	}
}

func TestUserLogin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.users.Create(ctx, "ada", "correct horse", "profile.Customer:*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.users.Create(ctx, "ada", "another one", "*"); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("duplicate username: got %v, want ECONFLICT", err)
	}
	login, err := e.users.Login(ctx, "ada", "correct horse")
	if err != nil || login.UserID != u.ID {
		t.Fatalf("login: %+v %v", login, err)
	}
	p, err := e.authn.Authenticate(ctx, jqlgate.AuthJWT, login.Token)
	if err != nil || p.ID != u.ID || p.Kind != jqlgate.PrincipalUser || !p.Can("profile.Customer", "create") {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	_, wrongPass := e.users.Login(ctx, "ada", "wrong password")
	_, noUser := e.users.Login(ctx, "bob", "correct horse")
	if wrongPass == nil || noUser == nil || jqlgate.AsError(wrongPass).Message != jqlgate.AsError(noUser).Message || jqlgate.ErrorCode(noUser) != jqlgate.EUNAUTHORIZED {
		t.Errorf("wrong password %v vs unknown user %v: want the same EUNAUTHORIZED", wrongPass, noUser)
	}
	for _, bad := range [][2]string{{"", "correct horse"}, {"a b", "correct horse"}, {"carl", "short"}, {"carl", strings.Repeat("x", 73)}} {
		if _, err := e.users.Create(ctx, bad[0], bad[1], "*"); jqlgate.ErrorCode(err) != jqlgate.EINVALID {
			t.Errorf("create %q: got %v, want EINVALID", bad[0], err)
		}
	}
}

func TestKeyRotationAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := e.client(t, "*")
	old := e.token(t, cfg)

	// A second process on the same store: its own key cache.
	now := time.Now()
	other := &auth.KeySet{Store: e.store, Now: func() time.Time { return now }}
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	newKey, err := other.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherTokens := &auth.Tokens{Keys: other, Issuer: e.tokens.Issuer, Audience: "jqlgate", Now: func() time.Time { return now }}
	fresh, _, err := otherTokens.IssueAccess(ctx, cfg.ClientID, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	// The first process learns the new key on first sight of its kid.
	for name, tok := range map[string]string{"old": old, "fresh": fresh} {
		if _, err := e.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}
	if n := len(other.JWKS().Keys); n != 2 {
		t.Errorf("jwks during grace: %d keys, want 2", n)
	}
	// After the grace period the old key no longer verifies.
	now = now.Add(2 * time.Hour)
	if _, err := otherTokens.VerifyAccess(ctx, old); err == nil {
		t.Error("old token verified after its key's grace period")
	}
	if keys := other.JWKS().Keys; len(keys) != 1 || keys[0].KeyID != newKey.ID {
		t.Errorf("jwks after grace: %+v, want only %s", keys, newKey.ID)
	}
}

func TestSealedKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sealed := &auth.KeySet{Store: e.store, Secret: "s3cret"}
	if err := sealed.Load(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := sealed.Rotate(ctx, time.Hour)
	if err != nil || !k.Encrypted {
		t.Fatalf("rotate: %+v %v", k, err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err == nil {
		t.Error("sealed private key parses as plain PKCS #8")
	}
	wrong := &auth.KeySet{Store: e.store, Secret: "other"}
	if err := wrong.Load(ctx); err == nil {
		t.Error("keys sealed with another secret loaded")
	}
}
