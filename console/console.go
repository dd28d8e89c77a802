package console

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"github.com/jqlgate/jqlgate"
)

// Prefix is the path the console is served under.
const Prefix = "/console"

// maxForm bounds a posted form.
const maxForm = 1 << 20

// AuthenticateFunc turns a token of an authentication class into the
// principal it stands for (the gateway's Authenticator).
type AuthenticateFunc func(ctx context.Context, class, token string) (*jqlgate.Principal, error)

// Config is what the console needs from cmd/jqlgate.
type Config struct {
	// Handler runs every command (the namespaces mux).
	Handler jqlgate.Handler
	// Public reports whether an intent needs no principal (the mux's
	// IsPublic); nil treats only system.User authenticate as public.
	Public func(namespace, intent string) bool
	// Authenticate checks the token system.User authenticate returns
	// (class jwt).
	Authenticate AuthenticateFunc
	// SignOut ends, on the server, every session of the signed-in user
	// (their session version moves, so a copy of the cookie stops working
	// too); nil only clears the browser's cookie.
	SignOut func(ctx context.Context, p *jqlgate.Principal) error
	// Key is the server's master secret; the session cookie's signing and
	// encryption keys are derived from it.
	Key []byte
	// Secure marks the session cookie Secure (--cookie-secure).
	Secure bool
	// IdleTimeout signs a user out after this long without a request.
	IdleTimeout time.Duration
	// RateLimit takes one request from a principal's budget (by its Owner
	// key), the same budget /jql draws on; nil does not limit.
	RateLimit func(key string) error
	Logger    *slog.Logger
}

// Console serves the web console. It is an http.Handler for Prefix and
// everything under it.
type Console struct {
	cfg      Config
	sessions *sessions.CookieStore
	pages    *pages
	mux      http.Handler
}

// New returns a console ready to serve.
func New(cfg Config) (*Console, error) {
	if cfg.Handler == nil || cfg.Authenticate == nil {
		return nil, errors.New("console: Handler and Authenticate are required")
	}
	if len(cfg.Key) < 16 {
		return nil, errors.New("console: the key must be at least 16 bytes")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Public == nil {
		cfg.Public = func(ns, intent string) bool { return ns == "system.User" && intent == "authenticate" }
	}
	hashKey, err := hkdf.Key(sha256.New, cfg.Key, nil, "jqlgate console session hmac", 32)
	if err != nil {
		return nil, err
	}
	blockKey, err := hkdf.Key(sha256.New, cfg.Key, nil, "jqlgate console session aes", 32)
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, sessions: newSessionStore(hashKey, blockKey, cfg.Secure, cfg.IdleTimeout)}
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.mux = c.routes()
	return c, nil
}

// ServeHTTP serves one console request with the security headers every
// console response carries.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	c.mux.ServeHTTP(w, r)
}
