package jqlgate

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes. Each maps to one HTTP status and one JQL exception name.
const (
	EINVALID      = "invalid"                // 400 JQL:JqlException
	EUNAUTHORIZED = "unauthorized"           // 401 JQL:AuthenticationException
	EFORBIDDEN    = "forbidden"              // 403 JQL:AuthorizationException
	ENOTFOUND     = "not_found"              // 404 JQL:NotFoundException
	EMETHOD       = "method_not_allowed"     // 405 JQL:JqlException
	ECONFLICT     = "conflict"               // 409 JQL:ConflictException
	ETOOLARGE     = "too_large"              // 413 JQL:JqlException
	EUNSUPPORTED  = "unsupported_media_type" // 415 JQL:JqlException
	ERATELIMIT    = "rate_limited"           // 429 JQL:RateLimitException
	EINTERNAL     = "internal"               // 500 JQL:ServerException
	EUNAVAILABLE  = "unavailable"            // 503 JQL:ServerException
)

var codeStatus = map[string]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	EMETHOD:       http.StatusMethodNotAllowed,
	ECONFLICT:     http.StatusConflict,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	ERATELIMIT:    http.StatusTooManyRequests,
	EINTERNAL:     http.StatusInternalServerError,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
}

var codeException = map[string]string{
	EINVALID:      "JQL:JqlException",
	EUNAUTHORIZED: "JQL:AuthenticationException",
	EFORBIDDEN:    "JQL:AuthorizationException",
	ENOTFOUND:     "JQL:NotFoundException",
	EMETHOD:       "JQL:JqlException",
	ECONFLICT:     "JQL:ConflictException",
	ETOOLARGE:     "JQL:JqlException",
	EUNSUPPORTED:  "JQL:JqlException",
	ERATELIMIT:    "JQL:RateLimitException",
	EINTERNAL:     "JQL:ServerException",
	EUNAVAILABLE:  "JQL:ServerException",
}

// FieldError is one problem with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of jqlgate. Code decides the HTTP status and
// the JQL exception name; Message is safe to show to the client. Field names
// the offending field when there is one; Fields carries every field problem
// of a validation failure, so a client sees all of them at once.
type Error struct {
	Code    string
	Message string
	Field   string
	Fields  []FieldError

	// RetryAfter, when set, tells the client when to try again (429, 503).
	RetryAfter time.Duration

	// Op names the operation that failed, for logs only.
	Op string
	// Err is the underlying cause, for logs only; never sent to clients.
	Err error
}

// Error implements the error interface. It includes the cause, so it must
// never be sent to a client as is: render Code and Message instead.
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about one field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Message: msg, Field: field, Fields: []FieldError{{Field: field, Message: msg}}}
}

// InvalidFields returns an EINVALID error listing every field problem.
// It returns nil when fields is empty.
func InvalidFields(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	e := &Error{Code: EINVALID, Message: fields[0].Message, Field: fields[0].Field, Fields: fields}
	if len(fields) > 1 {
		e.Message = fmt.Sprintf("%d fields are invalid", len(fields))
	}
	return e
}

// Internal wraps err as an EINTERNAL error of operation op.
func Internal(op string, err error) *Error {
	return &Error{Code: EINTERNAL, Message: "An unexpected error occurred.", Op: op, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the *Error in err's chain, or an EINTERNAL *Error that
// wraps err. Internal errors get a generic message: their text may hold
// details no client may see.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		if e.Code == EINTERNAL && e.Message == "" {
			e.Message = "An unexpected error occurred."
		}
		return e
	}
	return Internal("", err)
}

// HTTPStatus returns the HTTP status for an error code.
func HTTPStatus(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Exception returns the JQL exception name for an error code.
func Exception(code string) string {
	if s, ok := codeException[code]; ok {
		return s
	}
	return "JQL:ServerException"
}
