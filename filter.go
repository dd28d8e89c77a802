package jqlgate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Filter lookups, written after a field name and a double underscore, as in
// Django: "age__gte". A key without a lookup means OpEq.
const (
	OpEq         = "eq"
	OpNe         = "ne"
	OpGt         = "gt"
	OpGte        = "gte"
	OpLt         = "lt"
	OpLte        = "lte"
	OpIn         = "in"
	OpContains   = "contains"
	OpIContains  = "icontains"
	OpStartsWith = "startswith"
	OpEndsWith   = "endswith"
	OpIsNull     = "isnull"
)

var lookups = map[string]bool{
	OpNe: true, OpGt: true, OpGte: true, OpLt: true, OpLte: true, OpIn: true,
	OpContains: true, OpIContains: true, OpStartsWith: true, OpEndsWith: true, OpIsNull: true,
}

// Condition is one parsed filter term: Field Op Value. Value is a scalar
// (string, bool, nil or a number) or, for OpIn, a []any of scalars; for
// OpIsNull it is a bool.
type Condition struct {
	Field string
	Op    string
	Value any
}

// ParseFilter parses a filter object (__meta__.filter, __meta__.exclude or
// a subscription filter) into conditions, sorted by key. field names the
// object in errors: a bad key "age__foo" is reported as "<field>.age__foo".
// Values that are objects are refused, so nothing a client sends can act as
// a store operator such as {"$where": …}. Every problem is reported at once.
func ParseFilter(field string, filter map[string]any) ([]Condition, error) {
	keys := make([]string, 0, len(filter))
	for k := range filter {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	conds := make([]Condition, 0, len(keys))
	var problems []FieldError
	for _, k := range keys {
		c, err := parseCondition(k, filter[k])
		if err != nil {
			problems = append(problems, FieldError{Field: field + "." + k, Message: field + "." + k + " " + err.Error()})
			continue
		}
		conds = append(conds, c)
	}
	if err := InvalidFields(problems); err != nil {
		return nil, err
	}
	return conds, nil
}

func parseCondition(key string, v any) (Condition, error) {
	name, op := key, OpEq
	if i := strings.LastIndex(key, "__"); i >= 0 {
		name, op = key[:i], key[i+2:]
		if !lookups[op] {
			return Condition{}, fmt.Errorf("uses an unknown lookup %q: use one of __ne, __gt, __gte, __lt, __lte, __in, __contains, __icontains, __startswith, __endswith, __isnull", "__"+op)
		}
	}
	if name == "" || strings.HasPrefix(name, "$") || strings.Contains(name, "__") {
		return Condition{}, fmt.Errorf("does not name a field: write field or field__lookup, as age__gte")
	}
	val, err := conditionValue(op, v)
	if err != nil {
		return Condition{}, err
	}
	return Condition{Field: name, Op: op, Value: val}, nil
}

func conditionValue(op string, v any) (any, error) {
	switch op {
	case OpIn:
		return inValue(v)
	case OpIsNull:
		return boolValue(v)
	case OpContains, OpIContains, OpStartsWith, OpEndsWith:
		if _, ok := v.(string); !ok {
			return nil, fmt.Errorf("must be a string")
		}
		return v, nil
	case OpGt, OpGte, OpLt, OpLte:
		if v == nil {
			return nil, fmt.Errorf("must not be null")
		}
	}
	if _, ok := v.(map[string]any); ok {
		return nil, fmt.Errorf("must be a string, number, boolean or null, not an object: write a comparison as a lookup such as age__gt, not as an operator object")
	}
	if !isScalar(v) {
		return nil, fmt.Errorf("must be a string, number, boolean or null, not %s", kindOf(v))
	}
	return v, nil
}

func inValue(v any) (any, error) {
	switch x := v.(type) {
	case string:
		parts := strings.Split(x, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = strings.TrimSpace(p)
		}
		return out, nil
	case []any:
		for _, e := range x {
			if !isScalar(e) {
				return nil, fmt.Errorf("must be a list of strings, numbers or booleans, not %s", kindOf(e))
			}
		}
		return x, nil
	}
	return nil, fmt.Errorf("must be a list or a comma-separated string")
}

func boolValue(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("must be true or false")
}

func isScalar(v any) bool {
	switch v.(type) {
	case nil, string, bool, json.Number, float64, float32, int, int32, int64, uint, uint32, uint64:
		return true
	}
	return false
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a value of an unsupported type"
}

// MatchConditions reports whether data satisfies every condition. A field
// may be dotted ("address.city") to reach into nested objects. Numbers of
// any Go type compare numerically (a numeric string matches a number),
// RFC 3339 strings and time.Time compare chronologically, other strings
// lexically; values of different kinds are never ordered.
func MatchConditions(conds []Condition, data map[string]any) bool {
	for _, c := range conds {
		if !matchCondition(c, data) {
			return false
		}
	}
	return true
}

func matchCondition(c Condition, data map[string]any) bool {
	v, present := lookupField(data, c.Field)
	switch c.Op {
	case OpIsNull:
		isNull := !present || v == nil
		want, _ := c.Value.(bool)
		return isNull == want
	case OpEq:
		return looseEqual(v, c.Value)
	case OpNe:
		return !looseEqual(v, c.Value)
	case OpIn:
		return matchIn(v, c.Value)
	case OpGt, OpGte, OpLt, OpLte:
		return matchOrder(c.Op, v, c.Value)
	}
	return present && matchString(c.Op, v, c.Value)
}

func lookupField(data map[string]any, field string) (any, bool) {
	if v, ok := data[field]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(field, ".")
	if !ok {
		return nil, false
	}
	sub, ok := data[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return lookupField(sub, rest)
}

func matchIn(v, want any) bool {
	list, _ := want.([]any)
	for _, w := range list {
		if looseEqual(v, w) {
			return true
		}
	}
	return false
}

func matchOrder(op string, v, want any) bool {
	c, ok := compareValues(v, want)
	if !ok {
		return false
	}
	switch op {
	case OpGt:
		return c > 0
	case OpGte:
		return c >= 0
	case OpLt:
		return c < 0
	}
	return c <= 0
}

func matchString(op string, v, want any) bool {
	w, _ := want.(string)
	if list, ok := v.([]any); ok && op == OpContains {
		return matchIn(w, list)
	}
	s, ok := stringOf(v)
	if !ok {
		return false
	}
	switch op {
	case OpContains:
		return strings.Contains(s, w)
	case OpIContains:
		return strings.Contains(strings.ToLower(s), strings.ToLower(w))
	case OpStartsWith:
		return strings.HasPrefix(s, w)
	}
	return strings.HasSuffix(s, w)
}

func stringOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	}
	return "", false
}

// looseEqual compares a stored value with a filter value the way a client
// sending strings for everything expects: "18" equals 18, "true" equals true.
func looseEqual(v, want any) bool {
	if v == nil || want == nil {
		return v == nil && want == nil
	}
	if b, ok := v.(bool); ok {
		w, err := boolValue(want)
		return err == nil && w == b
	}
	c, ok := compareValues(v, want)
	return ok && c == 0
}

// compareValues orders a and b: numbers numerically, times chronologically,
// strings lexically. ok is false when they are not comparable.
func compareValues(a, b any) (int, bool) {
	_, aStr := a.(string)
	_, bStr := b.(string)
	if !aStr || !bStr {
		x, ok1 := number(a)
		y, ok2 := number(b)
		if ok1 && ok2 {
			return x.compare(y), true
		}
	}
	if x, ok := timeOf(a); ok {
		if y, ok := timeOf(b); ok {
			return x.Compare(y), true
		}
	}
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	return strings.Compare(x, y), true
}

func timeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		if len(x) < 20 || x[4] != '-' {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}
