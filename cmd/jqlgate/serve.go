package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/gateway"
)

// serveOptions are every setting of jqlgate serve, with their defaults.
var serveOptions = append([]option{
	{flag: "addr", env: "JQLGATE_ADDR", def: "127.0.0.1:8080", usage: "address the HTTP API listens on"},
	{flag: "data-dir", env: "JQLGATE_DATA_DIR", def: "./data", usage: "directory for the embedded store's files and generated keys"},
	{flag: "mongodb-uri", env: "MONGODB_URI", def: "", usage: "MongoDB URI; empty starts the embedded store in --data-dir", secret: false},
	{flag: "database", env: "JQLGATE_DATABASE", def: "jqlgate", usage: "MongoDB database name"},
	{flag: "embedded-sync", env: "JQLGATE_EMBEDDED_SYNC", def: "full", usage: "embedded store only: full syncs every commit to disk (an acknowledged write survives power loss); normal leaves it to the OS (survives a process crash, not power loss; faster)"},
	{flag: "connect-timeout", env: "JQLGATE_CONNECT_TIMEOUT", def: "10s", usage: "how long to wait for the store at start before giving up"},
	{flag: "log-level", env: "JQLGATE_LOG_LEVEL", def: "info", usage: "log level: debug, info, warn or error"},
	{flag: "shutdown-timeout", env: "JQLGATE_SHUTDOWN_TIMEOUT", def: "15s", usage: "how long in-flight requests and deliveries may take to finish on shutdown"},
	{flag: "body-limit", env: "JQLGATE_BODY_LIMIT", def: "1MiB", usage: "largest JQL request body (B, KiB, MiB), counted after gzip or deflate Content-Encoding is undone"},
	{flag: "request-timeout", env: "JQLGATE_REQUEST_TIMEOUT", def: "30s", usage: "how long one JQL request may take, body read included"},
	{flag: "rate-limit", env: "JQLGATE_RATE_LIMIT", def: "200", usage: "JQL requests per second per client (by principal, or by IP before auth); negative disables"},
	{flag: "rate-burst", env: "JQLGATE_RATE_BURST", def: "400", usage: "requests a client may burst above --rate-limit"},
	{flag: "trusted-proxies", env: "JQLGATE_TRUSTED_PROXIES", def: "", usage: "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For names the client's address (for per-IP limits and login lock-outs); empty trusts no header"},
	{flag: "allowed-origins", env: "JQLGATE_ALLOWED_ORIGINS", def: "", usage: "comma-separated origins (scheme://host[:port]) besides the server's own whose pages may send /jql requests authenticated by the jwt cookie"},
	{flag: "cors-allow-origins", env: "JQLGATE_CORS_ALLOW_ORIGINS", def: "", usage: "comma-separated origins (scheme://host[:port]) whose browser pages may call /jql and /oauth2/* cross-origin, cookies included (they count as --allowed-origins too); * lets any origin call without cookies; empty sends no CORS headers"},
	{flag: "schema-dir", env: "JQLGATE_SCHEMA_DIR", def: "", usage: "directory of model schema files (.json, .yaml) loaded besides the built-in ones"},
	{flag: "secret-key", env: "JQLGATE_SECRET_KEY", def: "", usage: "base64 of the 32-byte master key sealing webhook secrets at rest; required with MONGODB_URI, generated into <data-dir>/secret.key otherwise", secret: true},
	{flag: "webhook-allow-cidrs", env: "JQLGATE_WEBHOOK_ALLOW_CIDRS", def: "", usage: "comma-separated ranges webhooks may reach although private, loopback or reserved"},
	{flag: "webhook-require-https", env: "JQLGATE_WEBHOOK_REQUIRE_HTTPS", def: "false", usage: "refuse plain http webhook URLs"},
	{flag: "max-subscriptions-per-owner", env: "JQLGATE_MAX_SUBSCRIPTIONS_PER_OWNER", def: "100", usage: "most webhook subscriptions one client, API key or user may have; 0 does not cap"},
	{flag: "public-url", env: "JQLGATE_PUBLIC_URL", def: "", usage: "public base URL of this server; webhooks then carry entityUrl and X-Webhook-Entity-Url, <public-url>/console/records/<namespace>/<id>; empty omits them"},
	{flag: "node-id", env: "JQLGATE_NODE_ID", def: "", usage: "this process's name for its deliveries in the store: stable across restarts, unique per process (default <hostname>/embedded on the embedded store, <hostname>/<addr> on MongoDB)"},
	{flag: "dispatcher-workers", env: "JQLGATE_DISPATCHER_WORKERS", def: "64", usage: "webhook delivery attempts in flight at once"},
	{flag: "dispatcher-max-per-owner", env: "JQLGATE_DISPATCHER_MAX_PER_OWNER", def: "0", usage: "delivery attempts in flight at once for one owner's webhooks; 0: a quarter of the workers"},
	{flag: "dispatcher-max-per-host", env: "JQLGATE_DISPATCHER_MAX_PER_HOST", def: "0", usage: "delivery attempts in flight at once to one receiver host; 0: half of the workers"},
	{flag: "takeover-after", env: "JQLGATE_TAKEOVER_AFTER", def: "30s", usage: "adopt another process's deliveries once its heartbeat is this old; 0 never adopts"},
	{flag: "retry-horizon", env: "JQLGATE_RETRY_HORIZON", def: "2m", usage: "webhook retries due later than this stay only in the store until nearly due; 0 keeps them all in memory"},
	{flag: "disable-after-failures", env: "JQLGATE_DISABLE_AFTER_FAILURES", def: "10", usage: "disable a webhook once this many of its deliveries in a row failed after every retry; 0 never"},
	{flag: "disable-after", env: "JQLGATE_DISABLE_AFTER", def: "120h", usage: "disable a webhook whose deliveries have kept failing, none delivered, for this long; 0 never"},
	{flag: "retention", env: "JQLGATE_RETENTION", def: "2160h", usage: "delete webhook attempt records and event payloads older than this; 0 keeps them forever"},
	{flag: "pprof", env: "JQLGATE_PPROF", def: "", usage: "loopback address (such as 127.0.0.1:6060) to serve Go's /debug/pprof profiles on; empty serves none"},
}, append(authOptions, consoleOptions...)...)

