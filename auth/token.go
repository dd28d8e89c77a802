package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/jqlgate/jqlgate"
)

// Token types ("typ" header). Each authentication class accepts only its
// own type and audience, so a token of one class never passes as another.
const (
	TypeAccessToken = "at+jwt"           // RFC 9068 OAuth2 access token
	TypeUserToken   = "jqlgate-user+jwt" // system.User login token
)

// UserAudience is the audience of system.User tokens.
const UserAudience = "jqlgate:user"

// Claims are the claims of the tokens jqlgate issues.
type Claims struct {
	jwt.Claims
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope"`
	Username string `json:"username,omitempty"`
	// SessionVersion is, in a user token, the user's session version at
	// login; the token stops working once it moves (see Principals).
	SessionVersion int64 `json:"sv,omitempty"`
}

// Tokens issues and verifies jqlgate's own tokens.
type Tokens struct {
	Keys *KeySet
	// Issuer is this authorization server's public base URL ("iss").
	Issuer string
	// IssuerFunc gives the issuer when Issuer is empty, for a server
	// whose URL is known only once it listens.
	IssuerFunc func() string
	// Audience is the "aud" of access tokens; the issuer when empty.
	Audience  string
	AccessTTL time.Duration // default 1h
	UserTTL   time.Duration // default 8h
	// Leeway tolerates clock skew between processes; default 30s.
	Leeway time.Duration
	Now    func() time.Time

	// verified caches access tokens that verified (see tokenCache).
	verified tokenCache
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tokens) issuer() string {
	if t.Issuer == "" && t.IssuerFunc != nil {
		return t.IssuerFunc()
	}
	return t.Issuer
}

func (t *Tokens) audience() string {
	if t.Audience != "" {
		return t.Audience
	}
	return t.issuer()
}

// IssueAccess returns a signed access token for a client holding perms.
func (t *Tokens) IssueAccess(ctx context.Context, clientID string, perms []string) (string, *Claims, error) {
	c := t.claims(clientID, t.audience(), orDefault(t.AccessTTL, time.Hour), perms)
	c.ClientID = clientID
	tok, err := t.sign(ctx, TypeAccessToken, c)
	return tok, c, err
}

// IssueUser returns a signed token of the jwt class for a user.
func (t *Tokens) IssueUser(ctx context.Context, u *jqlgate.User) (string, *Claims, error) {
	c := t.claims(u.ID, UserAudience, orDefault(t.UserTTL, 8*time.Hour), u.Permissions)
	c.Username = u.Username
	c.SessionVersion = u.SessionVersion
	tok, err := t.sign(ctx, TypeUserToken, c)
	return tok, c, err
}

func (t *Tokens) claims(sub, aud string, ttl time.Duration, perms []string) *Claims {
	now := t.now()
	return &Claims{
		Claims: jwt.Claims{
			Issuer: t.issuer(), Subject: sub, Audience: jwt.Audience{aud},
			Expiry: jwt.NewNumericDate(now.Add(ttl)), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), ID: jqlgate.NewID("jti"),
		},
		Scope: strings.Join(perms, " "),
	}
}

func (t *Tokens) sign(ctx context.Context, typ string, c *Claims) (string, error) {
	s, err := t.Keys.signer(ctx, typ)
	if err != nil {
		return "", err
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		return "", jqlgate.Internal("auth.Tokens.sign", err)
	}
	return tok, nil
}

// VerifyAccess checks an access token and returns its claims. A token
// that verified before is answered from a cache until it expires, while
// its signing key still verifies.
func (t *Tokens) VerifyAccess(ctx context.Context, token string) (*Claims, error) {
	return t.verifyAccessAt(ctx, token, t.now())
}

// verifyAccessAt is VerifyAccess at now, for a caller that needs the time
// too (one clock read per request).
func (t *Tokens) verifyAccessAt(ctx context.Context, token string, now time.Time) (*Claims, error) {
	iss, aud := t.issuer(), t.audience()
	e, h, ok := t.verified.get(token, now)
	if ok && e.iss == iss && e.aud == aud {
		if _, live := t.Keys.publicKey(ctx, e.kid); live {
			c := *e.claims
			return &c, nil
		}
	}
	c, kid, err := t.verifyKid(ctx, token, TypeAccessToken, aud, now)
	if err != nil {
		return nil, err
	}
	t.verified.put(h, cachedToken{claims: c, kid: kid, iss: iss, aud: aud, exp: c.Expiry.Time()}, now)
	cp := *c
	return &cp, nil
}

// VerifyUser checks a system.User token and returns its claims.
func (t *Tokens) VerifyUser(ctx context.Context, token string) (*Claims, error) {
	return t.verify(ctx, token, TypeUserToken, UserAudience, t.now())
}

// verify accepts only ES256 (so never "none" nor an HMAC made with a
// public key), the expected "typ", a known key, and a valid iss, aud, exp.
func (t *Tokens) verify(ctx context.Context, token, typ, aud string, now time.Time) (*Claims, error) {
	c, _, err := t.verifyKid(ctx, token, typ, aud, now)
	return c, err
}

// verifyKid is verify that also returns the id of the key that signed.
func (t *Tokens) verifyKid(ctx context.Context, token, typ, aud string, now time.Time) (*Claims, string, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, "", unauthorized("malformed token or disallowed algorithm")
	}
	if len(tok.Headers) != 1 || headerType(tok.Headers[0]) != typ {
		return nil, "", unauthorized("wrong token type")
	}
	pub, ok := t.Keys.publicKey(ctx, tok.Headers[0].KeyID)
	if !ok {
		return nil, "", unauthorized("unknown signing key")
	}
	var c Claims
	if err := tok.Claims(pub, &c); err != nil {
		return nil, "", unauthorized("bad signature")
	}
	if err := checkClaims(c.Claims, t.issuer(), aud, now, orDefault(t.Leeway, 30*time.Second)); err != nil {
		return nil, "", err
	}
	return &c, tok.Headers[0].KeyID, nil
}

// checkClaims validates the registered claims; exp and sub are required
// (go-jose accepts a token without exp).
func checkClaims(c jwt.Claims, iss, aud string, now time.Time, leeway time.Duration) error {
	if c.Expiry == nil || c.Subject == "" || iss == "" {
		return unauthorized("missing exp or sub")
	}
	err := c.ValidateWithLeeway(jwt.Expected{Issuer: iss, AnyAudience: jwt.Audience{aud}, Time: now}, leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return &jqlgate.Error{Code: jqlgate.EUNAUTHORIZED, Message: "The token has expired.", Op: "auth.verify", Err: err}
	case err != nil:
		return unauthorized(err.Error())
	}
	return nil
}

func headerType(h jose.Header) string {
	s, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return s
}

// unauthorized is the error for any bad credential. The reason is for logs
// only; the client always reads the same message.
func unauthorized(reason string) *jqlgate.Error {
	return &jqlgate.Error{Code: jqlgate.EUNAUTHORIZED, Message: "Authentication failed.", Op: "auth", Err: errors.New(reason)}
}

// principal turns verified claims into the request's principal.
func (c *Claims) principal(kind string) *jqlgate.Principal {
	name := c.ClientID
	if kind == jqlgate.PrincipalUser {
		name = c.Username
	}
	return &jqlgate.Principal{ID: c.Subject, Kind: kind, Name: name, Permissions: strings.Fields(c.Scope)}
}
