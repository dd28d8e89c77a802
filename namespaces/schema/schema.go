// Package schema serves system.Schema describe: every namespace and intent
// the mux holds, with their fields, for clients and the console. It
// imports only the root and namespaces.
package schema

import (
	"context"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
)

// Register registers system.Schema describe on m: it answers every
// namespace registered on m with its schema, intents and their fields.
// Describe is public, as API discovery carries no data.
func Register(m *namespaces.Mux) {
	m.HandleFunc("system.Schema", jqlgate.SchemaController, "describe",
		func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
			list := m.Describe()
			return &jqlgate.Result{Data: list, Message: "Schema described.", Filtered: len(list), Display: len(list)}, nil
		},
		namespaces.IntentSpec{Summary: "Lists every namespace with its schema, intents and the fields each takes.", Public: true})
}