// serveConfig is the parsed configuration of jqlgate serve.
type serveConfig struct {
	Addr            string
	DataDir         string
	MongoDBURI      string
	Database        string
	EmbeddedSync    string
	ConnectTimeout  time.Duration
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	Limits          gateway.Limits
	AllowedOrigins  []string
	CORSOrigins     []string
	TrustedProxies  []*net.IPNet
	SchemaDir       string
	Pprof           string
	Webhook         webhookConfig
	Dispatcher      dispatcherConfig
	Auth            authConfig
	Console         consoleConfig
}

func parseServeConfig(s *optionSet) (serveConfig, error) {
	c := serveConfig{Addr: s.str("addr"), DataDir: s.str("data-dir"), MongoDBURI: s.str("mongodb-uri"), Database: s.str("database")}
	c.SchemaDir = s.str("schema-dir")
	c.EmbeddedSync = s.str("embedded-sync")
	if c.EmbeddedSync != "full" && c.EmbeddedSync != "normal" {
		return c, fmt.Errorf("--embedded-sync: %q is not full or normal", c.EmbeddedSync)
	}
	c.Pprof = s.str("pprof")
	var err error
	if c.ConnectTimeout, err = s.duration("connect-timeout"); err != nil {
		return c, err
	}
	if c.ShutdownTimeout, err = s.duration("shutdown-timeout"); err != nil {
		return c, err
	}
	if c.LogLevel, err = parseLevel(s.str("log-level")); err != nil {
		return c, err
	}
	if c.Limits, err = parseLimits(s); err != nil {
		return c, err
	}
	if c.AllowedOrigins, err = parseOrigins(s.str("allowed-origins")); err != nil {
		return c, err
	}
	if c.CORSOrigins, err = parseCORSOrigins(s.str("cors-allow-origins")); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = gateway.ParseTrustedProxies(s.str("trusted-proxies")); err != nil {
		return c, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.Webhook, err = parseWebhookConfig(s); err != nil {
		return c, err
	}
	if c.Auth, err = parseAuthConfig(s); err != nil {
		return c, err
	}
	if c.Dispatcher, err = parseDispatcherConfig(s, c.Addr, c.MongoDBURI == ""); err != nil {
		return c, err
	}
	if c.Console, err = parseConsoleConfig(s); err != nil {
		return c, err
	}
	return c, nil
}

func runServe(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	opts := newOptionSet("serve", "Usage: jqlgate serve [options]\n\nRuns the gateway: the JQL endpoint POST /jql, the OAuth2 authorization server,\n/healthz, /readyz and /metrics, and the webhook dispatcher. With no MongoDB URI\nit starts the embedded store in the data directory.", serveOptions, env)
	if err := opts.parse(args, stderr); err != nil {
		return err
	}
	cfg, err := parseServeConfig(opts)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	logger.Info("starting jqlgate", append([]any{"version", version}, opts.logAttrs()...)...)
	a, err := start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("jqlgate ready", "url", a.server.URL(), "embedded_store", a.store.embedded, "store", a.store.where, "startup", time.Since(a.started).String())
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	case err := <-a.server.Done():
		if err != nil {
			logger.Error("server stopped", "error", err.Error())
		}
	}
	return a.stop(cfg.ShutdownTimeout)
}

