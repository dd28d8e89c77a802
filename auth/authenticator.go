package auth

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/jqlgate/jqlgate"
)

// Verifier checks a token from an external authorization server.
type Verifier interface {
	Verify(ctx context.Context, token string) (*jqlgate.Principal, error)
}

// Authenticator turns a request's authentication class and token into its
// principal. It implements the gateway's Authenticator.
type Authenticator struct {
	// Tokens verifies the built-in server's access tokens and user
	// tokens; nil disables both.
	Tokens *Tokens
	// External verifies access tokens of trusted external issuers, tried
	// in order for any oauth2 token the built-in issuer did not issue.
	External []Verifier
	// ExternalOnly refuses the built-in server's access tokens, for
	// deployments that trust only an external issuer.
	ExternalOnly bool
	APIKeys      APIKeyStore
	// Principals, when set, makes every request act with its principal's
	// current state (see Principals): deleted clients, users and API keys
	// are refused, narrowed ones get only what they still hold, ended user
	// sessions and revoked tokens are refused. API keys are then read
	// through it, and APIKeyCacheTTL is not used.
	Principals *Principals
	// APIKeyCacheTTL bounds how long an API key looked up once is trusted
	// without asking the store again (so a deleted key works at most this
	// long) when Principals is nil; default 10s, negative disables the
	// cache.
	APIKeyCacheTTL time.Duration
	Now            func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key *jqlgate.APIKey
	at  time.Time
}

// Authenticate returns the principal for token sent with class. Any bad
// token is an EUNAUTHORIZED error.
func (a *Authenticator) Authenticate(ctx context.Context, class, token string) (*jqlgate.Principal, error) {
	if token == "" {
		return nil, &jqlgate.Error{Code: jqlgate.EUNAUTHORIZED, Message: "Authentication is required."}
	}
	switch class {
	case jqlgate.AuthOAuth2:
		return a.oauth2(ctx, token)
	case jqlgate.AuthAPIKey:
		return a.apiKey(ctx, token)
	case jqlgate.AuthJWT:
		if a.Tokens == nil {
			return nil, unauthorized("user tokens disabled")
		}
		now := a.Tokens.now()
		c, err := a.Tokens.verify(ctx, token, TypeUserToken, UserAudience, now)
		if err != nil {
			return nil, err
		}
		return a.current(ctx, c, jqlgate.PrincipalUser, now)
	}
	return nil, &jqlgate.Error{Code: jqlgate.EUNAUTHORIZED, Message: "Unknown authenticationClass (use oauth2, apiKey or jwt).", Field: "authenticationClass"}
}

// oauth2 sends a token the built-in issuer made to it, anything else to
// the external verifiers, so no token is checked against keys it can't
// match (which would trigger useless key reloads).
func (a *Authenticator) oauth2(ctx context.Context, token string) (*jqlgate.Principal, error) {
	if a.Tokens != nil && !a.ExternalOnly && (len(a.External) == 0 || unverifiedIssuer(token) == a.Tokens.issuer()) {
		now := a.Tokens.now()
		c, err := a.Tokens.verifyAccessAt(ctx, token, now)
		if err != nil {
			return nil, err
		}
		return a.current(ctx, c, jqlgate.PrincipalClient, now)
	}
	var last error = unauthorized("no issuer trusted")
	for _, v := range a.External {
		p, err := v.Verify(ctx, token)
		if err == nil {
			return p, nil
		}
		last = err
	}
	return nil, last
}

// current is the principal of verified claims of kind as it stands at now
// (as the token says when there is no Principals).
func (a *Authenticator) current(ctx context.Context, c *Claims, kind string, now time.Time) (*jqlgate.Principal, error) {
	if a.Principals == nil {
		return c.principal(kind), nil
	}
	return a.Principals.resolve(ctx, c, kind, now)
}

// Changed makes the next request see this process's change to a principal
// at once (see Principals.Changed).
func (a *Authenticator) Changed() {
	if a.Principals != nil {
		a.Principals.Changed()
	}
}

// unverifiedIssuer reads "iss" without checking anything; it only picks
// the verifier, which then checks everything.
func unverifiedIssuer(token string) string {
	tok, err := jwt.ParseSigned(token, allowedAlgorithms)
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Issuer
}

// allowedAlgorithms are the asymmetric algorithms accepted from external
// issuers; symmetric ones and "none" never are.
var allowedAlgorithms = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA,
}

func (a *Authenticator) apiKey(ctx context.Context, token string) (*jqlgate.Principal, error) {
	id, secret, ok := ParseAPIKey(strings.TrimSpace(token))
	if !ok || a.APIKeys == nil {
		return nil, unauthorized("not an API key")
	}
	k, err := a.lookupKey(ctx, id)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return nil, unauthorized("unknown API key")
	}
	if err != nil {
		return nil, err
	}
	if !CheckSecret(id, secret, k.Hash) {
		return nil, unauthorized("wrong API key secret")
	}
	return &jqlgate.Principal{ID: k.ID, Kind: jqlgate.PrincipalAPIKey, Name: k.Name, Permissions: k.Permissions}, nil
}

// ForgetAPIKey drops API key id from the cache, after this process
// deleted, rotated or rescoped it.
func (a *Authenticator) ForgetAPIKey(id string) {
	a.mu.Lock()
	delete(a.cache, id)
	a.mu.Unlock()
	a.Changed()
}

func (a *Authenticator) lookupKey(ctx context.Context, id string) (*jqlgate.APIKey, error) {
	if a.Principals != nil {
		return a.Principals.apiKey(ctx, id, time.Now())
	}
	ttl := orDefault(a.APIKeyCacheTTL, 10*time.Second)
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	a.mu.Lock()
	c, ok := a.cache[id]
	a.mu.Unlock()
	if ok && a.APIKeyCacheTTL >= 0 && now.Sub(c.at) < ttl {
		return c.key, nil
	}
	k, err := a.APIKeys.APIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.cache == nil || len(a.cache) > 10000 {
		a.cache = map[string]cachedKey{}
	}
	a.cache[id] = cachedKey{key: k, at: now}
	a.mu.Unlock()
	return k, nil
}
