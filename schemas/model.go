package schemas

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/jqlgate/jqlgate"
)

// Field types a model schema may declare.
const (
	TypeString    = "string"
	TypeNumber    = "number"
	TypeInteger   = "integer"
	TypeBoolean   = "boolean"
	TypeDatetime  = "datetime"
	TypeObject    = "object"
	TypeArray     = "array"
	TypeReference = "reference"
)

var fieldTypes = []string{TypeString, TypeNumber, TypeInteger, TypeBoolean, TypeDatetime, TypeObject, TypeArray, TypeReference}

// System fields every model has. Clients never set them.
const (
	FieldID        = "id"
	FieldCreatedAt = "created_at"
	FieldUpdatedAt = "updated_at"
)

// Write actions, which are also the events a model emits.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// CollectionPrefix starts every model collection. jqlgate's own
// collections (auth_*, subscriptions, events, attempts, nodes, meta, …)
// never start with it, so no schema file can name one of them and read or
// write its documents through a model namespace.
const CollectionPrefix = "model_"

// ReservedApp is the app of jqlgate's own controller namespaces
// (system.Webhook, system.User, system.Schema): no schema file may declare
// a model in it.
const ReservedApp = "system"

// reserved names can't be declared: the system fields, and pk (id's alias
// in ordering).
var reserved = []string{FieldID, FieldCreatedAt, FieldUpdatedAt, "pk", "_id"}

var (
	fieldNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
	idPrefixRE  = regexp.MustCompile(`^[a-z]{1,12}$`)
)

// Model is one model namespace as a schema file declares it.
type Model struct {
	// Namespace is "app.Model".
	Namespace   string `json:"namespace" yaml:"namespace"`
	Description string `json:"description,omitempty" yaml:"description"`
	// IDPrefix starts every record id ("cus" gives "cus_…"); by default
	// the first three letters of the model name, lower-cased.
	IDPrefix string `json:"idPrefix,omitempty" yaml:"idPrefix"`
	// Collection is the store collection: by default "model_" and the
	// namespace lower-cased with "_" for ".", so profile.Customer keeps its
	// data in model_profile_customer. An explicit one must start with
	// CollectionPrefix too.
	Collection string      `json:"collection,omitempty" yaml:"collection"`
	Fields     []Field     `json:"fields" yaml:"fields"`
	Indexes    []IndexSpec `json:"indexes,omitempty" yaml:"indexes"`
	Events     []string    `json:"events,omitempty" yaml:"events"`
	// Reverse declares reverse accessors: names under which a retrieve of
	// this model may return, for each record, the records of another model
	// whose reference field points at it.
	Reverse []Reverse `json:"reverse,omitempty" yaml:"reverse"`
	File    string    `json:"-" yaml:"-"`
	byName  map[string]*Field
}

// Reverse is one reverse accessor: Name on this model returns the records
// of Model whose reference field Field names this record.
type Reverse struct {
	Name  string `json:"name" yaml:"name"`
	Model string `json:"model" yaml:"model"`
	Field string `json:"field" yaml:"field"`
}

// ReverseAccessor returns the reverse accessor called name, or nil.
func (m *Model) ReverseAccessor(name string) *Reverse {
	for i := range m.Reverse {
		if m.Reverse[i].Name == name {
			return &m.Reverse[i]
		}
	}
	return nil
}

// Field is one declared field of a model.
type Field struct {
	Name string `json:"name" yaml:"name"`
	Type string `json:"type" yaml:"type"`
	// Validate holds validator/v10 rules, such as "required,email,max=200".
	Validate string `json:"validate,omitempty" yaml:"validate"`
	// Default is stored on create when the field is not given.
	Default any `json:"default,omitempty" yaml:"default"`
	// ReadOnly fields can't be set by clients (only by Default).
	ReadOnly bool `json:"readOnly,omitempty" yaml:"readOnly"`
	// Searchable string fields are matched by __meta__.search.
	Searchable  bool   `json:"searchable,omitempty" yaml:"searchable"`
	Description string `json:"description,omitempty" yaml:"description"`
	// Ref names the model a reference field points to.
	Ref string `json:"ref,omitempty" yaml:"ref"`
	// Example is shown in the event catalogue.
	Example any `json:"example,omitempty" yaml:"example"`
}

// IndexSpec is one index a schema file declares.
type IndexSpec struct {
	Fields []string `json:"fields" yaml:"fields"`
	Unique bool     `json:"unique,omitempty" yaml:"unique"`
}

