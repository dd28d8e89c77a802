package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jqlgate/jqlgate"
)

//go:embed models/*.yaml
var builtin embed.FS

// Set is every loaded model schema, by namespace.
type Set struct {
	models []*Model
	byNS   map[string]*Model
}

// LoadModels loads the built-in model schemas and then every .json, .yaml
// and .yml file in dir (when dir is not empty). A schema that fails its
// checks, or a namespace or collection declared twice, is an error naming
// the file and the key.
func LoadModels(dir string) (*Set, error) {
	s := &Set{byNS: map[string]*Model{}}
	if err := s.loadFS(builtin, "models", "built-in "); err != nil {
		return nil, err
	}
	if dir != "" {
		if err := s.loadFS(os.DirFS(dir), ".", dir+"/"); err != nil {
			return nil, err
		}
	}
	return s, s.checkRefs()
}

func (s *Set) loadFS(fsys fs.FS, dir, label string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("model schemas in %s: %w", strings.TrimSuffix(label, "/"), err)
	}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".json" && ext != ".yaml" && ext != ".yml") {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("schema %s%s: %w", label, e.Name(), err)
		}
		m, err := ParseModel(label+e.Name(), data)
		if err != nil {
			return err
		}
		if err := s.add(m); err != nil {
			return err
		}
	}
	return nil
}

// ParseModel parses and checks one schema file; name is used in errors and
// its extension picks JSON or YAML. Unknown keys are errors.
func ParseModel(name string, data []byte) (*Model, error) {
	m := &Model{File: name}
	var err error
	if strings.HasSuffix(name, ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		err = dec.Decode(m)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(m)
		if errors.Is(err, io.EOF) {
			err = errors.New("the file is empty")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return m, nil
}

func (s *Set) add(m *Model) error {
	for _, o := range s.models {
		switch {
		case o.Namespace == m.Namespace:
			return fmt.Errorf("schema %s: namespace %s is already declared by %s", m.File, m.Namespace, o.File)
		case o.Collection == m.Collection:
			return fmt.Errorf("schema %s: collection %s is already used by %s", m.File, m.Collection, o.File)
		}
	}
	s.models = append(s.models, m)
	s.byNS[m.Namespace] = m
	return nil
}

func (s *Set) checkRefs() error {
	for _, m := range s.models {
		for i, f := range m.Fields {
			if f.Type == TypeReference && s.byNS[f.Ref] == nil {
				return fmt.Errorf("schema %s: fields[%d] (%s): ref: no model %s is loaded", m.File, i, f.Name, f.Ref)
			}
		}
		seen := map[string]bool{}
		for i, r := range m.Reverse {
			other := s.byNS[r.Model]
			var f *Field
			if other != nil {
				f = other.Field(r.Field)
			}
			switch {
			case !fieldNameRE.MatchString(r.Name) || slices.Contains(reserved, r.Name):
				return fmt.Errorf("schema %s: reverse[%d]: name %q is not a field name", m.File, i, r.Name)
			case m.HasField(r.Name) || seen[r.Name]:
				return fmt.Errorf("schema %s: reverse[%d]: name %q is already a field or accessor of %s", m.File, i, r.Name, m.Namespace)
			case other == nil:
				return fmt.Errorf("schema %s: reverse[%d] (%s): model: no model %s is loaded", m.File, i, r.Name, r.Model)
			case f == nil || f.Type != TypeReference || f.Ref != m.Namespace:
				return fmt.Errorf("schema %s: reverse[%d] (%s): field: %s.%s is not a reference to %s", m.File, i, r.Name, r.Model, r.Field, m.Namespace)
			}
			seen[r.Name] = true
		}
	}
	return nil
}

// Models returns every model, in load order (built-in first).
func (s *Set) Models() []*Model { return slices.Clone(s.models) }

// Model returns the model of namespace, or nil.
func (s *Set) Model(namespace string) *Model { return s.byNS[namespace] }

// EventTypes lists every event the models emit, "app.Model:action", each
// with an example of its data: a record as retrieve returns it.
func (s *Set) EventTypes() []jqlgate.EventType {
	var out []jqlgate.EventType
	for _, m := range s.models {
		for _, action := range m.Events {
			out = append(out, jqlgate.EventType{
				Name:        m.EventType(action),
				Description: eventDescription(m, action),
				Example:     m.Example(),
			})
		}
	}
	return out
}

func eventDescription(m *Model, action string) string {
	past := map[string]string{ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "deleted"}[action]
	return fmt.Sprintf("A %s record was %s.", m.Namespace, past)
}

// Example returns a record of this model built from each field's example,
// default or type.
func (m *Model) Example() map[string]any {
	at := time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)
	rec := map[string]any{FieldID: m.IDPrefix + "_01hq3z8y5k2m4n6p8r0t2v4w6x", FieldCreatedAt: at, FieldUpdatedAt: at}
	for _, f := range m.Fields {
		rec[f.Name] = exampleValue(f)
	}
	return rec
}

func exampleValue(f Field) any {
	switch {
	case f.Example != nil:
		return f.Example
	case f.Default != nil:
		if t, ok := f.Default.(time.Time); ok {
			return t.Format(time.RFC3339)
		}
		return f.Default
	}
	switch f.Type {
	case TypeNumber:
		return 1.5
	case TypeInteger:
		return 1
	case TypeBoolean:
		return true
	case TypeDatetime:
		return "2024-01-31T12:00:00Z"
	case TypeObject:
		return map[string]any{}
	case TypeArray:
		return []any{}
	case TypeReference:
		return "ref_01hq3z8y5k2m4n6p8r0t2v4w6x"
	}
	if strings.Contains(f.Validate, "email") {
		return "user@example.com"
	}
	return "text"
}
