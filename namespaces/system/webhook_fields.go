package system

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/jqlgate/jqlgate"
)

// reader collects every problem of a request, so a client sees all of
// them in one answer: those of form found by schemas.Validator.Input, then
// those that need the store or the caller. For the few fields of the
// lookup and operations intents it also reads loosely typed values
// (numbers arrive as json.Number) directly.
type reader struct {
	errs []jqlgate.FieldError
	// listed is whether the request gave triggers as a list (apply).
	listed bool
	// triggerAt is the index in the request's triggers of each trigger
	// read from it (entries with problems are left out).
	triggerAt []int
}

func (r *reader) fail(field, format string, args ...any) {
	r.errs = append(r.errs, jqlgate.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// has reports whether field itself has a problem.
func (r *reader) has(field string) bool {
	return slices.ContainsFunc(r.errs, func(e jqlgate.FieldError) bool { return e.Field == field })
}

// failed reports whether field, or a field inside it, has a problem.
func (r *reader) failed(field string) bool {
	return slices.ContainsFunc(r.errs, func(e jqlgate.FieldError) bool {
		return e.Field == field || strings.HasPrefix(e.Field, field+".")
	})
}

func (r *reader) err() error { return jqlgate.InvalidFields(r.errs) }

// merge adds the field problems of an EINVALID error.
func (r *reader) merge(err error) {
	if err == nil {
		return
	}
	e := jqlgate.AsError(err)
	if len(e.Fields) == 0 {
		r.fail(e.Field, "%s", e.Message)
	}
	r.errs = append(r.errs, e.Fields...)
}

// unknown reports every key of m not in allowed.
func (r *reader) unknown(m map[string]any, allowed ...string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(allowed, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.fail(k, "is not a field of this intent; valid fields: %s", strings.Join(allowed, ", "))
	}
}

// required reads a non-empty string field of m.
func (r *reader) required(m map[string]any, field string) string {
	return r.requiredAt(m, field, field)
}

// requiredAt reads m[key], a non-empty string, reporting problems under
// field (the key's full name inside a nested object).
func (r *reader) requiredAt(m map[string]any, key, field string) string {
	v, ok := m[key]
	if !ok || v == nil {
		r.fail(field, "is required")
		return ""
	}
	s := r.str(field, v, 2048)
	if s == "" && !r.failed(field) {
		r.fail(field, "must not be empty")
	}
	return s
}

// require reports field, read already, as required when it is empty and
// has no other problem.
func (r *reader) require(field, value string) {
	if value == "" && !r.failed(field) {
		r.fail(field, "is required")
	}
}

// str reads a string of at most max bytes with no control characters.
func (r *reader) str(field string, v any, max int) string {
	s, ok := v.(string)
	switch {
	case !ok:
		r.fail(field, "must be a string")
	case len(s) > max:
		r.fail(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, unicode.IsControl):
		r.fail(field, "must not contain control characters")
	default:
		return s
	}
	return ""
}

func (r *reader) boolean(field string, v any) bool {
	b, ok := v.(bool)
	if !ok {
		r.fail(field, "must be true or false")
	}
	return b
}

// number reads a number in [min, max].
func (r *reader) number(field string, v any, min, max float64) float64 {
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
		r.fail(field, "must be a number")
		return 0
	}
	if f < min || f > max {
		r.fail(field, "must be between %v and %v", min, max)
		return 0
	}
	return f
}

// integer reads a whole number in [min, max].
func (r *reader) integer(field string, v any, min, max int) int {
	f := r.number(field, v, float64(min), float64(max))
	if f != math.Trunc(f) {
		r.fail(field, "must be a whole number")
		return 0
	}
	return int(f)
}

func (r *reader) list(field string, v any, max int) []any {
	l, ok := v.([]any)
	switch {
	case !ok:
		r.fail(field, "must be a list")
	case len(l) > max:
		r.fail(field, "must have at most %d entries", max)
	default:
		return l
	}
	return nil
}

// oneOf reads a string that must be one of choices, matched without regard
// to case; it returns the choice as spelled in choices.
func (r *reader) oneOf(field string, v any, choices ...string) string {
	s := r.str(field, v, 256)
	for _, c := range choices {
		if strings.EqualFold(s, c) {
			return c
		}
	}
	if !r.failed(field) {
		r.fail(field, "must be one of %s", strings.Join(choices, ", "))
	}
	return ""
}
