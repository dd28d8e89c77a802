// Package schemas holds jqlgate's payload structs, model schema files and
// the one validator/v10 instance every layer validates with.
package schemas

import (
	"errors"
	"fmt"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/go-playground/validator/v10"

	"github.com/jqlgate/jqlgate"
)

// Validator wraps the process's one *validator.Validate (it caches struct
// metadata, so it is built once). It implements echo.Validator, and turns
// validator.ValidationErrors into a jqlgate EINVALID error listing every
// field problem under its JSON name.
type Validator struct {
	v *validator.Validate
}

var defaultValidator = sync.OnceValue(newValidator)

// Default returns the shared Validator.
func Default() *Validator { return defaultValidator() }

func newValidator() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(jsonName)
	must(v.RegisterValidation("namespace", func(fl validator.FieldLevel) bool {
		return jqlgate.ValidNamespace(fl.Field().String())
	}))
	must(v.RegisterValidation("permission", func(fl validator.FieldLevel) bool {
		return jqlgate.ValidPermission(fl.Field().String())
	}))
	for tag, rule := range rules {
		must(v.RegisterValidation(tag, rule))
	}
	v.RegisterStructValidationMapRules(metaRules, jqlgate.Meta{})
	return &Validator{v: v}
}

// rules are the custom validation tags, registered once on the one
// validator: model schemas and request inputs share them.
var rules = map[string]validator.Func{
	// text: no control characters (line breaks, NUL, escapes).
	"text": func(fl validator.FieldLevel) bool {
		return !strings.ContainsFunc(fl.Field().String(), unicode.IsControl)
	},
	// trigger: an event type a webhook can subscribe to, in the form
	// app.Model:action, app.Model:* or *.
	"trigger": func(fl validator.FieldLevel) bool {
		return jqlgate.ValidPermission(fl.Field().String())
	},
	// header_name: an HTTP field name (RFC 9110 token).
	"header_name": func(fl validator.FieldLevel) bool {
		return jqlgate.ValidHeaderName(fl.Field().String())
	},
	// header_settable: a custom header a subscription may set.
	"header_settable": func(fl validator.FieldLevel) bool {
		return jqlgate.HeaderForbidden(fl.Field().String()) == ""
	},
	// header_value: a value that can't split the request's headers.
	"header_value": func(fl validator.FieldLevel) bool {
		return !strings.ContainsAny(fl.Field().String(), "\r\n\x00")
	},
	// oneof_fold: oneof, matched without regard to case.
	"oneof_fold": func(fl validator.FieldLevel) bool {
		return slices.ContainsFunc(strings.Fields(fl.Param()), func(c string) bool {
			return strings.EqualFold(c, fl.Field().String())
		})
	},
	// rate: requests per second, 0 (no limit) or from 0.01 to 10000; a
	// tinier rate would hold deliveries for ever.
	"rate": func(fl validator.FieldLevel) bool {
		f := fl.Field().Float()
		return f == 0 || f >= 0.01 && f <= 10000
	},
	// retry_delay: seconds before a retry, from 1 ms to 30 days.
	"retry_delay": func(fl validator.FieldLevel) bool {
		f := fl.Field().Float()
		return f >= 0.001 && f <= 30*24*3600
	},
}

// Fold returns the choice of choices (space-separated, as oneof_fold's
// parameter) that s matches without regard to case, or s.
func Fold(s, choices string) string {
	for _, c := range strings.Fields(choices) {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	return s
}

// metaRules are the validation rules of the envelope's __meta__ block.
// jqlgate.Meta lives in the root package, which carries no validator tags.
var metaRules = map[string]string{
	"Namespace":           "required,namespace",
	"Schema":              "required,oneof=model controller",
	"Intent":              "required,max=64,alphanum",
	"AuthenticationClass": "omitempty,oneof=oauth2 apiKey jwt",
	"AuthenticationToken": "max=8192",
	"Ordering":            "max=16,dive,min=1,max=128",
	"Limit":               "omitempty,min=0,max=1000",
	"Offset":              "omitempty,min=0,max=1000000000",
	"Draw":                "omitempty,min=0",
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// jsonName names a struct field by its JSON key, so errors speak the
// client's vocabulary.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// Engine returns the underlying validator, for registering more rules at
// start-up (before any request is validated).
func (v *Validator) Engine() *validator.Validate { return v.v }

// Validate validates a struct by its validate tags (and registered rules).
// It implements echo.Validator. Field names in the returned error are JSON
// paths below the struct, such as "namespace" or "address.city".
func (v *Validator) Validate(i any) error {
	return Translate(v.v.Struct(i), "")
}

// Var validates one value against a tag, naming it field in the error.
func (v *Validator) Var(field string, value any, tag string) error {
	err := v.v.Var(value, tag)
	var verrs validator.ValidationErrors
	if errors.As(err, &verrs) {
		out := make([]jqlgate.FieldError, len(verrs))
		for i, fe := range verrs {
			out[i] = jqlgate.FieldError{Field: field, Message: field + " " + message(fe)}
		}
		return jqlgate.InvalidFields(out)
	}
	return err
}

// Translate turns validator.ValidationErrors into an EINVALID *jqlgate.Error
// with one FieldError per problem, each field prefixed with prefix (such as
// "__meta__."). Other errors are returned as they are.
func Translate(err error, prefix string) error {
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	out := make([]jqlgate.FieldError, len(verrs))
	for i, fe := range verrs {
		field := prefix + fieldPath(fe.Namespace())
		out[i] = jqlgate.FieldError{Field: field, Message: field + " " + message(fe)}
	}
	return jqlgate.InvalidFields(out)
}

// fieldPath drops the struct type name validator puts first.
func fieldPath(ns string) string {
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

// message says what is wrong with a field, in words a client can act on.
func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "namespace":
		return "must have the form app.Model"
	case "permission":
		return "must be a permission such as app.Model:intent, app.Model:* or *"
	case "alphanum":
		return "must contain only letters and digits"
	case "min", "gte":
		return boundMessage(fe, "at least")
	case "max", "lte":
		return boundMessage(fe, "at most")
	case "email":
		return "must be an email address"
	case "url", "http_url":
		return "must be a URL"
	case "text":
		return "must not contain control characters"
	case "trigger":
		return "must be a trigger such as app.Model:action, app.Model:* or *"
	case "header_name":
		return "is not a valid header name"
	case "header_settable":
		name := textproto.CanonicalMIMEHeaderKey(fe.Value().(string))
		return name + " " + jqlgate.HeaderForbidden(name)
	case "header_value":
		return "must not contain line breaks"
	case "oneof_fold":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "excludes":
		return fmt.Sprintf("must not contain %q", fe.Param())
	case "rate":
		return "must be 0 (no limit) or a number between 0.01 and 10000"
	case "retry_delay":
		return "must be seconds between 0.001 and 2592000 (30 days)"
	}
	return fmt.Sprintf("failed the %q rule", fe.Tag())
}

func boundMessage(fe validator.FieldError, bound string) string {
	switch fe.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		if bound == "at least" && fe.Param() == "1" {
			return "must not be empty"
		}
	}
	switch fe.Kind() {
	case reflect.String:
		return fmt.Sprintf("must be %s %s characters long", bound, fe.Param())
	case reflect.Slice, reflect.Array, reflect.Map:
		if fe.Param() == "1" {
			return fmt.Sprintf("must have %s 1 item", bound)
		}
		return fmt.Sprintf("must have %s %s items", bound, fe.Param())
	}
	return fmt.Sprintf("must be %s %s", bound, fe.Param())
}
