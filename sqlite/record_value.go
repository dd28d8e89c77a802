package sqlite

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
	"unicode/utf8"

	"github.com/jqlgate/jqlgate"
)

// A record is stored as one JSON object (without its id, which has a
// column of its own). JSON alone loses two distinctions the MongoDB adapter
// keeps, so the encoding adds them back:
//   - a float is always written with a fraction or exponent ("3.0"), so
//     SQLite reads it as REAL and it comes back as float64, not int64;
//   - a time is written as {"$date": <Unix milliseconds>}, MongoDB's own
//     extended-JSON form and precision; no client object can hold a "$" key
//     (schemas refuses them), so the form is unambiguous.

// dateKey marks a stored time.
const dateKey = "$date"

// encodeDoc is rec as stored, without its id.
func encodeDoc(rec map[string]any) (string, error) {
	var b bytes.Buffer
	b.Grow(256)
	if err := encodeObject(&b, rec, true); err != nil {
		return "", err
	}
	return b.String(), nil
}

func encodeObject(b *bytes.Buffer, m map[string]any, top bool) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		if top && k == "id" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		encodeString(b, k)
		b.WriteByte(':')
		if err := encodeValue(b, m[k]); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	b.WriteByte('}')
	return nil
}

func encodeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		encodeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
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
		if i, err := x.Int64(); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
			return nil
		}
		f, err := x.Float64()
		if err != nil {
			return err
		}
		return encodeFloat(b, f)
	case time.Time:
		b.WriteString(`{"$date":`)
		b.WriteString(strconv.FormatInt(x.UnixMilli(), 10))
		b.WriteByte('}')
	case map[string]any:
		return encodeObject(b, x, false)
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

// encodeReflect covers the Go types an in-process caller may pass that the
// switch above does not name ([]string, map[string]string, uint, …).
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
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > math.MaxInt64 {
			return encodeFloat(b, float64(v.Uint()))
		}
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return encodeFloat(b, v.Float())
	case reflect.String:
		encodeString(b, v.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encodeValue(b, v.Index(i).Interface()); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("a map with %s keys can't be stored", v.Type().Key())
		}
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return encodeObject(b, m, false)
	default:
		return fmt.Errorf("a value of type %s can't be stored", v.Type())
	}
	return nil
}

func encodeFloat(b *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("the number %v can't be stored", f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	b.WriteString(s)
	if !strings.ContainsAny(s, ".eE") {
		b.WriteString(".0")
	}
	return nil
}

// encodeString writes s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func encodeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// decodeDoc is the record stored as doc with id, in the plain Go values
// the MongoDB adapter returns.
func decodeDoc(id, doc string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, jqlgate.Internal("record decode", err)
	}
	for k, v := range m {
		m[k] = plainValue(v)
	}
	if m == nil {
		m = map[string]any{}
	}
	m["id"] = id
	return m, nil
}

func plainValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case map[string]any:
		if len(x) == 1 {
			if n, ok := x[dateKey].(json.Number); ok {
				if ms, err := n.Int64(); err == nil {
					return time.UnixMilli(ms).UTC()
				}
			}
		}
		for k, e := range x {
			x[k] = plainValue(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = plainValue(e)
		}
		return x
	}
	return v
}

// roundTrip is rec as a read would return it: stored types, times in
// milliseconds.
func roundTrip(id string, rec map[string]any) (map[string]any, string, error) {
	doc, err := encodeDoc(rec)
	if err != nil {
		return nil, "", jqlgate.Invalid("", "The record can't be stored: %v.", err)
	}
	out, err := decodeDoc(id, doc)
	return out, doc, err
}
