package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jqlgate/jqlgate"
)

const keyNamespace = "jqlgate.namespace"

// jql serves POST /jql: read and decode the envelope, authorize it, run
// the handler under the request timeout, render the result.
func (s *Server) jql(c echo.Context) error {
	r := c.Request()
	ctx, cancel := context.WithTimeout(r.Context(), s.lim.RequestTimeout)
	defer cancel()
	ctx, counter := jqlgate.NewContextWithQueryCounter(ctx)
	c.Set(keyQueries, counter)
	env, err := s.readEnvelope(c)
	if err != nil {
		return err
	}
	if err := s.checkCookieOrigin(r, &env.Meta); err != nil {
		return err
	}
	p, err := s.authorize(ctx, c, &env.Meta)
	if err != nil {
		return err
	}
	cmd := &jqlgate.Command{Meta: env.Meta, Fields: env.Fields, Principal: p, RequestID: jqlgate.RequestIDFromContext(ctx)}
	if p != nil {
		ctx = jqlgate.NewContextWithPrincipal(ctx, p)
	}
	res, err := s.call(ctx, cmd)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return timedOut()
		}
		return err
	}
	return s.renderResult(c, res)
}

// readEnvelope checks the content type, reads the body within the limits
// and decodes it, remembering the intent for the response.
func (s *Server) readEnvelope(c echo.Context) (*jqlgate.Envelope, error) {
	if err := checkContentType(c.Request().Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	env, err := Decode(body, s.lim)
	if env != nil {
		c.Set(keyNamespace, env.Meta.Namespace)
		c.Set(keyIntent, env.Meta.Intent)
		c.Set(keyDraw, env.Meta.Draw)
	}
	return env, err
}

// checkCookieOrigin refuses a cross-origin request that the jwt cookie
// would authenticate: a browser attaches the cookie to requests other
// sites' pages make, so only the server's own origin (or an allowed one)
// may use it. Public intents use no token and are not checked.
func (s *Server) checkCookieOrigin(r *http.Request, meta *jqlgate.Meta) error {
	if s.Public != nil && s.Public(meta.Namespace, meta.Intent) {
		return nil
	}
	if !cookieAuthenticated(r, meta) {
		return nil
	}
	return s.origins.check(r)
}

// checkContentType accepts only application/json (charset utf-8 if
// given). A missing type is refused too: a browser sends a body without
// one, or as text/plain, from any site's page without asking first.
func checkContentType(ct string) error {
	if ct == "" {
		return jqlgate.Errorf(jqlgate.EUNSUPPORTED, "The Content-Type header is missing: send application/json.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || cs == "utf-8" || cs == "UTF-8" {
			return nil
		}
	}
	return jqlgate.Errorf(jqlgate.EUNSUPPORTED, "Unsupported content type %q: send application/json.", ct)
}

// readBody reads at most BodyBytes, and gives up when the body does not
// arrive within RequestTimeout, so a slow or endless body cannot hold a
// handler.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > s.lim.BodyBytes {
		return nil, tooLarge(s.lim.BodyBytes)
	}
	rc := http.NewResponseController(c.Response().Writer)
	_ = rc.SetReadDeadline(time.Now().Add(s.lim.RequestTimeout)) // unsupported only off a real connection
	body, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, r.Body, s.lim.BodyBytes))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
		return body, nil
	}
	// Drop the connection after answering: otherwise net/http would try
	// to drain the rest of a body that may never come.
	c.Response().Header().Set("Connection", "close")
	var mbe *http.MaxBytesError
	var je *jqlgate.Error
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge(mbe.Limit)
	case errors.As(err, &je): // a damaged compressed body (decodeBody)
		return nil, je
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The request body did not arrive in time.", RetryAfter: time.Second}
	}
	return nil, jqlgate.Invalid("", "The request body could not be read.")
}

// call runs the handler, turning a panic into an internal error.
func (s *Server) call(ctx context.Context, cmd *jqlgate.Command) (res *jqlgate.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = jqlgate.Internal("handle "+cmd.Meta.Namespace+":"+cmd.Meta.Intent, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	if s.Handler == nil {
		e := jqlgate.Errorf(jqlgate.ENOTFOUND, "Namespace %s does not exist.", cmd.Meta.Namespace)
		e.Field = "__meta__.namespace"
		return nil, e
	}
	res, err = s.Handler.Handle(ctx, cmd)
	if err == nil && res == nil {
		res = &jqlgate.Result{}
	}
	return res, err
}

func (s *Server) renderResult(c echo.Context, res *jqlgate.Result) error {
	for _, ck := range res.Cookies {
		c.SetCookie(ck)
	}
	r := newResponse(c)
	r.Data, r.Message = res.Data, res.Message
	r.Extras.Filtered, r.Extras.Display = res.Filtered, res.Display
	return writeJSON(c, http.StatusOK, r)
}
