package schemas

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/jqlgate/jqlgate"
)

// Members records which members a JSON object held, and which of them were
// null: what a pointer alone can't tell on an update, where an absent
// member keeps a stored value and a null one resets it. A struct field of
// this type (tagged json:"-") is filled by Decode.
type Members struct {
	given map[string]bool // member name: whether it was null
}

// Given reports whether the object had the member name (null or not).
func (m Members) Given(name string) bool {
	_, ok := m.given[name]
	return ok
}

// Null reports whether the object had the member name set to null.
func (m Members) Null(name string) bool { return m.given[name] }

// Set reports whether the object had the member name with a value other
// than null.
func (m Members) Set(name string) bool { return m.Given(name) && !m.Null(name) }

// Decode sets dst, a pointer to a struct, from the members of fields, as
// encoding/json would, but reports every problem rather than the first:
// each unknown member, and each value of the wrong JSON type, under its
// path below prefix (such as "retryPolicy.schedule[2]" or "headers.X-Foo").
// A value that fails is left at its zero value, so list indexes keep their
// places. Numbers may be json.Number or any Go number. null leaves a
// pointer, map, slice or interface nil; anywhere else it is a wrong type.
func Decode(prefix string, fields map[string]any, dst any) []jqlgate.FieldError {
	d := &decoder{}
	d.object(strings.TrimSuffix(prefix, "."), fields, reflect.ValueOf(dst).Elem())
	return d.errs
}

type decoder struct {
	errs []jqlgate.FieldError
}

func (d *decoder) fail(field, format string, args ...any) {
	d.errs = append(d.errs, jqlgate.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// structInfo is what Decode needs of a struct type, worked out once.
type structInfo struct {
	fields  map[string][]int // JSON name: index path of the field
	names   []string         // JSON names, sorted
	members []int            // index path of the Members field, or nil
}

var structInfos sync.Map // reflect.Type: *structInfo

var membersType = reflect.TypeFor[Members]()

func infoOf(t reflect.Type) *structInfo {
	if info, ok := structInfos.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{fields: map[string][]int{}}
	for _, f := range reflect.VisibleFields(t) {
		switch {
		case f.Type == membersType:
			info.members = f.Index
		case f.Anonymous, !f.IsExported():
		default:
			if name := jsonName(f); name != "" {
				info.fields[name] = f.Index
				info.names = append(info.names, name)
			}
		}
	}
	slices.Sort(info.names)
	structInfos.Store(t, info)
	return info
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// object decodes the members of m into the struct v.
func (d *decoder) object(path string, m map[string]any, v reflect.Value) {
	info := infoOf(v.Type())
	given := make(map[string]bool, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		index, ok := info.fields[k]
		if !ok {
			valid := make([]string, len(info.names))
			for i, n := range info.names {
				valid[i] = join(path, n)
			}
			d.fail(join(path, k), "is not a field of this intent; valid fields: %s", strings.Join(valid, ", "))
			continue
		}
		given[k] = m[k] == nil
		d.value(join(path, k), m[k], v.FieldByIndex(index))
	}
	if info.members != nil {
		v.FieldByIndex(info.members).Set(reflect.ValueOf(Members{given: given}))
	}
}

// value decodes raw into v, reporting a wrong type under path.
func (d *decoder) value(path string, raw any, v reflect.Value) {
	if raw == nil {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		default:
			d.fail(path, "%s", typeMessage(v.Type()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.value(path, raw, p.Elem())
		v.Set(p)
	case reflect.Interface:
		v.Set(reflect.ValueOf(raw))
	case reflect.String:
		if s, ok := raw.(string); ok {
			v.SetString(s)
		} else {
			d.fail(path, "%s", typeMessage(v.Type()))
		}
	case reflect.Bool:
		if b, ok := raw.(bool); ok {
			v.SetBool(b)
		} else {
			d.fail(path, "%s", typeMessage(v.Type()))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.integer(path, raw, v)
	case reflect.Float32, reflect.Float64:
		if f, ok := number(raw); ok {
			v.SetFloat(f)
		} else {
			d.fail(path, "%s", typeMessage(v.Type()))
		}
	case reflect.Slice:
		d.list(path, raw, v)
	case reflect.Map:
		d.mapping(path, raw, v)
	case reflect.Struct:
		if m, ok := raw.(map[string]any); ok {
			d.object(path, m, v)
		} else {
			d.fail(path, "%s", typeMessage(v.Type()))
		}
	default:
		panic("schemas.Decode: unsupported field type " + v.Type().String())
	}
}

// integer stores a whole number, clamped to v's range so that the
// validator's bounds report a number too large for it.
func (d *decoder) integer(path string, raw any, v reflect.Value) {
	f, ok := number(raw)
	switch {
	case !ok:
		d.fail(path, "must be a number")
	case f != math.Trunc(f):
		d.fail(path, "must be a whole number")
	default:
		bits := v.Type().Bits()
		limit := math.Ldexp(1, bits-1) // 2^63 itself is not an int64
		switch {
		case f >= limit:
			v.SetInt(math.MaxInt64 >> (64 - bits))
		case f < -limit:
			v.SetInt(-int64(uint64(1)<<(bits-1)>>1) * 2)
		default:
			v.SetInt(int64(f))
		}
	}
}

func (d *decoder) list(path string, raw any, v reflect.Value) {
	l, ok := raw.([]any)
	if !ok {
		d.fail(path, "must be a list")
		return
	}
	out := reflect.MakeSlice(v.Type(), len(l), len(l))
	for i, e := range l {
		d.value(fmt.Sprintf("%s[%d]", path, i), e, out.Index(i))
	}
	v.Set(out)
}

func (d *decoder) mapping(path string, raw any, v reflect.Value) {
	m, ok := raw.(map[string]any)
	if !ok || v.Type().Key().Kind() != reflect.String {
		d.fail(path, "must be an object")
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(m))
	for k, e := range m {
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(path+"."+k, e, ev)
		out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
	}
	v.Set(out)
}

// number reads a JSON number as decoded with or without UseNumber, or a
// Go number given by an in-process caller.
func number(raw any) (float64, bool) {
	var f float64
	switch n := raw.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// typeMessage says which JSON type a field of type t takes.
func typeMessage(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "must be a whole number"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.Slice:
		return "must be a list"
	case reflect.Map, reflect.Struct:
		return "must be an object"
	}
	return "has the wrong type"
}
