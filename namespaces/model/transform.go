package model

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ncruces/go-strftime"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// A retrieve may ask for a returned field's value to be transformed
// (Antly's __transform__):
//
//	"created_at": {"__transform__": {"date": {"format": "%d %B %Y", "timezone": "Europe/London"}}}
//
// Antly documents the key and the shape, not the transforms; jqlgate's are
// these (see docs/jql.md): date (format, timezone), upper, lower, map
// (values, default), round (places) and truncate (length, ellipsis). One
// transform is an object with one key; a list of them runs in order.
// Every unknown transform, unknown option or option of the wrong type is
// a 400 at its path.

// transformKey is the key of a field spec that transforms the field.
const transformKey = "__transform__"

// transform turns a returned value into what the client asked for. A nil
// value stays nil.
type transform func(v any) any

// Bounds of the transforms' options.
const (
	maxTransforms  = 8
	maxMapValues   = 256
	maxTruncate    = 10000
	maxRoundPlaces = 10
)

// parseFieldTransform reads the field spec of one returned field of model
// at path field that is not null: an object holding __transform__.
func parseFieldTransform(model *schemas.Model, field string, spec any) (transform, []jqlgate.FieldError) {
	name := field[strings.LastIndexByte(field, '.')+1:]
	m, ok := spec.(map[string]any)
	if !ok {
		return nil, []jqlgate.FieldError{{Field: field, Message: field + " must be null (return it) or an object with __transform__"}}
	}
	var problems []jqlgate.FieldError
	for _, k := range sortedKeys(m) {
		if k != transformKey {
			problems = append(problems, jqlgate.FieldError{Field: field + "." + k,
				Message: "is not allowed here: a returned field takes only __transform__ (" + name + " is not a reference to nest fields of)"})
		}
	}
	raw, ok := m[transformKey]
	if !ok {
		problems = append(problems, jqlgate.FieldError{Field: field + "." + transformKey, Message: "is required in an object field spec"})
		return nil, problems
	}
	t, more := parseTransforms(field+"."+transformKey, raw, model.FieldType(name))
	return t, append(problems, more...)
}

