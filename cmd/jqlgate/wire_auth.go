package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/gateway"
	"github.com/jqlgate/jqlgate/namespaces/admin"
)

var (
	_ gateway.Authenticator = (*auth.Authenticator)(nil)
	_ admin.UserLogin       = (*auth.Users)(nil)
)

// authOptions are serve's authentication settings.
var authOptions = []option{
	{flag: "oauth2-issuer", env: "JQLGATE_OAUTH2_ISSUER", usage: "public base URL of this server, the iss of its tokens; empty uses the listen address. Give every process sharing a store the same value"},
	{flag: "oauth2-audience", env: "JQLGATE_OAUTH2_AUDIENCE", def: "jqlgate", usage: "aud of the access tokens the built-in server issues"},
	{flag: "oauth2-builtin", env: "JQLGATE_OAUTH2_BUILTIN", def: "true", usage: "run the built-in OAuth2 authorization server and accept its tokens"},
	{flag: "access-token-ttl", env: "JQLGATE_ACCESS_TOKEN_TTL", def: "1h", usage: "lifetime of OAuth2 access tokens"},
	{flag: "user-token-ttl", env: "JQLGATE_USER_TOKEN_TTL", def: "8h", usage: "lifetime of system.User (jwt class) tokens"},
	{flag: "oauth2-client-rate", env: "JQLGATE_OAUTH2_CLIENT_RATE", def: "5", usage: "token, introspection and revocation requests per second per client id, counted once its secret is right (burst twice that); negative disables"},
	{flag: "oauth2-ip-rate", env: "JQLGATE_OAUTH2_IP_RATE", def: "20", usage: "token, introspection and revocation requests per second per client address (see --trusted-proxies; burst twice that); negative disables"},
	{flag: "bootstrap-client-id", env: "JQLGATE_BOOTSTRAP_CLIENT_ID", usage: "create this all-permission (*) client at start unless it exists"},
	{flag: "bootstrap-client-secret", env: "JQLGATE_BOOTSTRAP_CLIENT_SECRET", usage: "secret of the bootstrap client (at least 16 characters; use 32 or more random ones, a shorter one is warned about); a stored secret that differs is replaced at start", secret: true},
	{flag: "cookie-secure", env: "JQLGATE_COOKIE_SECURE", def: "false", usage: "mark the jwt login cookie and the console session cookie Secure; set it when clients reach jqlgate over HTTPS"},
	{flag: "external-issuer", env: "JQLGATE_EXTERNAL_ISSUER", usage: "iss of an external authorization server whose access tokens are trusted too; its principals own data as ext:<issuer>:<sub>"},
	{flag: "external-jwks-url", env: "JQLGATE_EXTERNAL_JWKS_URL", usage: "JWKS URL of the external issuer (verify its JWTs locally)"},
	{flag: "external-audience", env: "JQLGATE_EXTERNAL_AUDIENCE", def: "jqlgate", usage: "aud the external issuer's tokens must carry"},
	{flag: "external-scope-claim", env: "JQLGATE_EXTERNAL_SCOPE_CLAIM", def: "scope", usage: "claim holding permissions in external tokens (space-separated string or array)"},
	{flag: "external-introspection-url", env: "JQLGATE_EXTERNAL_INTROSPECTION_URL", usage: "RFC 7662 introspection endpoint of the external issuer (instead of a JWKS URL)"},
	{flag: "external-token-url", env: "JQLGATE_EXTERNAL_TOKEN_URL", usage: "token endpoint to get the token that authorizes introspection calls"},
	{flag: "external-client-id", env: "JQLGATE_EXTERNAL_CLIENT_ID", usage: "client id for introspection calls"},
	{flag: "external-client-secret", env: "JQLGATE_EXTERNAL_CLIENT_SECRET", usage: "client secret for introspection calls", secret: true},
}

// authConfig is the authentication part of serveConfig.
type authConfig struct {
	Issuer, Audience      string
	Builtin, CookieSecure bool
	AccessTTL, UserTTL    time.Duration
	ClientRate, IPRate    float64
	BootstrapID           string
	BootstrapSecret       string
	External              externalConfig
}

type externalConfig struct {
	Issuer, JWKSURL, Audience, ScopeClaim              string
	IntrospectionURL, TokenURL, ClientID, ClientSecret string
}

func parseAuthConfig(s *optionSet) (authConfig, error) {
	c := authConfig{Issuer: s.str("oauth2-issuer"), Audience: s.str("oauth2-audience"),
		BootstrapID: s.str("bootstrap-client-id"), BootstrapSecret: s.str("bootstrap-client-secret")}
	c.External = externalConfig{Issuer: s.str("external-issuer"), JWKSURL: s.str("external-jwks-url"), Audience: s.str("external-audience"),
		ScopeClaim: s.str("external-scope-claim"), IntrospectionURL: s.str("external-introspection-url"), TokenURL: s.str("external-token-url"),
		ClientID: s.str("external-client-id"), ClientSecret: s.str("external-client-secret")}
	var err error
	for _, step := range []func() error{
		func() (err error) { c.Builtin, err = s.bool("oauth2-builtin"); return },
		func() (err error) { c.CookieSecure, err = s.bool("cookie-secure"); return },
		func() (err error) { c.AccessTTL, err = s.duration("access-token-ttl"); return },
		func() (err error) { c.UserTTL, err = s.duration("user-token-ttl"); return },
		func() (err error) { c.ClientRate, err = s.float("oauth2-client-rate"); return },
		func() (err error) { c.IPRate, err = s.float("oauth2-ip-rate"); return },
	} {
		if err = step(); err != nil {
			return c, err
		}
	}
	return c, c.check()
}

