package gateway

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jqlgate/jqlgate"
)

// maxRequestIDLen bounds a client's X-Request-Id: it is logged with every
// line of the request, so an unbounded one would let any client fill the
// log.
const maxRequestIDLen = 64

// validRequestID reports whether a client's X-Request-Id is a short safe
// token: 1 to 64 of A-Z a-z 0-9 . _ -.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// requestID keeps the client's X-Request-Id when it is a short safe token
// and otherwise makes one, echoes it in the answer and puts it in the
// request's context for logs and handlers, with the client's address
// (c.RealIP, which honours TrustedProxies).
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = jqlgate.NewID("req")
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		ctx := jqlgate.NewContextWithClientAddr(jqlgate.NewContextWithRequestID(r.Context(), id), c.RealIP())
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// securityHeaders sets headers every answer carries: nosniff always, and
// no-store on the JQL endpoint and the OAuth2 routes, whose answers hold
// records, tokens and secrets that no cache may keep.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		if p := c.Request().URL.Path; p == "/jql" || strings.HasPrefix(p, "/oauth2/") {
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		return next(c)
	}
}

// maxLoggedPath bounds the path a request line logs.
const maxLoggedPath = 256

// logLevel is the level of a request's log line: probes are debug, so a
// load balancer polling /healthz does not fill the log.
func logLevel(r *http.Request) slog.Level {
	if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// maxLoggedName bounds the namespace and intent a request line logs.
const maxLoggedName = 128

// loggedPath is the request path, cut to maxLoggedPath bytes.
func loggedPath(p string) string { return cut(p, maxLoggedPath) }

// loggedName is a namespace or intent, cut to maxLoggedName bytes.
func loggedName(s string) string { return cut(s, maxLoggedName) }

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
