package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// corsPolicy answers CORS for the API routes (/jql, /oauth2/*,
// /.well-known/*), opt-in by Server.CORSAllowOrigins. Each listed origin
// gets its own origin back with Access-Control-Allow-Credentials, so a
// page there may send the jwt cookie (and counts as allowed for the
// cookie's origin check too); "*" lets any other origin call with a
// token, never with credentials. Origins not listed get no CORS headers,
// so their browsers keep the answers from them.
type corsPolicy struct {
	listed   map[string]bool
	wildcard bool
	creds    echo.MiddlewareFunc // for listed origins
	anyone   echo.MiddlewareFunc // for the rest when "*" is listed
}

// corsRoutes are the paths a browser app on another origin calls.
func corsRoute(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/jql" || strings.HasPrefix(p, "/oauth2/") || strings.HasPrefix(p, "/.well-known/")
}

// newCORSPolicy checks origins ("*" or scheme://host[:port] each) and
// returns the policy, nil when origins is empty.
func newCORSPolicy(origins []string) (*corsPolicy, error) {
	p := &corsPolicy{listed: map[string]bool{}}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			p.wildcard = true
			continue
		}
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		p.listed[strings.ToLower(o)] = true
	}
	if len(p.listed) == 0 && !p.wildcard {
		return nil, nil
	}
	base := middleware.CORSConfig{
		Skipper:       func(c echo.Context) bool { return !corsRoute(c) },
		AllowMethods:  []string{http.MethodGet, http.MethodPost},
		AllowHeaders:  []string{echo.HeaderContentType, echo.HeaderAuthorization, echo.HeaderXRequestID, echo.HeaderContentEncoding},
		ExposeHeaders: []string{echo.HeaderXRequestID, echo.HeaderRetryAfter, echo.HeaderWWWAuthenticate},
		MaxAge:        600,
	}
	creds := base
	creds.AllowOriginFunc = func(origin string) (bool, error) { return p.listed[strings.ToLower(origin)], nil }
	creds.AllowCredentials = true
	p.creds = middleware.CORSWithConfig(creds)
	anyone := base
	anyone.AllowOrigins = []string{"*"}
	p.anyone = middleware.CORSWithConfig(anyone)
	return p, nil
}

// CheckCORSOrigins reports whether every entry of origins is "*" or an
// origin (scheme://host[:port]); serve checks its configuration with it.
func CheckCORSOrigins(origins []string) error {
	_, err := newCORSPolicy(origins)
	return err
}

// credentialed lists the origins that get credentials (every listed one
// but "*").
func (p *corsPolicy) credentialed() []string {
	if p == nil {
		return nil
	}
	out := make([]string, 0, len(p.listed))
	for o := range p.listed {
		out = append(out, o)
	}
	return out
}

// handle picks the credentialed policy for a listed origin and the
// wildcard one for the rest when "*" is configured.
func (p *corsPolicy) handle(next echo.HandlerFunc) echo.HandlerFunc {
	withCreds, anyone := p.creds(next), p.anyone(next)
	return func(c echo.Context) error {
		if p.wildcard && !p.listed[strings.ToLower(c.Request().Header.Get(echo.HeaderOrigin))] {
			return anyone(c)
		}
		return withCreds(c)
	}
}

// cors applies the configured CORS policy, if any.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.setup()
		if s.corsPolicy == nil {
			return next(c)
		}
		return s.corsPolicy.handle(next)(c)
	}
}

// checkOrigin accepts scheme://host[:port] with an http or https scheme
// and nothing after the host.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return fmt.Errorf("CORS origin %q must be * or scheme://host[:port] with nothing after it", o)
	}
	return nil
}
