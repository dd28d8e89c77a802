package namespaces

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jqlgate/jqlgate"
)

// FieldSpec describes one field an intent takes.
type FieldSpec struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Description string `json:"description,omitempty"`
}

// IntentSpec describes an intent for system.Schema describe, and says
// whether it may be called without a token.
type IntentSpec struct {
	Summary string
	Fields  []FieldSpec
	// Public intents skip authentication (system.User authenticate).
	Public bool
}

// IntentInfo is one intent as Describe reports it.
type IntentInfo struct {
	Intent  string      `json:"intent"`
	Summary string      `json:"summary"`
	Public  bool        `json:"public"`
	Fields  []FieldSpec `json:"fields"`
}

// NamespaceInfo is one namespace as Describe reports it.
type NamespaceInfo struct {
	Namespace string       `json:"namespace"`
	Schema    string       `json:"schema"`
	Intents   []IntentInfo `json:"intents"`
}

// Mux routes commands by namespace and intent. Register every route at
// start-up; lookups are safe for concurrent use.
type Mux struct {
	mu     sync.RWMutex
	spaces map[string]*space
}

type space struct {
	schema  string
	intents map[string]route
}

type route struct {
	h    jqlgate.Handler
	spec IntentSpec
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{spaces: map[string]*space{}} }

// Handle registers h for intent on namespace, addressed as schema (model or
// controller). Like http.ServeMux.Handle it panics on a programming error:
// a malformed namespace or intent, an unknown schema, a nil handler, a
// namespace registered under two schemas, or a route registered twice.
func (m *Mux) Handle(namespace, schema, intent string, h jqlgate.Handler, spec IntentSpec) {
	if err := checkRoute(namespace, schema, intent, h); err != nil {
		panic("namespaces: " + err.Error())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sp := m.spaces[namespace]
	if sp == nil {
		sp = &space{schema: schema, intents: map[string]route{}}
		m.spaces[namespace] = sp
	}
	if sp.schema != schema {
		panic(fmt.Sprintf("namespaces: %s is a %s namespace, not a %s one", namespace, sp.schema, schema))
	}
	if _, dup := sp.intents[intent]; dup {
		panic(fmt.Sprintf("namespaces: %s:%s registered twice", namespace, intent))
	}
	sp.intents[intent] = route{h: h, spec: spec}
}

// HandleFunc registers a function as the handler for intent on namespace.
func (m *Mux) HandleFunc(namespace, schema, intent string, f func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error), spec IntentSpec) {
	m.Handle(namespace, schema, intent, jqlgate.HandlerFunc(f), spec)
}

func checkRoute(namespace, schema, intent string, h jqlgate.Handler) error {
	switch {
	case !jqlgate.ValidNamespace(namespace):
		return fmt.Errorf("namespace %q is not of the form app.Model", namespace)
	case schema != jqlgate.SchemaModel && schema != jqlgate.SchemaController:
		return fmt.Errorf("schema %q of %s is neither model nor controller", schema, namespace)
	case !jqlgate.ValidPermission(namespace + ":" + intent):
		return fmt.Errorf("intent %q of %s is not a valid name", intent, namespace)
	case h == nil:
		return fmt.Errorf("nil handler for %s:%s", namespace, intent)
	}
	return nil
}

// Serve runs the command on the handler registered for its namespace and
// intent. An unknown namespace is ENOTFOUND; a schema that does not match
// the namespace's, or an intent it does not have, is EINVALID.
func (m *Mux) Serve(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	h, err := m.lookup(cmd.Meta)
	if err != nil {
		return nil, err
	}
	return h.Handle(ctx, cmd)
}

// Handler returns m as a jqlgate.Handler. (Mux cannot be one itself: its
// Handle method registers routes, as http.ServeMux's does.)
func (m *Mux) Handler() jqlgate.Handler { return jqlgate.HandlerFunc(m.Serve) }

func (m *Mux) lookup(meta jqlgate.Meta) (jqlgate.Handler, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	sp := m.spaces[meta.Namespace]
	if sp == nil {
		e := jqlgate.Errorf(jqlgate.ENOTFOUND, "Namespace %s does not exist.", meta.Namespace)
		e.Field = "__meta__.namespace"
		return nil, e
	}
	if meta.Schema != sp.schema {
		return nil, jqlgate.Invalid("__meta__.schema", "%s is a %s namespace, so __meta__.schema must be %q.", meta.Namespace, sp.schema, sp.schema)
	}
	r, ok := sp.intents[meta.Intent]
	if !ok {
		return nil, jqlgate.Invalid("__meta__.intent", "%s has no intent %q; valid intents: %s.", meta.Namespace, meta.Intent, strings.Join(sp.names(), ", "))
	}
	return r.h, nil
}

func (sp *space) names() []string {
	names := make([]string, 0, len(sp.intents))
	for name := range sp.intents {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Has reports whether intent is registered on namespace.
func (m *Mux) Has(namespace, intent string) bool {
	_, ok := m.route(namespace, intent)
	return ok
}

// IsPublic reports whether intent on namespace may be called without a
// token. Unknown routes are not public.
func (m *Mux) IsPublic(namespace, intent string) bool {
	r, ok := m.route(namespace, intent)
	return ok && r.spec.Public
}

func (m *Mux) route(namespace, intent string) (route, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	sp := m.spaces[namespace]
	if sp == nil {
		return route{}, false
	}
	r, ok := sp.intents[intent]
	return r, ok
}

// Describe returns every namespace with its schema, intents and fields,
// sorted by namespace and intent.
func (m *Mux) Describe() []NamespaceInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]NamespaceInfo, 0, len(m.spaces))
	for name, sp := range m.spaces {
		info := NamespaceInfo{Namespace: name, Schema: sp.schema, Intents: []IntentInfo{}}
		for _, intent := range sp.names() {
			spec := sp.intents[intent].spec
			fields := spec.Fields
			if fields == nil {
				fields = []FieldSpec{}
			}
			info.Intents = append(info.Intents, IntentInfo{Intent: intent, Summary: spec.Summary, Public: spec.Public, Fields: fields})
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b NamespaceInfo) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out
}