// Field returns the declared field called name, or nil.
func (m *Model) Field(name string) *Field { return m.byName[name] }

// HasField reports whether name is a declared or system field.
func (m *Model) HasField(name string) bool {
	return m.byName[name] != nil || isSystem(name)
}

// FieldType returns the type of a declared or system field, or "".
func (m *Model) FieldType(name string) string {
	switch name {
	case FieldID:
		return TypeString
	case FieldCreatedAt, FieldUpdatedAt:
		return TypeDatetime
	}
	if f := m.byName[name]; f != nil {
		return f.Type
	}
	return ""
}

// SearchFields returns the names of the searchable fields.
func (m *Model) SearchFields() []string {
	var out []string
	for _, f := range m.Fields {
		if f.Searchable {
			out = append(out, f.Name)
		}
	}
	return out
}

// StoreIndexes returns the indexes to create in the store, the declared
// ones and, when the model has searchable fields, a search index over them.
//
// Besides the schema's own, every model has an index on created_at and on
// updated_at, so "newest first" pages and "changed since" filters (a
// client syncing) read an index at any size, and one on each reference
// field not already first in one, so the records that point at a record
// are found by index.
func (m *Model) StoreIndexes() []jqlgate.Index {
	out := make([]jqlgate.Index, len(m.Indexes), len(m.Indexes)+3)
	first := map[string]bool{}
	for i, ix := range m.Indexes {
		out[i] = jqlgate.Index{Fields: ix.Fields, Unique: ix.Unique}
		first[ix.Fields[0]] = true
	}
	for _, f := range m.Fields {
		if f.Type == TypeReference && !first[f.Name] {
			out = append(out, jqlgate.Index{Fields: []string{f.Name}})
		}
	}
	out = append(out, jqlgate.Index{Fields: []string{FieldCreatedAt}}, jqlgate.Index{Fields: []string{FieldUpdatedAt}})
	if search := m.SearchFields(); len(search) > 0 {
		out = append(out, jqlgate.Index{Fields: search, Search: true})
	}
	return out
}

// UniqueFields returns the fields that have a single-field unique index.
func (m *Model) UniqueFields() []string {
	var out []string
	for _, ix := range m.Indexes {
		if ix.Unique && len(ix.Fields) == 1 {
			out = append(out, ix.Fields[0])
		}
	}
	return out
}

// Emits reports whether the model emits an event for action.
func (m *Model) Emits(action string) bool { return slices.Contains(m.Events, action) }

// EventType returns "app.Model:action".
func (m *Model) EventType(action string) string { return m.Namespace + ":" + action }

// ValidID reports whether id has the form of this model's record ids.
func (m *Model) ValidID(id string) bool {
	rest, ok := strings.CutPrefix(id, m.IDPrefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, r := range rest {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", r) {
			return false
		}
	}
	return true
}

// NewID returns a new record id for this model.
func (m *Model) NewID() string { return jqlgate.NewID(m.IDPrefix) }

func isSystem(name string) bool {
	return name == FieldID || name == FieldCreatedAt || name == FieldUpdatedAt
}

// check validates a parsed schema and fills in defaults. Errors name the
// offending key, as "fields[2].type".
func (m *Model) check() error {
	if !jqlgate.ValidNamespace(m.Namespace) {
		return fmt.Errorf("namespace: %q is not of the form app.Model", m.Namespace)
	}
	if app, _, _ := strings.Cut(m.Namespace, "."); strings.EqualFold(app, ReservedApp) {
		return fmt.Errorf("namespace: %q is reserved: the %s app holds jqlgate's own namespaces; choose another app name", m.Namespace, ReservedApp)
	}
	if err := m.checkNames(); err != nil {
		return err
	}
	m.byName = make(map[string]*Field, len(m.Fields))
	for i := range m.Fields {
		f := &m.Fields[i]
		if err := checkField(f); err != nil {
			return fmt.Errorf("fields[%d] (%s): %w", i, f.Name, err)
		}
		if m.byName[f.Name] != nil {
			return fmt.Errorf("fields[%d]: %q is declared twice", i, f.Name)
		}
		m.byName[f.Name] = f
	}
	if err := m.checkIndexes(); err != nil {
		return err
	}
	return m.checkEvents()
}

