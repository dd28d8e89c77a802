package schemas

import (
	"sort"

	"github.com/jqlgate/jqlgate"
)

// CheckCreate validates the fields of a create command and returns them
// coerced to their declared types, with defaults filled in. Every problem is
// reported at once, each under its field name: unknown and read-only fields,
// missing required fields, values that don't fit the type, broken rules.
func (m *Model) CheckCreate(fields map[string]any) (map[string]any, error) {
	out, problems := m.checkFields(fields)
	for i := range m.Fields {
		f := &m.Fields[i]
		if _, given := fields[f.Name]; given {
			continue
		}
		switch {
		case f.Default != nil:
			out[f.Name] = f.Default
		case f.Required():
			problems = append(problems, jqlgate.FieldError{Field: f.Name, Message: f.Name + " is required"})
		}
	}
	return out, invalid(problems)
}

// CheckUpdate validates the fields of a partial update like CheckCreate,
// but only the fields given; at least one is needed.
func (m *Model) CheckUpdate(fields map[string]any) (map[string]any, error) {
	if len(fields) == 0 {
		return nil, jqlgate.Invalid("", "Give at least one field to update.")
	}
	out, problems := m.checkFields(fields)
	return out, invalid(problems)
}

func (m *Model) checkFields(fields map[string]any) (map[string]any, []jqlgate.FieldError) {
	out := make(map[string]any, len(fields)+len(m.Fields))
	var problems []jqlgate.FieldError
	for _, name := range sortedKeys(fields) {
		v, err := m.checkValue(name, fields[name])
		if err != nil {
			problems = append(problems, fieldProblems(name, err)...)
			continue
		}
		out[name] = v
	}
	return out, problems
}

func (m *Model) checkValue(name string, v any) (any, error) {
	f := m.byName[name]
	switch {
	case isSystem(name) || (f != nil && f.ReadOnly):
		return nil, jqlgate.Invalid(name, "%s is read-only", name)
	case f == nil:
		return nil, jqlgate.Invalid(name, "%s is not a field of %s", name, m.Namespace)
	case v == nil && f.Required():
		return nil, jqlgate.Invalid(name, "%s is required", name)
	case v == nil:
		return nil, nil
	}
	cv, err := coerce(f, v)
	if err != nil {
		return nil, jqlgate.Invalid(name, "%s %s", name, err.Error())
	}
	if tag := ruleTag(f.Validate); tag != "" {
		if err := Default().Var(name, cv, tag); err != nil {
			return nil, err
		}
	}
	return cv, nil
}

func fieldProblems(name string, err error) []jqlgate.FieldError {
	e := jqlgate.AsError(err)
	if len(e.Fields) > 0 {
		return e.Fields
	}
	return []jqlgate.FieldError{{Field: name, Message: e.Message}}
}

func invalid(problems []jqlgate.FieldError) error {
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Field < problems[j].Field })
	return jqlgate.InvalidFields(problems)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
