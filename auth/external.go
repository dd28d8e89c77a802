package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jqlgate/jqlgate"
)

// JWKSVerifier trusts the JWT access tokens of an external authorization
// server whose public keys are published at a JWKS URL. Keys are cached;
// an unknown kid reloads them, at most once per RefreshInterval.
type JWKSVerifier struct {
	URL      string
	Issuer   string
	Audience string
	// ScopeClaim names the claim holding permissions ("scope" when
	// empty), a space-separated string or an array.
	ScopeClaim      string
	HTTPClient      *http.Client
	RefreshInterval time.Duration // default 30s
	MaxAge          time.Duration // default 1h
	Leeway          time.Duration // default 30s
	Now             func() time.Time

	mu       sync.Mutex
	keys     jose.JSONWebKeySet
	loadedAt time.Time
	triedAt  time.Time
}

func (v *JWKSVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks token against the issuer's keys, issuer and audience.
func (v *JWKSVerifier) Verify(ctx context.Context, token string) (*jqlgate.Principal, error) {
	tok, err := jwt.ParseSigned(token, allowedAlgorithms)
	if err != nil || len(tok.Headers) != 1 {
		return nil, unauthorized("malformed token or disallowed algorithm")
	}
	h := tok.Headers[0]
	key, ok := v.key(ctx, h.KeyID, h.Algorithm)
	if !ok {
		return nil, unauthorized("unknown signing key")
	}
	var std jwt.Claims
	all := map[string]any{}
	if err := tok.Claims(key.Key, &std, &all); err != nil {
		return nil, unauthorized("bad signature")
	}
	if err := checkClaims(std, v.Issuer, v.Audience, v.now(), orDefault(v.Leeway, 30*time.Second)); err != nil {
		return nil, err
	}
	return externalPrincipal(v.Issuer, std.Subject, all, v.ScopeClaim), nil
}

// key finds the public key for kid, reloading the set when it is unknown
// or old. A key must match the token's algorithm when it names one.
func (v *JWKSVerifier) key(ctx context.Context, kid, alg string) (jose.JSONWebKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	found := v.find(kid, alg)
	stale := now.Sub(v.loadedAt) > orDefault(v.MaxAge, time.Hour)
	if (len(found) == 0 || stale) && now.Sub(v.triedAt) >= orDefault(v.RefreshInterval, 30*time.Second) {
		v.triedAt = now
		if set, err := v.fetch(ctx); err == nil {
			v.keys, v.loadedAt = set, now
			found = v.find(kid, alg)
		}
	}
	if len(found) != 1 || !found[0].IsPublic() {
		return jose.JSONWebKey{}, false
	}
	return found[0], true
}

func (v *JWKSVerifier) find(kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range v.keys.Key(kid) {
		if (k.Algorithm == "" || k.Algorithm == alg) && (k.Use == "" || k.Use == "sig") {
			out = append(out, k)
		}
	}
	return out
}

func (v *JWKSVerifier) fetch(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.URL, nil)
	if err != nil {
		return set, err
	}
	c := v.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return set, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, fmt.Errorf("jwks %s: status %d", v.URL, resp.StatusCode)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set)
	return set, err
}

// externalPrincipal maps an external token's claims to a principal of
// issuer (never empty, so its owner key is "ext:…" and no external
// subject can pass for a built-in client). Scope values that are not
// jqlgate permissions (such as "openid") are dropped.
func externalPrincipal(issuer, sub string, claims map[string]any, scopeClaim string) *jqlgate.Principal {
	if scopeClaim == "" {
		scopeClaim = "scope"
	}
	var raw []string
	switch s := claims[scopeClaim].(type) {
	case string:
		raw = strings.Fields(s)
	case []any:
		for _, e := range s {
			if str, ok := e.(string); ok {
				raw = append(raw, str)
			}
		}
	}
	var perms []string
	for _, p := range raw {
		if jqlgate.ValidPermission(p) {
			perms = append(perms, p)
		}
	}
	name, _ := claims["client_id"].(string)
	if name == "" {
		name = sub
	}
	return &jqlgate.Principal{ID: sub, Kind: jqlgate.PrincipalClient, Name: name, Issuer: issuer, Permissions: perms}
}

// Introspector trusts tokens an external authorization server vouches for
// through RFC 7662 introspection, called with a client-credentials token
// of its own. Answers are cached for CacheTTL (default 30s, never past the
// token's exp), keyed by a hash of the token.
type Introspector struct {
	Endpoint string
	// Issuer names the external server in its principals' owner keys
	// ("ext:<issuer>:<sub>"); the Endpoint when empty.
	Issuer string
	// Credentials obtain the token that authorizes introspection calls.
	Credentials clientcredentials.Config
	ScopeClaim  string
	CacheTTL    time.Duration
	// HTTPClient is the base client (for timeouts and TLS).
	HTTPClient *http.Client
	Now        func() time.Time

	once   sync.Once
	client *http.Client
	mu     sync.Mutex
	cache  map[[32]byte]introspected
}

type introspected struct {
	p     *jqlgate.Principal
	until time.Time
}

func (in *Introspector) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// Verify asks the introspection endpoint whether token is active.
func (in *Introspector) Verify(ctx context.Context, token string) (*jqlgate.Principal, error) {
	h := sha256.Sum256([]byte(token))
	if p, ok := in.cached(h); ok {
		return p, nil
	}
	claims, err := in.call(ctx, token)
	if err != nil {
		return nil, &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The token issuer is unavailable; try again shortly.", Op: "auth.Introspector", Err: err, RetryAfter: time.Second}
	}
	if active, _ := claims["active"].(bool); !active {
		return nil, unauthorized("token not active")
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		sub, _ = claims["client_id"].(string)
	}
	if sub == "" {
		return nil, unauthorized("active token without sub or client_id")
	}
	iss := in.Issuer
	if iss == "" {
		iss = in.Endpoint
	}
	p := externalPrincipal(iss, sub, claims, in.ScopeClaim)
	in.store(h, p, claims)
	return p, nil
}

func (in *Introspector) call(ctx context.Context, token string) (map[string]any, error) {
	in.once.Do(func() {
		base := in.HTTPClient
		if base == nil {
			base = &http.Client{Timeout: 10 * time.Second}
		}
		in.client = in.Credentials.Client(context.WithValue(context.Background(), oauth2.HTTPClient, base))
	})
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspection: status %d", resp.StatusCode)
	}
	claims := map[string]any{}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&claims)
	return claims, err
}

func (in *Introspector) cached(h [32]byte) (*jqlgate.Principal, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c, ok := in.cache[h]
	if !ok || !in.now().Before(c.until) {
		return nil, false
	}
	return c.p, true
}

func (in *Introspector) store(h [32]byte, p *jqlgate.Principal, claims map[string]any) {
	until := in.now().Add(orDefault(in.CacheTTL, 30*time.Second))
	if exp, ok := claims["exp"].(float64); ok && time.Unix(int64(exp), 0).Before(until) {
		until = time.Unix(int64(exp), 0)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cache == nil || len(in.cache) > 10000 {
		in.cache = map[[32]byte]introspected{}
	}
	in.cache[h] = introspected{p: p, until: until}
}
