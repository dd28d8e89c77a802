package gateway

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// metaSetter stores one __meta__ value into Meta, or says why it can't.
type metaSetter func(m *jqlgate.Meta, v any) string

type metaKey struct {
	key string
	set metaSetter
}

// metaKeys are the __meta__ keys DESIGN.md lists, in the order their
// problems are reported. Any other key is rejected.
var metaKeys = []metaKey{
	{"namespace", func(m *jqlgate.Meta, v any) string { return setString(&m.Namespace, v) }},
	{"schema", func(m *jqlgate.Meta, v any) string { return setString(&m.Schema, v) }},
	{"intent", func(m *jqlgate.Meta, v any) string { return setString(&m.Intent, v) }},
	{"authenticationClass", func(m *jqlgate.Meta, v any) string { return setString(&m.AuthenticationClass, v) }},
	{"authenticationToken", func(m *jqlgate.Meta, v any) string { return setString(&m.AuthenticationToken, v) }},
	{"return", func(m *jqlgate.Meta, v any) string { return setObject(&m.Return, v) }},
	{"uniqueObject", func(m *jqlgate.Meta, v any) string { return setObject(&m.UniqueObject, v) }},
	{"filter", func(m *jqlgate.Meta, v any) string { return setObject(&m.Filter, v) }},
	{"exclude", func(m *jqlgate.Meta, v any) string { return setObject(&m.Exclude, v) }},
	{"search", setSearch},
	{"ordering", setOrdering},
	{"limit", func(m *jqlgate.Meta, v any) string { return setInt(&m.Limit, v) }},
	{"offset", func(m *jqlgate.Meta, v any) string { return setInt(&m.Offset, v) }},
	{"draw", func(m *jqlgate.Meta, v any) string { return setInt(&m.Draw, v) }},
	{"cache", setCache},
}

// decodeMeta types the __meta__ object and validates it. It reports every
// problem: wrong types, unknown keys, then the validator's rules (skipping
// fields already reported).
func decodeMeta(raw map[string]any) (jqlgate.Meta, error) {
	var meta jqlgate.Meta
	var problems []jqlgate.FieldError
	for _, k := range metaKeys {
		v, ok := raw[k.key]
		if !ok || v == nil {
			continue
		}
		if msg := k.set(&meta, v); msg != "" {
			field := "__meta__." + k.key
			problems = append(problems, jqlgate.FieldError{Field: field, Message: field + " " + msg})
		}
	}
	problems = append(problems, unknownMetaKeys(raw)...)
	problems = append(problems, ruleProblems(&meta, problems)...)
	return meta, jqlgate.InvalidFields(problems)
}

func unknownMetaKeys(raw map[string]any) []jqlgate.FieldError {
	var out []jqlgate.FieldError
	for key := range raw {
		if !slices.ContainsFunc(metaKeys, func(k metaKey) bool { return k.key == key }) {
			field := "__meta__." + key
			out = append(out, jqlgate.FieldError{Field: field, Message: field + " is not a __meta__ key."})
		}
	}
	slices.SortFunc(out, func(a, b jqlgate.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// ruleProblems runs the validator over meta and drops problems with fields
// that already failed to decode (a wrongly typed namespace is not also
// "required").
func ruleProblems(meta *jqlgate.Meta, reported []jqlgate.FieldError) []jqlgate.FieldError {
	e := jqlgate.AsError(schemas.Translate(schemas.Default().Engine().Struct(meta), "__meta__."))
	if e == nil || e.Code != jqlgate.EINVALID {
		return nil
	}
	var out []jqlgate.FieldError
	for _, f := range e.Fields {
		if !slices.ContainsFunc(reported, func(r jqlgate.FieldError) bool { return r.Field == topField(f.Field) }) {
			out = append(out, f)
		}
	}
	return out
}

// topField turns "__meta__.ordering[1]" into "__meta__.ordering".
func topField(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		return field[:i]
	}
	return field
}

func setString(dst *string, v any) string {
	s, ok := v.(string)
	if !ok {
		return "must be a string, not " + kindOf(v) + "."
	}
	*dst = s
	return ""
}

func setObject(dst *map[string]any, v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return "must be an object, not " + kindOf(v) + "."
	}
	*dst = m
	return ""
}

// setInt accepts a whole JSON number or a string holding one ("10"), as
// Antly's examples send numbers as strings.
func setInt(dst **int, v any) string {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return "must be a whole number, not " + kindOf(v) + "."
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return "must be a whole number."
	}
	*dst = &n
	return ""
}

// setOrdering accepts one field name or an array of them: Antly shows both.
func setOrdering(m *jqlgate.Meta, v any) string {
	switch t := v.(type) {
	case string:
		m.Ordering = []string{t}
		return ""
	case []any:
		out := make([]string, len(t))
		for i, item := range t {
			s, ok := item.(string)
			if !ok {
				return "must be a field name or an array of field names."
			}
			out[i] = s
		}
		m.Ordering = out
		return ""
	}
	return "must be a field name or an array of field names, not " + kindOf(v) + "."
}

func setSearch(m *jqlgate.Meta, v any) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return `must be an object such as {"value": "term"}, not ` + kindOf(v) + "."
	}
	value, ok := obj["value"].(string)
	if len(obj) != 1 || !ok {
		return `must be {"value": "term"}: one key, value, holding a string.`
	}
	m.Search = &jqlgate.Search{Value: value}
	return ""
}

func setCache(m *jqlgate.Meta, v any) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return `must be an object such as {"enabled": true}, not ` + kindOf(v) + "."
	}
	enabled, ok := obj["enabled"].(bool)
	if len(obj) != 1 || !ok {
		return `must be {"enabled": true|false}.`
	}
	m.Cache = &jqlgate.Cache{Enabled: enabled}
	return ""
}