func (c authConfig) check() error {
	switch {
	case c.AccessTTL <= 0 || c.UserTTL <= 0:
		return fmt.Errorf("--access-token-ttl and --user-token-ttl must be positive")
	case (c.BootstrapID == "") != (c.BootstrapSecret == ""):
		return fmt.Errorf("JQLGATE_BOOTSTRAP_CLIENT_ID and JQLGATE_BOOTSTRAP_CLIENT_SECRET go together")
	case c.External.JWKSURL != "" && c.External.IntrospectionURL != "":
		return fmt.Errorf("--external-jwks-url and --external-introspection-url: choose one")
	case c.External.JWKSURL != "" && c.External.Issuer == "":
		return fmt.Errorf("--external-jwks-url needs --external-issuer")
	case c.External.IntrospectionURL != "" && (c.External.TokenURL == "" || c.External.ClientID == ""):
		return fmt.Errorf("--external-introspection-url needs --external-token-url, --external-client-id and --external-client-secret")
	case !c.Builtin && c.External.JWKSURL == "" && c.External.IntrospectionURL == "":
		return fmt.Errorf("--oauth2-builtin=false needs an external issuer (--external-jwks-url or --external-introspection-url)")
	}
	return nil
}

// wireAuth loads the signing keys, creates the bootstrap client, mounts
// the OAuth2 routes, sets the gateway's Authenticator and registers
// system.User. Call it after wireGateway and before the server opens.
func wireAuth(ctx context.Context, a *app, cfg serveConfig) error {
	c := cfg.Auth
	store := a.store.auth
	secret, err := loadSecretKey(cfg, a.logger)
	if err != nil {
		return err
	}
	keys := &auth.KeySet{Store: store, Secret: string(secret)}
	if err := keys.Load(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	tokens := &auth.Tokens{Keys: keys, Issuer: c.Issuer, IssuerFunc: a.server.URL, Audience: c.Audience, AccessTTL: c.AccessTTL, UserTTL: c.UserTTL}
	if err := bootstrapClient(ctx, a, store, c); err != nil {
		return err
	}
	// Every request acts with its principal's current state: one
	// Principals for the token endpoint, the authenticator and the users.
	principals := &auth.Principals{Store: store, Logger: a.logger}
	if c.Builtin {
		srv := &auth.Server{Tokens: tokens, Clients: store, Principals: principals, Logger: a.logger,
			ClientRate: rate.Limit(c.ClientRate), ClientBurst: burst(c.ClientRate), IPRate: rate.Limit(c.IPRate), IPBurst: burst(c.IPRate)}
		for _, r := range srv.Routes() {
			a.server.Mount(r.Method, r.Path, r.Handler)
		}
	}
	authn := &auth.Authenticator{Tokens: tokens, ExternalOnly: !c.Builtin, External: externalVerifiers(c.External), APIKeys: store, Principals: principals}
	a.server.Authenticator = authn
	users := &auth.Users{Store: store, Tokens: tokens, Principals: principals}
	a.users = users
	admin.RegisterUser(a.mux, admin.UserDeps{Users: users, SecureCookie: c.CookieSecure})
	registerAdmin(a, store, authn, users)
	return nil
}

func burst(r float64) int { return max(1, int(2*r)) }

func bootstrapClient(ctx context.Context, a *app, store authStore, c authConfig) error {
	if c.BootstrapID == "" {
		return nil
	}
	did, err := auth.EnsureClient(ctx, store, c.BootstrapID, c.BootstrapSecret)
	if err != nil {
		return fmt.Errorf("bootstrap client: %w", err)
	}
	if len(c.BootstrapSecret) < 32 {
		// A right secret always gets a token, however many wrong ones came
		// before (nobody can lock a client out), so a short secret is
		// only as strong as it is long.
		a.logger.Warn("the bootstrap client secret is short; use at least 32 random characters, such as $(openssl rand -hex 32)", "client_id", c.BootstrapID)
	}
	switch did {
	case auth.EnsureCreated:
		a.logger.Info("created the bootstrap client", "client_id", c.BootstrapID)
	case auth.EnsureSecretUpdated:
		a.logger.Info("updated the bootstrap client's secret from JQLGATE_BOOTSTRAP_CLIENT_SECRET", "client_id", c.BootstrapID)
	}
	return nil
}

func externalVerifiers(c externalConfig) []auth.Verifier {
	hc := &http.Client{Timeout: 10 * time.Second}
	switch {
	case c.JWKSURL != "":
		return []auth.Verifier{&auth.JWKSVerifier{URL: c.JWKSURL, Issuer: c.Issuer, Audience: c.Audience, ScopeClaim: c.ScopeClaim, HTTPClient: hc}}
	case c.IntrospectionURL != "":
		creds := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL}
		return []auth.Verifier{&auth.Introspector{Endpoint: c.IntrospectionURL, Issuer: c.Issuer, Credentials: creds, ScopeClaim: c.ScopeClaim, HTTPClient: hc}}
	}
	return nil
}

// release gives up the data dir lock, once the store is closed.
func (a *app) release() {
	if a.unlock != nil {
		a.unlock()
		a.unlock = nil
	}
}
