package namespaces

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// Route is one intent of a controller namespace and its handler.
type Route struct {
	Intent string
	Fn     func(context.Context, *jqlgate.Command) (*jqlgate.Result, error)
}

// HandleControllers registers each route on m as a controller intent of
// namespace, described by its entry in specs.
func (m *Mux) HandleControllers(namespace string, specs map[string]IntentSpec, routes []Route) {
	for _, r := range routes {
		m.HandleFunc(namespace, jqlgate.SchemaController, r.Intent, r.Fn, specs[r.Intent])
	}
}

// Field is a short constructor for FieldSpec.
func Field(name, typ string, required bool, desc string) FieldSpec {
	return FieldSpec{Name: name, Type: typ, Required: required, Description: desc}
}
