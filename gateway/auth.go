package gateway

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jqlgate/jqlgate"
)

// An Authenticator turns a token of an authentication class (oauth2,
// apiKey or jwt) into the principal it stands for. A bad token is an
// EUNAUTHORIZED *jqlgate.Error.
type Authenticator interface {
	Authenticate(ctx context.Context, class, token string) (*jqlgate.Principal, error)
}

// authorize decides who sends the command and whether they may: public
// intents need no token, but a token sent with one must verify like any
// other; every other intent needs a token the Authenticator accepts and a
// principal holding namespace:intent. Each client's rate limit is checked
// on the way: by principal once known, else by IP.
func (s *Server) authorize(ctx context.Context, c echo.Context, meta *jqlgate.Meta) (*jqlgate.Principal, error) {
	ipKey := "ip:" + c.RealIP()
	if s.Public != nil && s.Public(meta.Namespace, meta.Intent) {
		return s.authorizePublic(ctx, c, meta, ipKey)
	}
	p, err := s.authenticate(ctx, c.Request(), meta)
	if err != nil {
		if lerr := s.rateLimit(ipKey); lerr != nil {
			return nil, lerr
		}
		return nil, err
	}
	c.Set(keyPrincipal, p)
	if err := s.rateLimit(p.Owner()); err != nil {
		return nil, err
	}
	// An unrouted intent is left to the Handler, which names the problem
	// (404 namespace, 400 intent) better than a 403 would.
	routed := s.Known == nil || s.Known(meta.Namespace, meta.Intent)
	if routed && !p.Can(meta.Namespace, meta.Intent) {
		return nil, jqlgate.Errorf(jqlgate.EFORBIDDEN, "You do not have permission to run %s:%s.", meta.Namespace, meta.Intent)
	}
	return p, nil
}

// authorizePublic lets anyone run a public intent. A token sent
// explicitly (__meta__.authenticationToken or Authorization: Bearer) must
// verify, so a client never mistakes a bad token for a working one; the
// jwt cookie is not looked at, so a stale cookie can't block logging in.
func (s *Server) authorizePublic(ctx context.Context, c echo.Context, meta *jqlgate.Meta, ipKey string) (*jqlgate.Principal, error) {
	if err := s.rateLimit(ipKey); err != nil {
		return nil, err
	}
	if tokenFrom(c.Request(), "", meta.AuthenticationToken) == "" {
		return nil, nil
	}
	p, err := s.authenticate(ctx, c.Request(), meta)
	if err == nil {
		c.Set(keyPrincipal, p)
	}
	return p, err
}

func (s *Server) authenticate(ctx context.Context, r *http.Request, meta *jqlgate.Meta) (*jqlgate.Principal, error) {
	token := tokenFrom(r, meta.AuthenticationClass, meta.AuthenticationToken)
	if token == "" {
		return nil, jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication failed: send a token in __meta__.authenticationToken or an Authorization: Bearer header.")
	}
	if meta.AuthenticationClass == "" {
		meta.AuthenticationClass = jqlgate.AuthOAuth2
	}
	if s.Authenticator == nil {
		return nil, jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication failed: %s tokens are not accepted here.", meta.AuthenticationClass)
	}
	p, err := s.Authenticator.Authenticate(ctx, meta.AuthenticationClass, token)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication failed.")
	}
	return p, nil
}

// tokenFrom finds the token: __meta__.authenticationToken, else the
// Authorization Bearer header, else, for class jwt, the jwt cookie.
func tokenFrom(r *http.Request, class, metaToken string) string {
	if metaToken != "" {
		return metaToken
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok
		}
	}
	if class == jqlgate.AuthJWT {
		if ck, err := r.Cookie("jwt"); err == nil {
			return ck.Value
		}
	}
	return ""
}

// RateLimit takes one token from key's bucket (a principal's Owner key),
// or answers ERATELIMIT with when to try again: what /jql does for each
// request, for the routes mounted beside it (the console), so they count
// against the same limits.
func (s *Server) RateLimit(key string) error { return s.rateLimit(key) }

// rateLimit takes one token from key's bucket, or answers 429.
func (s *Server) rateLimit(key string) error {
	d := s.limiter.wait(key, time.Now())
	if d <= 0 {
		return nil
	}
	return &jqlgate.Error{Code: jqlgate.ERATELIMIT, Message: "Too many requests; slow down.", RetryAfter: d}
}