// parseTransforms reads one transform ({"upper": {}}) or a list of them.
func parseTransforms(path string, raw any, typ string) (transform, []jqlgate.FieldError) {
	var specs []any
	switch x := raw.(type) {
	case map[string]any:
		specs = []any{x}
	case []any:
		specs = x
		if len(specs) == 0 || len(specs) > maxTransforms {
			return nil, []jqlgate.FieldError{{Field: path, Message: fmt.Sprintf("must list 1 to %d transforms", maxTransforms)}}
		}
	default:
		return nil, []jqlgate.FieldError{{Field: path, Message: "must be an object naming one transform, or a list of them"}}
	}
	var chain []transform
	var problems []jqlgate.FieldError
	for i, s := range specs {
		p := path
		if _, list := raw.([]any); list {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		t, errs := parseOne(p, s, typ)
		problems = append(problems, errs...)
		chain = append(chain, t)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return func(v any) any {
		for _, t := range chain {
			if v == nil {
				return nil
			}
			v = t(v)
		}
		return v
	}, nil
}

// transformNames are the transforms, for error messages.
var transformNames = []string{"date", "upper", "lower", "map", "round", "truncate"}

func parseOne(path string, spec any, typ string) (transform, []jqlgate.FieldError) {
	m, ok := spec.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, []jqlgate.FieldError{{Field: path, Message: "must be an object with one key, the transform: " + strings.Join(transformNames, ", ")}}
	}
	name := firstKey(m)
	at := path + "." + name
	opts, ok := m[name].(map[string]any)
	if !ok {
		return nil, []jqlgate.FieldError{{Field: at, Message: "must be an object of options ({} for none)"}}
	}
	o := &options{path: at, m: opts}
	var t transform
	switch name {
	case "date":
		t = o.date(typ)
	case "upper", "lower":
		o.onlyFor(typ, schemas.TypeString, schemas.TypeReference)
		t = caseTransform(name == "upper")
	case "map":
		t = o.mapping()
	case "round":
		o.onlyFor(typ, schemas.TypeNumber, schemas.TypeInteger)
		t = o.round()
	case "truncate":
		o.onlyFor(typ, schemas.TypeString, schemas.TypeReference)
		t = o.truncate()
	default:
		return nil, []jqlgate.FieldError{{Field: at, Message: "is not a transform; use one of " + strings.Join(transformNames, ", ")}}
	}
	o.unknown()
	return t, o.problems
}

// options reads one transform's options and gathers their problems.
type options struct {
	path     string
	m        map[string]any
	known    []string
	problems []jqlgate.FieldError
}

func (o *options) fail(key, format string, args ...any) {
	field := o.path
	if key != "" {
		field += "." + key
	}
	o.problems = append(o.problems, jqlgate.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (o *options) unknown() {
	for _, k := range sortedKeys(o.m) {
		if !contains(o.known, k) {
			if len(o.known) == 0 {
				o.fail(k, "is not an option: this transform takes none")
			} else {
				o.fail(k, "is not an option; use %s", strings.Join(o.known, ", "))
			}
		}
	}
}

func (o *options) onlyFor(typ string, types ...string) {
	if !contains(types, typ) {
		o.fail("", "applies to %s fields, and this one is %s", strings.Join(types, " or "), typ)
	}
}

func (o *options) str(key string, required bool, def string) string {
	o.known = append(o.known, key)
	v, ok := o.m[key]
	if !ok {
		if required {
			o.fail(key, "is required")
		}
		return def
	}
	s, ok := v.(string)
	if !ok {
		o.fail(key, "must be a string")
	}
	return s
}

func (o *options) integer(key string, required bool, lo, hi, def int) int {
	o.known = append(o.known, key)
	v, ok := o.m[key]
	if !ok {
		if required {
			o.fail(key, "is required")
		}
		return def
	}
	f, ok := asFloat(v)
	if !ok || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		o.fail(key, "must be a whole number from %d to %d", lo, hi)
		return def
	}
	return int(f)
}

// date formats a datetime with a strftime layout (%Y-%m-%d %H:%M) in a
// time zone (UTC unless named).
func (o *options) date(typ string) transform {
	o.onlyFor(typ, schemas.TypeDatetime)
	format := o.str("format", true, "")
	if _, err := strftime.Layout(format); format != "" && err != nil {
		o.fail("format", "is not a strftime layout jqlgate can format: %v", err)
	}
	loc := time.UTC
	if tz := o.str("timezone", false, ""); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
			o.fail("timezone", "is not an IANA time zone such as Europe/London")
		} else {
			loc = l
		}
	}
	return func(v any) any {
		t, ok := asTime(v)
		if !ok {
			return v
		}
		return strftime.Format(format, t.In(loc))
	}
}

func caseTransform(upper bool) transform {
	return func(v any) any {
		s, ok := v.(string)
		if !ok {
			return v
		}
		if upper {
			return strings.ToUpper(s)
		}
		return strings.ToLower(s)
	}
}

// mapping replaces values found in values (by their text: "true", "3",
// "gold") and, when default is given, every other value by it.
func (o *options) mapping() transform {
	o.known = append(o.known, "values", "default")
	values, ok := o.m["values"].(map[string]any)
	switch {
	case !ok:
		o.fail("values", "is required: an object of value → replacement")
	case len(values) > maxMapValues:
		o.fail("values", "may map at most %d values", maxMapValues)
	}
	def, hasDef := o.m["default"]
	return func(v any) any {
		if r, ok := values[textOf(v)]; ok {
			return r
		}
		if hasDef {
			return def
		}
		return v
	}
}

func (o *options) round() transform {
	places := o.integer("places", false, 0, maxRoundPlaces, 0)
	scale := math.Pow(10, float64(places))
	return func(v any) any {
		f, ok := asFloat(v)
		if !ok {
			return v
		}
		return math.Round(f*scale) / scale
	}
}

func (o *options) truncate() transform {
	n := o.integer("length", true, 1, maxTruncate, maxTruncate)
	ellipsis := o.str("ellipsis", false, "")
	return func(v any) any {
		s, ok := v.(string)
		if !ok || utf8.RuneCountInString(s) <= n {
			return v
		}
		r := []rune(s)
		return string(r[:n]) + ellipsis
	}
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case interface{ Float64() (float64, error) }:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%d", int64(x))
		}
	}
	return fmt.Sprint(v)
}

// applyTransforms transforms rec's fields in place.
func applyTransforms(rec map[string]any, ts map[string]transform) {
	keys := make([]string, 0, len(ts))
	for k := range ts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := rec[k]; ok {
			rec[k] = ts[k](v)
		}
	}
}
