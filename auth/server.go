package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate"
)

// Server is the built-in OAuth2 authorization server (RFC 6749 client
// credentials grant, RFC 7662 introspection, RFC 7009 revocation, RFC 8414
// metadata, JWKS). Its handlers are plain net/http handlers; see Routes.
type Server struct {
	Tokens  *Tokens
	Clients ClientStore
	// Principals keeps revoked tokens and answers introspection with the
	// client's current state; nil serves no revocation endpoint.
	Principals *Principals
	Logger     *slog.Logger
	// Per client id and per remote IP request rates on the token and
	// introspection endpoints; zero picks the defaults (5/s burst 10 per
	// client, 20/s burst 40 per IP), negative disables the limit. The
	// per-IP limit counts every request; the per-client one only requests
	// whose secret is right, so nobody can spend a client's budget by
	// naming its (public) id.
	ClientRate, IPRate   rate.Limit
	ClientBurst, IPBurst int
	// FailureRate and FailureBurst limit failed client authentications
	// per remote IP and client id together; zero picks the default (10
	// failures, then one every 6 s), negative disables the limit. Once
	// used up, that IP's wrong secrets for that client id are answered 429;
	// a right secret passes whatever failed before it (client secrets carry
	// 256 random bits, so guessing gains nothing, and nobody can lock a
	// client out).
	FailureRate  rate.Limit
	FailureBurst int

	once     sync.Once
	byClient limiterSet
	byIP     limiterSet
	failures limiterSet
}

// Route is one HTTP route of the server.
type Route struct {
	Method  string
	Path    string
	Handler http.Handler
}

// Routes returns the server's routes, to be mounted on the HTTP server.
func (s *Server) Routes() []Route {
	routes := []Route{
		{http.MethodPost, "/oauth2/token", http.HandlerFunc(s.token)},
		{http.MethodPost, "/oauth2/introspect", http.HandlerFunc(s.introspect)},
		{http.MethodGet, "/.well-known/jwks.json", http.HandlerFunc(s.jwks)},
		{http.MethodGet, "/.well-known/oauth-authorization-server", http.HandlerFunc(s.metadata)},
	}
	if s.Principals != nil {
		routes = append(routes, Route{http.MethodPost, "/oauth2/revoke", http.HandlerFunc(s.revoke)})
	}
	return routes
}

// Handler returns the routes on one ServeMux (for tests and plain net/http).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.Routes() {
		mux.Handle(r.Method+" "+r.Path, r.Handler)
	}
	return mux
}

func (s *Server) init() {
	s.once.Do(func() {
		s.byClient = limiterSet{limit: pickRate(s.ClientRate, 5), burst: pickBurst(s.ClientBurst, 10)}
		s.byIP = limiterSet{limit: pickRate(s.IPRate, 20), burst: pickBurst(s.IPBurst, 40)}
		s.failures = limiterSet{limit: pickRate(s.FailureRate, rate.Every(6*time.Second)), burst: pickBurst(s.FailureBurst, 10)}
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
	})
}

func pickRate(r, def rate.Limit) rate.Limit {
	if r == 0 {
		return def
	}
	return r
}

func pickBurst(b, def int) int {
	if b <= 0 {
		return def
	}
	return b
}

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	retryAfter  time.Duration
	basic       bool // the client tried HTTP Basic: answer WWW-Authenticate
}

