package schemas

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/jqlgate/jqlgate"
)

// Input decodes a request's fields into dst, a pointer to an input struct
// (see Decode), then validates it by its validate tags. It returns every
// problem, each under its JSON path below prefix (such as
// "retryPolicy.schedule[2]", "headers.X-Foo" or "triggers[1]"), with a
// message that does not repeat the field's name. A field whose JSON type
// is wrong is reported once, for its type.
func (v *Validator) Input(prefix string, fields map[string]any, dst any) []jqlgate.FieldError {
	errs := Decode(prefix, fields, dst)
	var verrs validator.ValidationErrors
	if !errors.As(v.v.Struct(dst), &verrs) {
		return errs
	}
	decoded := len(errs)
	for _, fe := range verrs {
		field := inputPath(strings.TrimSuffix(prefix, "."), reflect.TypeOf(dst), fe.StructNamespace())
		if !under(errs[:decoded], field) {
			errs = append(errs, jqlgate.FieldError{Field: field, Message: message(fe)})
		}
	}
	return errs
}

// under reports whether field is, or lies inside, one of errs' fields.
func under(errs []jqlgate.FieldError, field string) bool {
	for _, e := range errs {
		if field == e.Field || strings.HasPrefix(field, e.Field+".") || strings.HasPrefix(field, e.Field+"[") {
			return true
		}
	}
	return false
}

// inputPath turns a validator struct namespace (Go names, such as
// "SubscribeInput.Headers[X-Foo]") into the JSON path a client wrote
// ("headers.X-Foo"): JSON names, embedded structs left out, map keys
// after a dot and list indexes in brackets.
func inputPath(prefix string, t reflect.Type, ns string) string {
	_, ns, _ = strings.Cut(ns, ".") // the type's own name
	path := prefix
	for ns != "" {
		t = deref(t)
		if ns[0] == '[' {
			key, rest, _ := strings.Cut(ns[1:], "]")
			if t.Kind() == reflect.Map {
				path = join(path, key)
			} else {
				path += "[" + key + "]"
			}
			t, ns = t.Elem(), strings.TrimPrefix(rest, ".")
			continue
		}
		end := strings.IndexAny(ns, ".[")
		if end < 0 {
			end = len(ns)
		}
		name := ns[:end]
		ns = strings.TrimPrefix(ns[end:], ".")
		f, ok := t.FieldByName(name)
		if !ok {
			return join(path, name+ns)
		}
		if !f.Anonymous {
			path = join(path, jsonName(f))
		}
		t = f.Type
	}
	return path
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
