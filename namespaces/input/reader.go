// Package input reads and checks the fields of controller commands for the
// namespace packages (webhook, trustedsite, admin): a Reader that gathers
// every problem of a request with its field, paging, the caller's owner
// key, and the checks of the URLs and addresses requests may be sent to.
// It imports only the root and schemas.
package input

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// Reader collects every problem of a request, so a client sees all of
// them in one answer: those of form found by schemas.Validator.Input, then
// those that need the store or the caller. For the few fields of the
// lookup and operations intents it also reads loosely typed values
// (numbers arrive as json.Number) directly.
type Reader struct {
	Errs []jqlgate.FieldError
	// Restored are the headers Headers gave their stored value back
	// because the request sent the placeholder.
	Restored map[string]bool
}

// Read decodes and validates in from a request's fields (see
// schemas.Validator.Input) and returns a reader holding every problem.
func Read(fields map[string]any, in any) *Reader {
	return &Reader{Errs: schemas.Default().Input("", fields, in)}
}

func (r *Reader) Fail(field, format string, args ...any) {
	r.Errs = append(r.Errs, jqlgate.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// has reports whether field itself has a problem.
func (r *Reader) Has(field string) bool {
	return slices.ContainsFunc(r.Errs, func(e jqlgate.FieldError) bool { return e.Field == field })
}

// failed reports whether field, or a field inside it, has a problem.
func (r *Reader) Failed(field string) bool {
	return slices.ContainsFunc(r.Errs, func(e jqlgate.FieldError) bool {
		return e.Field == field || strings.HasPrefix(e.Field, field+".")
	})
}

func (r *Reader) Err() error { return jqlgate.InvalidFields(r.Errs) }

// merge adds the field problems of an EINVALID error.
func (r *Reader) Merge(err error) {
	if err == nil {
		return
	}
	e := jqlgate.AsError(err)
	if len(e.Fields) == 0 {
		r.Fail(e.Field, "%s", e.Message)
	}
	r.Errs = append(r.Errs, e.Fields...)
}

// unknown reports every key of m not in allowed.
func (r *Reader) Unknown(m map[string]any, allowed ...string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(allowed, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.Fail(k, "is not a field of this intent; valid fields: %s", strings.Join(allowed, ", "))
	}
}

// required reads a non-empty string field of m.
func (r *Reader) Required(m map[string]any, field string) string {
	return r.RequiredAt(m, field, field)
}

// requiredAt reads m[key], a non-empty string, reporting problems under
// field (the key's full name inside a nested object).
func (r *Reader) RequiredAt(m map[string]any, key, field string) string {
	v, ok := m[key]
	if !ok || v == nil {
		r.Fail(field, "is required")
		return ""
	}
	s := r.Str(field, v, 2048)
	if s == "" && !r.Failed(field) {
		r.Fail(field, "must not be empty")
	}
	return s
}

// require reports field, read already, as required when it is empty and
// has no other problem.
func (r *Reader) Require(field, value string) {
	if value == "" && !r.Failed(field) {
		r.Fail(field, "is required")
	}
}

// str reads a string of at most max bytes with no control characters.
func (r *Reader) Str(field string, v any, max int) string {
	s, ok := v.(string)
	switch {
	case !ok:
		r.Fail(field, "must be a string")
	case len(s) > max:
		r.Fail(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, unicode.IsControl):
		r.Fail(field, "must not contain control characters")
	default:
		return s
	}
	return ""
}

func (r *Reader) Boolean(field string, v any) bool {
	b, ok := v.(bool)
	if !ok {
		r.Fail(field, "must be true or false")
	}
	return b
}

// number reads a number in [min, max].
func (r *Reader) Number(field string, v any, min, max float64) float64 {
	var f float64
	var err error
	switch n := v.(type) {
	case json.Number:
		f, err = n.Float64()
	case float64:
		f = n
	case int:
		f = float64(n)
	default:
		err = fmt.Errorf("not a number")
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.Fail(field, "must be a number")
		return 0
	}
	if f < min || f > max {
		r.Fail(field, "must be between %v and %v", min, max)
		return 0
	}
	return f
}

// integer reads a whole number in [min, max].
func (r *Reader) Integer(field string, v any, min, max int) int {
	f := r.Number(field, v, float64(min), float64(max))
	if f != math.Trunc(f) {
		r.Fail(field, "must be a whole number")
		return 0
	}
	return int(f)
}

func (r *Reader) List(field string, v any, max int) []any {
	l, ok := v.([]any)
	switch {
	case !ok:
		r.Fail(field, "must be a list")
	case len(l) > max:
		r.Fail(field, "must have at most %d entries", max)
	default:
		return l
	}
	return nil
}

// oneOf reads a string that must be one of choices, matched without regard
// to case; it returns the choice as spelled in choices.
func (r *Reader) OneOf(field string, v any, choices ...string) string {
	s := r.Str(field, v, 256)
	for _, c := range choices {
		if strings.EqualFold(s, c) {
			return c
		}
	}
	if !r.Failed(field) {
		r.Fail(field, "must be one of %s", strings.Join(choices, ", "))
	}
	return ""
}