// app is a running gateway: every component serve started, stopped in
// reverse order.
type app struct {
	started time.Time
	logger  *slog.Logger
	store   *backend
	server  *gateway.Server
	// workers are background components, stopped after the HTTP server
	// and before the store.
	workers []func(ctx context.Context) error
	gatewayParts
	// subscriptions is the webhook subscription store.
	subscriptions subscriptionStore
	// sites is the trusted site store.
	sites siteStore
	// users logs system users in and ends their sessions.
	users *auth.Users
	dispatcherParts
	// unlock releases the embedded store's data dir lock.
	unlock func()
}

func start(ctx context.Context, cfg serveConfig, logger *slog.Logger) (*app, error) {
	a := &app{started: time.Now(), logger: logger}
	var err error
	if a.unlock, err = lockDataDir(cfg.MongoDBURI, cfg.DataDir); err != nil {
		return nil, err
	}
	// Listen first: while the store opens and the dispatcher recovers,
	// /healthz answers and /readyz says "starting".
	a.server = gateway.NewServer(cfg.Addr, logger, func(ctx context.Context) error { return a.store.ping(ctx) })
	if err := a.server.Listen(); err != nil {
		a.release()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	logger.Info("listening; opening the store", "url", a.server.URL())
	st, err := openBackend(ctx, storeConfig{DataDir: cfg.DataDir, MongoDBURI: cfg.MongoDBURI, Database: cfg.Database,
		EmbeddedSync: cfg.EmbeddedSync, ConnectTimeout: cfg.ConnectTimeout,
		Sealer: func() (*jqlgate.Sealer, error) { return sealerFor(cfg, logger) }}, logger)
	if err != nil {
		_ = a.server.Close(context.Background())
		a.release()
		return nil, err
	}
	logger.Info("store open", "store", st.where, "took", time.Since(a.started).String())
	a.store = st
	a.subscriptions, a.sites = st.subscriptions, st.sites
	if err := a.wire(ctx, cfg); err != nil {
		// Stop whatever was started, in the usual order.
		_ = a.stop(cfg.ShutdownTimeout)
		return nil, err
	}
	return a, nil
}

// wire builds the components on the open store, in dependency order: the
// route table, authentication, the subscription store, the dispatcher, then
// the namespaces that publish to it, and last the listener.
func (a *app) wire(ctx context.Context, cfg serveConfig) error {
	var err error
	if cfg.Pprof != "" {
		addr, stop, err := servePprof(cfg.Pprof)
		if err != nil {
			return err
		}
		a.workers = append(a.workers, stop)
		a.logger.Warn("serving CPU and memory profiles", "pprof", "http://"+addr+"/debug/pprof/")
	}
	wireGateway(a, cfg)
	if err := wireAuth(ctx, a, cfg); err != nil {
		return err
	}
	if err := wireDispatcher(ctx, a, cfg); err != nil {
		return err
	}
	set, err := wireModels(ctx, a, cfg, a.mux, a.dispatcher)
	if err != nil {
		return err
	}
	registerWebhook(a, cfg, a.mux, set, a.dispatcher)
	registerTrustedSite(a, cfg, a.mux, a.dispatcher)
	if err := wireConsole(a, cfg); err != nil {
		return err
	}
	return a.server.Open()
}

// stop shuts down in a fixed order: stop accepting requests and let those in
// flight finish, stop background workers, disconnect the store, stop the
// embedded store. All of it shares one timeout.
func (a *app) stop(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var firstErr error
	keep := func(what string, err error) {
		if err != nil {
			a.logger.Error("shutdown", "step", what, "error", err.Error())
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	keep("http server", a.server.Close(ctx))
	for i := len(a.workers) - 1; i >= 0; i-- {
		keep("worker", a.workers[i](ctx))
	}
	keep("store", a.store.close(ctx))
	a.release()
	a.logger.Info("stopped", "uptime", time.Since(a.started).String())
	return firstErr
}
