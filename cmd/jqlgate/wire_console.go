package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/console"
)

// consoleOptions are serve's web console settings.
var consoleOptions = []option{
	{flag: "console", env: "JQLGATE_CONSOLE", def: "true", usage: "serve the web console at /console/ (sign in as a system.User)"},
	{flag: "console-idle-timeout", env: "JQLGATE_CONSOLE_IDLE_TIMEOUT", def: "30m", usage: "sign a console user out after this long without a request"},
}

// consoleConfig is the console part of serveConfig.
type consoleConfig struct {
	Enabled bool
	Idle    time.Duration
}

func parseConsoleConfig(s *optionSet) (consoleConfig, error) {
	var c consoleConfig
	var err error
	if c.Enabled, err = s.bool("console"); err != nil {
		return c, err
	}
	if c.Idle, err = s.duration("console-idle-timeout"); err != nil {
		return c, err
	}
	if c.Idle <= 0 {
		return c, fmt.Errorf("--console-idle-timeout must be positive")
	}
	return c, nil
}

// wireConsole mounts the web console on the gateway's listener. It runs
// the same Mux the gateway does, checking tokens with the gateway's
// Authenticator; its session cookie is keyed from the master secret.
// Call it after every namespace is registered and auth is wired.
func wireConsole(a *app, cfg serveConfig) error {
	if !cfg.Console.Enabled {
		return nil
	}
	key, err := loadSecretKey(cfg, a.logger)
	if err != nil {
		return err
	}
	c, err := console.New(console.Config{
		Handler:      a.mux.Handler(),
		Public:       a.mux.IsPublic,
		Authenticate: a.server.Authenticator.Authenticate,
		SignOut:      func(ctx context.Context, p *jqlgate.Principal) error { return a.users.EndSessions(ctx, p.ID) },
		Key:          key,
		Secure:       cfg.Auth.CookieSecure,
		IdleTimeout:  cfg.Console.Idle,
		RateLimit:    a.server.RateLimit,
		Logger:       a.logger,
	})
	if err != nil {
		return err
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		a.server.Mount(m, console.Prefix, c)
		a.server.Mount(m, console.Prefix+"/*", c)
	}
	a.server.Mount(http.MethodGet, "/", http.RedirectHandler(console.Prefix+"/", http.StatusFound))
	return nil
}