func (m *Model) checkNames() error {
	_, model, _ := strings.Cut(m.Namespace, ".")
	if m.IDPrefix == "" {
		m.IDPrefix = defaultPrefix(model)
	}
	if !idPrefixRE.MatchString(m.IDPrefix) {
		return fmt.Errorf("idPrefix: %q must be 1 to 12 lower-case letters", m.IDPrefix)
	}
	if m.Collection == "" {
		m.Collection = CollectionPrefix + strings.ToLower(strings.ReplaceAll(m.Namespace, ".", "_"))
	}
	if !fieldNameRE.MatchString(m.Collection) {
		return fmt.Errorf("collection: %q must be letters, digits and underscores", m.Collection)
	}
	if !strings.HasPrefix(m.Collection, CollectionPrefix) || len(m.Collection) == len(CollectionPrefix) {
		return fmt.Errorf("collection: %q must start with %q (model collections never share a name with jqlgate's own)", m.Collection, CollectionPrefix)
	}
	if len(m.Fields) == 0 {
		return fmt.Errorf("fields: at least one field is required")
	}
	return nil
}

func defaultPrefix(model string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(model) {
		if b.Len() == 3 {
			break
		}
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "rec"
	}
	return b.String()
}

func checkField(f *Field) error {
	switch {
	case !fieldNameRE.MatchString(f.Name) || strings.Contains(f.Name, "__"):
		return fmt.Errorf("name: %q must start with a letter and hold only letters, digits and single underscores", f.Name)
	case slices.Contains(reserved, f.Name):
		return fmt.Errorf("name: %q is a system field", f.Name)
	case !slices.Contains(fieldTypes, f.Type):
		return fmt.Errorf("type: %q is not one of %s", f.Type, strings.Join(fieldTypes, ", "))
	case f.Type == TypeReference && !jqlgate.ValidNamespace(f.Ref):
		return fmt.Errorf("ref: a reference field needs ref: app.Model, not %q", f.Ref)
	case f.Type != TypeReference && f.Ref != "":
		return fmt.Errorf("ref: only reference fields take ref")
	case f.Searchable && f.Type != TypeString:
		return fmt.Errorf("searchable: only string fields can be searchable")
	}
	if err := checkRules(f); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return checkDefault(f)
}

func checkDefault(f *Field) error {
	if f.Default == nil {
		return nil
	}
	v, err := coerce(f, f.Default)
	if err != nil {
		return fmt.Errorf("default: %v", err)
	}
	if err := Default().Var(f.Name, v, ruleTag(f.Validate)); err != nil {
		return fmt.Errorf("default: %v", jqlgate.AsError(err).Message)
	}
	f.Default = v
	return nil
}

// checkRules makes sure the validator knows every rule and that the rules
// suit the field's type: validator panics on an unknown rule.
func checkRules(f *Field) (err error) {
	tag := ruleTag(f.Validate)
	if tag == "" {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%q: %v", f.Validate, r)
		}
	}()
	_ = Default().Engine().Var(zeroValue(f.Type), tag)
	return nil
}

func (m *Model) checkIndexes() error {
	for i, ix := range m.Indexes {
		if len(ix.Fields) == 0 {
			return fmt.Errorf("indexes[%d]: fields is empty", i)
		}
		for _, name := range ix.Fields {
			if !m.HasField(name) {
				return fmt.Errorf("indexes[%d]: field %q is not declared", i, name)
			}
		}
	}
	return nil
}

func (m *Model) checkEvents() error {
	if m.Events == nil {
		m.Events = []string{ActionCreate, ActionUpdate, ActionDelete}
	}
	for i, e := range m.Events {
		if e != ActionCreate && e != ActionUpdate && e != ActionDelete {
			return fmt.Errorf("events[%d]: %q is not one of create, update, delete", i, e)
		}
	}
	return nil
}

// ruleTag returns the rules validator checks on a present value: required
// is about presence, which the model checks itself (validator would refuse
// a zero such as 0 or false).
func ruleTag(rules string) string {
	var keep []string
	for _, r := range strings.Split(rules, ",") {
		r = strings.TrimFunc(r, unicode.IsSpace)
		if r != "" && r != "required" {
			keep = append(keep, r)
		}
	}
	return strings.Join(keep, ",")
}

// Required reports whether the field's rules include required.
func (f *Field) Required() bool {
	for _, r := range strings.Split(f.Validate, ",") {
		if strings.TrimSpace(r) == "required" {
			return true
		}
	}
	return false
}
