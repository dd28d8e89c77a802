package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// zeroValue is a value of the Go type a field of type t holds.
func zeroValue(t string) any {
	switch t {
	case TypeNumber:
		return float64(0)
	case TypeInteger:
		return int64(0)
	case TypeBoolean:
		return false
	case TypeDatetime:
		return time.Time{}
	case TypeObject:
		return map[string]any{}
	case TypeArray:
		return []any{}
	}
	return ""
}

// coerce converts a client value to the field's Go type: string, int64,
// float64, bool, time.Time (UTC, millisecond precision, as the store keeps
// it), map[string]any or []any. Antly clients send numbers and booleans as
// strings, so "2024" becomes 2024 for an integer.
func coerce(f *Field, v any) (any, error) {
	switch f.Type {
	case TypeString, TypeReference:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string")
		}
		return s, nil
	case TypeInteger:
		return toInteger(v)
	case TypeNumber:
		return toNumber(v)
	case TypeBoolean:
		return toBool(v)
	case TypeDatetime:
		return toTime(v)
	case TypeObject:
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("must be an object")
		}
		return normalize(v)
	case TypeArray:
		if _, ok := v.([]any); !ok {
			return nil, fmt.Errorf("must be a list")
		}
		return normalize(v)
	}
	return nil, fmt.Errorf("has an unknown type")
}

// CoerceValue converts a filter value to the type of field name, as create
// does for a field value. System fields are included.
func (m *Model) CoerceValue(name string, v any) (any, error) {
	t := m.FieldType(name)
	if t == "" {
		return nil, fmt.Errorf("is not a field of %s", m.Namespace)
	}
	return coerce(&Field{Name: name, Type: t}, v)
}

func toInteger(v any) (any, error) {
	errInt := errors.New("must be an integer")
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, errInt
		}
		return int64(x), nil
	case json.Number:
		return toInteger(string(x))
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be an integer, not %q", truncate(x))
		}
		return i, nil
	}
	return nil, errInt
}

func toNumber(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case json.Number:
		return toNumber(string(x))
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number, not %q", truncate(x))
		}
		return f, nil
	}
	return nil, errors.New("must be a number")
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, fmt.Errorf("must be true or false, not %q", truncate(x))
	}
	return nil, errors.New("must be true or false")
}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Truncate(time.Millisecond), nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
			if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
				return t.UTC().Truncate(time.Millisecond), nil
			}
		}
		return nil, fmt.Errorf("must be an RFC 3339 date-time such as 2024-01-31T12:00:00Z, not %q", truncate(x))
	}
	return nil, errors.New("must be an RFC 3339 date-time string")
}

// normalize turns json.Number into int64 or float64 throughout a nested
// value, and refuses keys the store would read as operators or paths.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "" || strings.HasPrefix(k, "$") || strings.Contains(k, ".") {
				return nil, fmt.Errorf("has an invalid key %q: keys must not be empty, start with $ or contain a dot", truncate(k))
			}
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("holds the number %s, which is out of range (at most about 1.8e308)", truncate(x.String()))
		}
		return f, nil
	}
	return v, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