func (e *oauthError) write(w http.ResponseWriter) {
	if e.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="jqlgate", charset="UTF-8"`)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.retryAfter)))
	}
	writeJSON(w, e.status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

func tooMany(d time.Duration) *oauthError {
	return &oauthError{status: http.StatusTooManyRequests, Code: "slow_down", Description: "Too many requests; retry later.", retryAfter: d}
}

// tokenResponse is an RFC 6749 §5.1 access token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.init()
	c, oe := s.authenticateClient(r)
	if oe == nil {
		oe = checkGrant(r.PostForm.Get("grant_type"))
	}
	if oe != nil {
		oe.write(w)
		return
	}
	perms, ok := Narrow(c.Permissions, r.PostForm.Get("scope"))
	if !ok {
		(&oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Description: "The requested scope is invalid or exceeds what the client holds."}).write(w)
		return
	}
	tok, claims, err := s.Tokens.IssueAccess(r.Context(), c.ID, perms)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "issue access token", "client_id", c.ID, "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, &oauthError{Code: "server_error"})
		return
	}
	s.Logger.InfoContext(r.Context(), "access token issued", "client_id", c.ID, "scope", claims.Scope, "jti", claims.ID)
	ttl := int(claims.Expiry.Time().Sub(claims.IssuedAt.Time()).Seconds())
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: ttl, Scope: claims.Scope})
}

func checkGrant(grant string) *oauthError {
	switch grant {
	case "client_credentials":
		return nil
	case "":
		return invalidRequest("grant_type is required.")
	case "refresh_token":
		// No refresh token is ever issued, so any is invalid.
		return &oauthError{status: http.StatusBadRequest, Code: "invalid_grant", Description: "The refresh token is invalid."}
	}
	return &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: "Only client_credentials is supported."}
}

// authenticateClient parses the form and checks the client's credentials
// (client_secret_basic or client_secret_post, not both). Every request
// counts against the per-IP limit. The secret is always checked (an HMAC,
// cheap): a right one passes and counts against the client's own limit; a
// wrong one counts against the limit of the remote IP and client id
// together, and once that is used up is answered 429 rather than 401.
// Unknown client and wrong secret give the same error.
func (s *Server) authenticateClient(r *http.Request) (*jqlgate.Client, *oauthError) {
	now := time.Now()
	ip := clientIP(r)
	if ok, d := s.byIP.allow(ip, now); !ok {
		s.Logger.WarnContext(r.Context(), "oauth2 rate limited", "remote", ip)
		return nil, tooMany(d)
	}
	if oe := parseForm(r); oe != nil {
		return nil, oe
	}
	id, secret, basic, oe := clientCredentials(r)
	if oe != nil {
		return nil, oe
	}
	c, err := s.Clients.Client(r.Context(), id)
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		s.Logger.ErrorContext(r.Context(), "look up client", "client_id", id, "error", err.Error())
		return nil, &oauthError{status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", retryAfter: time.Second}
	}
	hash := HashSecret(id, "") // same work when the client is unknown
	if c != nil {
		hash = c.SecretHash
	}
	if !CheckSecret(id, secret, hash) || c == nil {
		if ok, d := s.failures.allow(ip+" "+id, now); !ok {
			s.Logger.WarnContext(r.Context(), "oauth2 failed authentications rate limited", "client_id", id, "remote", ip)
			return nil, tooMany(d)
		}
		s.Logger.WarnContext(r.Context(), "oauth2 client authentication failed", "client_id", id, "remote", ip)
		return nil, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: "Client authentication failed.", basic: basic}
	}
	if ok, d := s.byClient.allow(id, now); !ok {
		s.Logger.WarnContext(r.Context(), "oauth2 rate limited", "client_id", id)
		return nil, tooMany(d)
	}
	return c, nil
}

func parseForm(r *http.Request) *oauthError {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return invalidRequest("The body must be application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return invalidRequest("The body is not a valid form.")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return invalidRequest("Parameter " + k + " is repeated.")
		}
	}
	return nil
}

// clientCredentials reads the client id and secret from HTTP Basic (each
// form-encoded, RFC 6749 §2.3.1) or from the body.
func clientCredentials(r *http.Request) (id, secret string, basic bool, oe *oauthError) {
	bid, bsecret, basic := r.BasicAuth()
	pid, psecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	switch {
	case basic && psecret != "":
		return "", "", true, invalidRequest("Use one client authentication method, not two.")
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(bid)
		secret, err2 = url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil || (pid != "" && pid != id) {
			return "", "", true, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: "Client authentication failed.", basic: true}
		}
		return id, secret, true, nil
	case pid != "" && psecret != "":
		return pid, psecret, false, nil
	}
	return "", "", false, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: "Client authentication is required.", basic: true}
}

// clientIP is the client's address as the gateway found it
// (jqlgate.ClientAddrFromContext: the peer, or the address a trusted proxy
// named), else the peer address of the connection. Forwarded headers are
// not read here: a client could set them to dodge the per-IP limit.
func clientIP(r *http.Request) string {
	if a := jqlgate.ClientAddrFromContext(r.Context()); a != "" {
		return a
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// introspectResponse is an RFC 7662 §2.2 response.
type introspectResponse struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	s.init()
	if oe := s.authorizeIntrospection(r); oe != nil {
		oe.write(w)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		invalidRequest("token is required.").write(w)
		return
	}
	c, err := s.verifyCurrent(r.Context(), tok)
	if err != nil {
		writeJSON(w, http.StatusOK, introspectResponse{Active: false})
		return
	}
	writeJSON(w, http.StatusOK, introspectResponse{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, TokenType: "Bearer",
		Exp: c.Expiry.Time().Unix(), Iat: c.IssuedAt.Time().Unix(), Sub: c.Subject,
		Aud: c.Audience, Iss: c.Issuer, Jti: c.ID,
	})
}

// authorizeIntrospection accepts a client's credentials or, RFC 7662
// §2.1, a valid access token of a client as a Bearer token (what an
// Introspector sends).
func (s *Server) authorizeIntrospection(r *http.Request) *oauthError {
	scheme, bearer, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		_, oe := s.authenticateClient(r)
		return oe
	}
	if ok, d := s.byIP.allow(clientIP(r), time.Now()); !ok {
		return tooMany(d)
	}
	if oe := parseForm(r); oe != nil {
		return oe
	}
	if _, err := s.verifyCurrent(r.Context(), strings.TrimSpace(bearer)); err != nil {
		return &oauthError{status: http.StatusUnauthorized, Code: "invalid_token", Description: "The bearer token is invalid."}
	}
	return nil
}

// verifyCurrent verifies an access token and, with Principals, checks it
// is not revoked and its client still exists; the claims' scope is then
// what the client may still do.
func (s *Server) verifyCurrent(ctx context.Context, tok string) (*Claims, error) {
	now := s.Tokens.now()
	c, err := s.Tokens.verifyAccessAt(ctx, tok, now)
	if err != nil || s.Principals == nil {
		return c, err
	}
	p, err := s.Principals.resolve(ctx, c, jqlgate.PrincipalClient, now)
	if err != nil {
		return nil, err
	}
	c.Scope = strings.Join(p.Permissions, " ")
	return c, nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(s.Tokens.Keys.JWKS())
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	iss := strings.TrimSuffix(s.Tokens.issuer(), "/")
	methods := []string{"client_secret_basic", "client_secret_post"}
	m := map[string]any{
		"issuer":                                s.Tokens.issuer(),
		"token_endpoint":                        iss + "/oauth2/token",
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{},
		"token_endpoint_auth_methods_supported": methods,
		"introspection_endpoint_auth_methods_supported": methods,
	}
	if s.Principals != nil {
		m["revocation_endpoint"] = iss + "/oauth2/revoke"
		m["revocation_endpoint_auth_methods_supported"] = methods
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}
