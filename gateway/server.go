// Package gateway is jqlgate's HTTP face: the echo server, the health
// routes, envelope decoding, response and error rendering, and request
// limits. It hands every decoded command to a jqlgate.Handler and never
// knows which namespaces exist.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// Server serves jqlgate over HTTP.
type Server struct {
	// Addr is the address to listen on; "127.0.0.1:0" picks a free port.
	Addr   string
	Logger *slog.Logger
	// Ready reports whether the store answers; /readyz is 503 when it errs.
	Ready func(ctx context.Context) error

	// The fields below are read when the first request arrives; set them
	// before Open.

	// Handler executes every decoded command (the namespaces.Mux).
	Handler jqlgate.Handler
	// Public reports whether an intent needs no token (Mux.IsPublic).
	Public func(namespace, intent string) bool
	// Known reports whether an intent is routed (Mux.Has); metrics label
	// only known routes by name.
	Known func(namespace, intent string) bool
	// Authenticator checks tokens; nil rejects every non-public request.
	Authenticator Authenticator
	// Limits bound each request; zero fields take DefaultLimits.
	Limits Limits
	// AllowedOrigins are origins (scheme://host[:port]) besides the
	// request's own host whose pages may send requests the jwt cookie
	// authenticates. Check them with CheckOrigins first.
	AllowedOrigins []string
	// CORSAllowOrigins opt the API routes into CORS: origins
	// (scheme://host[:port]) whose pages may call them with credentials,
	// and which count as allowed origins for the jwt cookie too, or "*"
	// for any origin without credentials. Check them with CheckCORSOrigins
	// first.
	CORSAllowOrigins []string
	// Metrics is the registry the gateway's collectors join and /metrics
	// serves; nil uses a registry of its own.
	Metrics *prometheus.Registry
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client's address (see ParseTrustedProxies); empty believes no
	// header. The address found is what per-IP limits and login lock-outs
	// key on, and reaches every route's request context
	// (jqlgate.ClientAddrFromContext).
	TrustedProxies []*net.IPNet

	echo *echo.Echo
	ln   net.Listener
	srv  *http.Server
	done chan error
	// live is set by Open: requests then reach the routes.
	live atomic.Bool

	once       sync.Once
	lim        Limits
	limiter    *limiter
	origins    *originGuard
	corsPolicy *corsPolicy
	metrics    *metrics
	metricsOut http.Handler
}

// NewServer returns a server with its routes registered.
func NewServer(addr string, logger *slog.Logger, ready func(ctx context.Context) error) *Server {
	s := &Server{Addr: addr, Logger: logger, Ready: ready, echo: echo.New()}
	e := s.echo
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect() // headers are client-controlled; trust none by default
	e.Validator = schemas.Default()
	e.Use(securityHeaders, requestID, s.logRequests, s.cors, s.decodeBody)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.POST("/jql", s.jql, s.setupFirst, s.instrument)
	e.GET("/metrics", s.serveMetrics, s.setupFirst)
	return s
}

// setup applies the configured fields once, before the first request.
func (s *Server) setup() {
	s.once.Do(func() {
		s.echo.IPExtractor = ipExtractor(s.TrustedProxies)
		s.lim = s.Limits.withDefaults()
		s.limiter = newLimiter(s.lim.Rate, s.lim.Burst)
		var err error
		if s.corsPolicy, err = newCORSPolicy(s.CORSAllowOrigins); err != nil {
			s.Logger.Error("CORS origins ignored", "error", err.Error())
		}
		trusted := append(slices.Clone(s.AllowedOrigins), s.corsPolicy.credentialed()...)
		if s.origins, err = newOriginGuard(trusted); err != nil {
			s.Logger.Error("allowed origins ignored", "error", err.Error())
			s.origins, _ = newOriginGuard(nil)
		}
		reg := s.Metrics
		if reg == nil {
			reg = prometheus.NewRegistry()
		}
		s.metrics = newMetrics(reg)
		s.storeUp(reg)
		s.metricsOut = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	})
}

func (s *Server) setupFirst(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.setup()
		return next(c)
	}
}

func (s *Server) serveMetrics(c echo.Context) error {
	s.metricsOut.ServeHTTP(c.Response(), c.Request())
	return nil
}

// ServeHTTP serves one request, as the running server would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.setup()
	s.echo.ServeHTTP(w, r)
}

// Mount serves h at method and path, beside the JQL endpoint (the OAuth2
// routes). Call it before Open.
func (s *Server) Mount(method, path string, h http.Handler) {
	s.echo.Add(method, path, echo.WrapHandler(h))
}

// Echo returns the underlying echo instance, for registering more routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Listen binds Addr and serves at once, before the server is wired: until
// Open, /healthz answers 200, /readyz 503 {"status":"starting"} and every
// other route a 503 JQL error with Retry-After, so a restarting process is
// seen to be alive and not ready rather than refusing connections. Open
// calls it if it was not called.
func (s *Server) Listen() error {
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.done = make(chan error, 1)
	s.srv = &http.Server{Handler: http.HandlerFunc(s.front), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Open starts serving every route, listening first if Listen was not
// called. Routes and fields must be set before it.
func (s *Server) Open() error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.setup()
	s.live.Store(true)
	return nil
}

// front hands requests to the routes once Open was called, and answers as
// Listen says before.
func (s *Server) front(w http.ResponseWriter, r *http.Request) {
	if s.live.Load() {
		s.echo.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/healthz":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	case "/readyz":
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"starting","store":"starting"}` + "\n"))
	default:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"ERROR","data":null,"errors":[{"errorCode":"JQL:ServerException","errorMessage":"The server is starting; try again shortly.","field":""}],"il8n":"en-gb","extras":{"filtered":0,"display":0,"queries":0},"system_info":null,"intent":"","message":"The server is starting; try again shortly."}` + "\n"))
	}
}

// URL returns the base URL the server listens on.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Done is closed with the serve loop's error when it stops by itself.
func (s *Server) Done() <-chan error { return s.done }

// Close stops accepting requests and waits, until ctx ends, for the ones in
// flight to finish.
func (s *Server) Close(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			s.Logger.WarnContext(ctx, "store not ready", "error", err.Error())
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "store": "ok"})
}

// logRequests logs one line per request with its request id: at info,
// except health and readiness probes, which are debug.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		level := logLevel(r)
		if !s.Logger.Enabled(r.Context(), level) {
			return nil
		}
		attrs := make([]slog.Attr, 0, 6)
		attrs = append(attrs, slog.Group("request",
			slog.String("id", jqlgate.RequestIDFromContext(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", loggedPath(r.URL.Path)),
			slog.String("remote", c.RealIP()),
		))
		attrs = append(attrs, commandAttrs(c)...)
		attrs = append(attrs,
			slog.Int("status", c.Response().Status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		)
		s.Logger.LogAttrs(r.Context(), level, "request", attrs...)
		return nil
	}
}

// commandAttrs are the namespace, intent and principal of a JQL request,
// as far as they were known before it ended: none when the envelope did
// not decode, no principal when it did not authenticate. Client-chosen
// names are cut to maxLoggedName bytes.
func commandAttrs(c echo.Context) []slog.Attr {
	var out []slog.Attr
	if ns, ok := c.Get(keyNamespace).(string); ok {
		intent, _ := c.Get(keyIntent).(string)
		out = append(out, slog.String("namespace", loggedName(ns)), slog.String("intent", loggedName(intent)))
	}
	if p, ok := c.Get(keyPrincipal).(*jqlgate.Principal); ok && p != nil {
		out = append(out, slog.String("principal", p.Owner()))
	}
	return out
}
