package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// originGuard refuses cross-origin requests that a browser authenticates
// by the jwt cookie. It builds on net/http's CrossOriginProtection (which
// reads Sec-Fetch-Site, then compares Origin with Host) and is stricter
// in one way: a cookie request that carries none of Origin, Sec-Fetch-Site
// or a Referer of this origin is refused too, since a page that strips them
// can't be told apart from a forged one.
type originGuard struct {
	cop     *http.CrossOriginProtection
	trusted map[string]bool // "scheme://host[:port]"
}

// newOriginGuard trusts the request's own host and each of origins, given
// as scheme://host[:port].
func newOriginGuard(origins []string) (*originGuard, error) {
	g := &originGuard{cop: http.NewCrossOriginProtection(), trusted: map[string]bool{}}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if err := g.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("allowed origin %q must be scheme://host[:port] with nothing after it", o)
		}
		g.trusted[strings.ToLower(o)] = true
	}
	return g, nil
}

// CheckOrigins reports whether every entry of origins is an origin
// (scheme://host[:port]) the server can trust; serve checks its
// configuration with it at start.
func CheckOrigins(origins []string) error {
	_, err := newOriginGuard(origins)
	return err
}

// check returns nil for a same-origin request, else a 403.
func (g *originGuard) check(r *http.Request) error {
	h := r.Header
	if h.Get("Origin") == "" && h.Get("Sec-Fetch-Site") == "" {
		if g.refererTrusted(r) {
			return nil
		}
		return crossOrigin()
	}
	if err := g.cop.Check(r); err != nil {
		return crossOrigin()
	}
	return nil
}

// refererTrusted reports whether r's Referer is a page of r's own host or
// of a trusted origin.
func (g *originGuard) refererTrusted(r *http.Request) bool {
	u, err := url.Parse(r.Header.Get("Referer"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || g.trusted[strings.ToLower(u.Scheme+"://"+u.Host)]
}

func crossOrigin() *jqlgate.Error {
	return jqlgate.Errorf(jqlgate.EFORBIDDEN, "Cross-origin request refused: a request authenticated by the jwt cookie must come from a page of this server's own origin (or an allowed origin).")
}

// cookieAuthenticated reports whether the request's token would come from
// the jwt cookie: class jwt, no token in __meta__ and no Authorization
// Bearer header.
func cookieAuthenticated(r *http.Request, meta *jqlgate.Meta) bool {
	return tokenFrom(r, meta.AuthenticationClass, meta.AuthenticationToken) != "" &&
		tokenFrom(r, "", meta.AuthenticationToken) == ""
}
