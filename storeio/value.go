package storeio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Value is a stored value (a record, event data, a subscription's filter
// or metadata) in JSON that keeps what plain JSON loses: a float is always
// written with a fraction or exponent, so it comes back a float64 and an
// integer an int64; a time is {"$date": "<RFC 3339, nanoseconds>"} (no
// stored object can hold a "$" key, schemas refuses them).
type Value struct {
	V any
}

// MarshalJSON writes v in the typed form.
func (v Value) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := encodeValue(&b, v.V); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalJSON reads the typed form into plain Go values: maps, []any,
// time.Time (UTC), int64, float64, string, bool, nil.
func (v *Value) UnmarshalJSON(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var raw any
	if err := d.Decode(&raw); err != nil {
		return err
	}
	out, err := plainValue(raw)
	v.V = out
	return err
}

// Map is v as an object (nil when v holds none).
func (v *Value) Map() map[string]any {
	if v == nil {
		return nil
	}
	m, _ := v.V.(map[string]any)
	return m
}

// mapValue is m as a *Value, nil for a nil map.
func mapValue(m map[string]any) *Value {
	if m == nil {
		return nil
	}
	return &Value{V: m}
}

const dateKey = "$date"

func encodeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string, bool:
		j, _ := json.Marshal(x)
		b.Write(j)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case float64:
		return encodeFloat(b, x)
	case float32:
		return encodeFloat(b, float64(x))
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return fmt.Errorf("the number %q can't be exported", string(x))
		}
		b.WriteString(string(x))
	case time.Time:
		b.WriteString(`{"$date":"` + x.UTC().Format(time.RFC3339Nano) + `"}`)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			j, _ := json.Marshal(k)
			b.Write(j)
			b.WriteByte(':')
			if err := encodeValue(b, x[k]); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encodeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		return encodeReflect(b, reflect.ValueOf(v))
	}
	return nil
}

// encodeReflect covers the other Go types a store may hand out
// ([]string, map[string]string, uint, …).
func encodeReflect(b *bytes.Buffer, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return encodeValue(b, v.Elem().Interface())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > math.MaxInt64 {
			return encodeFloat(b, float64(v.Uint()))
		}
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return encodeFloat(b, v.Float())
	case reflect.String:
		return encodeValue(b, v.String())
	case reflect.Bool:
		return encodeValue(b, v.Bool())
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = v.Index(i).Interface()
		}
		return encodeValue(b, out)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("a map with %s keys can't be exported", v.Type().Key())
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return encodeValue(b, m)
	default:
		return fmt.Errorf("a value of type %s can't be exported", v.Type())
	}
	return nil
}

func encodeFloat(b *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("the number %v can't be exported", f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	b.WriteString(s)
	if !strings.ContainsAny(s, ".eE") {
		b.WriteString(".0")
	}
	return nil
}

func plainValue(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
		}
		return strconv.ParseFloat(s, 64)
	case map[string]any:
		if s, ok := x[dateKey].(string); ok && len(x) == 1 {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("bad date %q", s)
			}
			return t.UTC(), nil
		}
		for k, e := range x {
			p, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			x[k] = p
		}
		return x, nil
	case []any:
		for i, e := range x {
			p, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			x[i] = p
		}
		return x, nil
	}
	return v, nil
}
