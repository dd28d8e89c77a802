package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
)

// TestTokenCacheKeepsExpiryAndKeyRetirement checks that an access token
// answered from the verified-token cache is still refused once it expires
// and once the key that signed it retires, and that a copy of a cached
// token with its signature altered is refused.
func TestTokenCacheKeepsExpiryAndKeyRetirement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := e.client(t, "*")
	now := time.Now()
	clock := func() time.Time { return now }
	keys := &auth.KeySet{Store: e.store, Now: clock}
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	tokens := &auth.Tokens{Keys: keys, Issuer: e.tokens.Issuer, Audience: "jqlgate", AccessTTL: 10 * time.Minute, Now: clock}
	tok, _, err := tokens.IssueAccess(ctx, cfg.ClientID, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, err := tokens.VerifyAccess(ctx, tok)
		if err != nil || c.Subject != cfg.ClientID {
			t.Fatalf("good token: %+v, %v", c, err)
		}
		c.Scope = "changed" // a caller's change must not reach the cache
	}
	if c, _ := tokens.VerifyAccess(ctx, tok); c == nil || c.Scope != "*" {
		t.Errorf("cached claims changed by a caller: %+v", c)
	}
	if _, err := tokens.VerifyAccess(ctx, tamper(t, tok)); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("tampered copy of a cached token: %v, want EUNAUTHORIZED", err)
	}

	// Past exp and the leeway, the cached token is refused.
	now = now.Add(11 * time.Minute)
	if _, err := tokens.VerifyAccess(ctx, tok); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("expired cached token: %v, want EUNAUTHORIZED", err)
	}

	// A fresh token, cached, then its key retires before the token expires.
	now = time.Now()
	tok, _, err = tokens.IssueAccess(ctx, cfg.ClientID, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.VerifyAccess(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Rotate(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := tokens.VerifyAccess(ctx, tok); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("cached token of a retired key: %v, want EUNAUTHORIZED", err)
	}
}
