package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jqlgate/jqlgate"
)

// response is the envelope every answer has, success or error.
type response struct {
	Status     string      `json:"status"`
	Data       any         `json:"data"`
	Errors     []errorItem `json:"errors"`
	IL8N       string      `json:"il8n"`
	Extras     extras      `json:"extras"`
	SystemInfo any         `json:"system_info"`
	Intent     string      `json:"intent"`
	Message    string      `json:"message"`
}

type errorItem struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Field        string `json:"field"`
}

type extras struct {
	Filtered int  `json:"filtered"`
	Display  int  `json:"display"`
	Queries  int  `json:"queries"`
	Draw     *int `json:"draw,omitempty"`
}

// Keys of the per-request values the error handler echoes.
const (
	keyIntent  = "jqlgate.intent"
	keyDraw    = "jqlgate.draw"
	keyQueries = "jqlgate.queries"
	// keyPrincipal is the authenticated caller, for the request line.
	keyPrincipal = "jqlgate.principal"
)

// newResponse starts an envelope with the request's intent, draw and query
// count filled in.
func newResponse(c echo.Context) response {
	r := response{Status: "OK", IL8N: "en-gb"}
	r.Intent, _ = c.Get(keyIntent).(string)
	r.Extras.Draw, _ = c.Get(keyDraw).(*int)
	if qc, ok := c.Get(keyQueries).(*jqlgate.QueryCounter); ok {
		r.Extras.Queries = qc.Count()
	}
	return r
}

// writeJSON marshals before writing, so a value that cannot be encoded
// becomes an error response instead of a half-written 200.
func writeJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return jqlgate.Internal("encode response", err)
	}
	return c.JSONBlob(status, b)
}

// handleError is the one echo HTTPErrorHandler: every error, from a
// handler, the router (404, 405) or a limit, is rendered as the envelope.
// Only internal errors are logged, and their text never reaches the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := s.toError(err)
	ctx := c.Request().Context()
	msg := e.Message
	if e.Code == jqlgate.EINTERNAL {
		id := jqlgate.RequestIDFromContext(ctx)
		s.Logger.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("request_id", id), slog.String("error", err.Error()))
		msg = fmt.Sprintf("An unexpected error occurred (request %s).", id)
	}
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.RetryAfter)))
	}
	r := newResponse(c)
	r.Status, r.Message, r.Errors = "ERROR", msg, errorItems(e, msg)
	if err := writeJSON(c, jqlgate.HTTPStatus(e.Code), r); err != nil {
		s.Logger.ErrorContext(ctx, "write error response", "error", err.Error())
	}
}

// errorItems lists one entry per field problem, or one for the error.
func errorItems(e *jqlgate.Error, msg string) []errorItem {
	exc := jqlgate.Exception(e.Code)
	if len(e.Fields) == 0 {
		return []errorItem{{ErrorCode: exc, ErrorMessage: msg, Field: e.Field}}
	}
	items := make([]errorItem, len(e.Fields))
	for i, f := range e.Fields {
		items[i] = errorItem{ErrorCode: exc, ErrorMessage: f.Message, Field: f.Field}
	}
	return items
}

// toError maps any error to a *jqlgate.Error.
func (s *Server) toError(err error) *jqlgate.Error {
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(mbe.Limit)
	case errors.As(err, &he):
		return fromHTTPError(he)
	case errors.Is(err, context.DeadlineExceeded):
		return timedOut()
	}
	return jqlgate.AsError(err)
}

func fromHTTPError(he *echo.HTTPError) *jqlgate.Error {
	switch he.Code {
	case http.StatusNotFound:
		return jqlgate.Errorf(jqlgate.ENOTFOUND, "Resource not found: the JQL endpoint is POST /jql.")
	case http.StatusMethodNotAllowed:
		return jqlgate.Errorf(jqlgate.EMETHOD, "Method not allowed: the JQL endpoint is POST /jql.")
	case http.StatusRequestEntityTooLarge:
		return jqlgate.Errorf(jqlgate.ETOOLARGE, "The request body is too large.")
	case http.StatusUnsupportedMediaType:
		return jqlgate.Errorf(jqlgate.EUNSUPPORTED, "Unsupported content type: send application/json.")
	case http.StatusBadRequest:
		return jqlgate.Errorf(jqlgate.EINVALID, "Invalid request.")
	case http.StatusUnauthorized:
		return jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication failed.")
	case http.StatusForbidden:
		return jqlgate.Errorf(jqlgate.EFORBIDDEN, "You do not have permission to access this resource.")
	case http.StatusTooManyRequests:
		return &jqlgate.Error{Code: jqlgate.ERATELIMIT, Message: "Too many requests.", RetryAfter: 1e9}
	case http.StatusServiceUnavailable:
		return &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The service is unavailable; try again.", RetryAfter: 1e9}
	}
	return jqlgate.Internal("http", he)
}

func tooLarge(limit int64) *jqlgate.Error {
	return jqlgate.Errorf(jqlgate.ETOOLARGE, "The request body is larger than %d bytes.", limit)
}

func timedOut() *jqlgate.Error {
	return &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The request timed out; try again.", RetryAfter: 1e9}
}
