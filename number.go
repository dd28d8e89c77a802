package jqlgate

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// num is a number from any Go numeric type, a json.Number or a numeric
// string: exact as an int64 when it is an integer that fits, else a float.
type num struct {
	i     int64
	f     float64
	isInt bool
}

func number(v any) (num, bool) {
	switch x := v.(type) {
	case int:
		return num{i: int64(x), isInt: true}, true
	case int32:
		return num{i: int64(x), isInt: true}, true
	case int64:
		return num{i: x, isInt: true}, true
	case uint32:
		return num{i: int64(x), isInt: true}, true
	case uint:
		return floatOrInt(float64(x), x <= math.MaxInt64, int64(x)), true
	case uint64:
		return floatOrInt(float64(x), x <= math.MaxInt64, int64(x)), true
	case float32:
		return num{f: float64(x)}, true
	case float64:
		return num{f: x}, true
	case json.Number:
		return parseNumber(string(x))
	case string:
		return parseNumber(strings.TrimSpace(x))
	}
	return num{}, false
}

func floatOrInt(f float64, fits bool, i int64) num {
	if fits {
		return num{i: i, isInt: true}
	}
	return num{f: f}
}

func parseNumber(s string) (num, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return num{i: i, isInt: true}, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return num{}, false
	}
	return num{f: f}, true
}

func (n num) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

func (n num) compare(m num) int {
	if n.isInt && m.isInt {
		switch {
		case n.i < m.i:
			return -1
		case n.i > m.i:
			return 1
		}
		return 0
	}
	a, b := n.float(), m.float()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
