package model

import (
	"slices"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// Paging bounds of retrieve.
const (
	DefaultLimit = 25
	MaxLimit     = 1000
	MaxOffset    = 1_000_000_000
	maxOrdering  = 8
	maxSearch    = 200
)

// query turns a retrieve command into a store query, checking every field
// against the schema and coercing every filter value to its field's type.
func (h *Handler) query(cmd *jqlgate.Command) (*jqlgate.Query, *fieldSpec, error) {
	meta := cmd.Meta
	q := &jqlgate.Query{Limit: DefaultLimit}
	var err error
	if q.Filter, err = h.conditions("__meta__.filter", meta.Filter); err != nil {
		return nil, nil, err
	}
	if q.Exclude, err = h.conditions("__meta__.exclude", meta.Exclude); err != nil {
		return nil, nil, err
	}
	if err = h.search(q, meta.Search); err != nil {
		return nil, nil, err
	}
	// Ordering keys that name an aggregation field of this retrieve are
	// the handler's to apply (see orderByAggregates); the rest are the
	// store's.
	var storeKeys []string
	var aggKeys []jqlgate.Order
	for _, k := range meta.Ordering {
		name, desc := strings.CutPrefix(k, "-")
		if !h.model.HasField(name) && name != "pk" && isSubquery(cmd.Fields[name]) {
			aggKeys = append(aggKeys, jqlgate.Order{Field: name, Desc: desc})
			continue
		}
		storeKeys = append(storeKeys, k)
	}
	if q.Ordering, err = h.ordering(storeKeys); err != nil {
		return nil, nil, err
	}
	if err = paging(q, meta.Limit, meta.Offset); err != nil {
		return nil, nil, err
	}
	spec, err := h.projection(cmd.Principal, cmd.Fields)
	if err != nil {
		return nil, nil, err
	}
	q.Fields = spec.storeFields()
	spec.aggOrder = aggKeys
	return q, spec, nil
}

// conditions parses a filter or exclude object: declared fields only, and
// values of their field's type. "pk" is id.
func (h *Handler) conditions(field string, filter map[string]any) ([]jqlgate.Condition, error) {
	conds, err := jqlgate.ParseFilter(field, filter)
	if err != nil {
		return nil, err
	}
	var problems []jqlgate.FieldError
	for i := range conds {
		c := &conds[i]
		key := field + "." + conditionKey(*c)
		if c.Field == "pk" {
			c.Field = schemas.FieldID
		}
		if msg := h.checkCondition(c); msg != "" {
			problems = append(problems, jqlgate.FieldError{Field: key, Message: key + " " + msg})
		}
	}
	return conds, jqlgate.InvalidFields(problems)
}

func conditionKey(c jqlgate.Condition) string {
	if c.Op == jqlgate.OpEq {
		return c.Field
	}
	return c.Field + "__" + c.Op
}

// checkCondition coerces c's value in place and says what is wrong, if
// anything.
func (h *Handler) checkCondition(c *jqlgate.Condition) string {
	typ := h.model.FieldType(c.Field)
	switch {
	case typ == "":
		return "filters on " + c.Field + ", which is not a field of " + h.model.Namespace
	case c.Op == jqlgate.OpIsNull:
		return ""
	case c.Op == jqlgate.OpContains || c.Op == jqlgate.OpIContains || c.Op == jqlgate.OpStartsWith || c.Op == jqlgate.OpEndsWith:
		if typ != schemas.TypeString && typ != schemas.TypeReference {
			return "applies only to text fields"
		}
		return ""
	case c.Value == nil:
		return ""
	case typ == schemas.TypeObject || typ == schemas.TypeArray:
		return "can't compare an " + typ + " field"
	}
	list, isList := c.Value.([]any)
	if !isList {
		v, err := h.model.CoerceValue(c.Field, c.Value)
		if err != nil {
			return err.Error()
		}
		c.Value = v
		return ""
	}
	out := make([]any, len(list))
	for i, e := range list {
		v, err := h.model.CoerceValue(c.Field, e)
		if err != nil {
			return "item " + err.Error()
		}
		out[i] = v
	}
	c.Value = out
	return ""
}

func (h *Handler) search(q *jqlgate.Query, s *jqlgate.Search) error {
	if s == nil || strings.TrimSpace(s.Value) == "" {
		return nil
	}
	q.Search = strings.TrimSpace(s.Value)
	q.SearchFields = h.model.SearchFields()
	switch {
	case len(q.Search) > maxSearch:
		return jqlgate.Invalid("__meta__.search.value", "The search term may be at most %d characters long.", maxSearch)
	case len(q.SearchFields) == 0:
		return jqlgate.Invalid("__meta__.search", "%s has no searchable fields.", h.model.Namespace)
	}
	return nil
}

// ordering parses ["-name", "pk"]: declared fields, "-" for descending.
func (h *Handler) ordering(keys []string) ([]jqlgate.Order, error) {
	const field = "__meta__.ordering"
	if len(keys) > maxOrdering {
		return nil, jqlgate.Invalid(field, "Order by at most %d fields.", maxOrdering)
	}
	var out []jqlgate.Order
	seen := map[string]bool{}
	for _, k := range keys {
		name, desc := strings.CutPrefix(k, "-")
		if name == "pk" {
			name = schemas.FieldID
		}
		switch {
		case !h.model.HasField(name):
			return nil, jqlgate.Invalid(field, "Can't order by %q: it is not a field of %s.", k, h.model.Namespace)
		case seen[name]:
			return nil, jqlgate.Invalid(field, "%q appears more than once.", name)
		}
		seen[name] = true
		out = append(out, jqlgate.Order{Field: name, Desc: desc})
	}
	return out, nil
}

func paging(q *jqlgate.Query, limit, offset *int) error {
	if limit != nil {
		if *limit < 1 || *limit > MaxLimit {
			return jqlgate.Invalid("__meta__.limit", "limit must be between 1 and %d.", MaxLimit)
		}
		q.Limit = *limit
	}
	if offset != nil {
		if *offset < 0 || *offset > MaxOffset {
			return jqlgate.Invalid("__meta__.offset", "offset must be between 0 and %d.", MaxOffset)
		}
		q.Offset = *offset
	}
	return nil
}

// projection reads the top-level fields a retrieve lists: each with null
// to return it, with an object holding __transform__ to return it
// transformed (see transform.go), or, for a reference field, with an
// object listing the referenced record's fields to return it in place of
// its id (see reference.go).
func (h *Handler) projection(p *jqlgate.Principal, fields map[string]any) (*fieldSpec, error) {
	spec, problems, err := h.parseSpec(p, h.model, "", fields, 0)
	if err != nil {
		return nil, err
	}
	return spec, jqlgate.InvalidFields(problems)
}

// returnFields reads __meta__.return.
func (h *Handler) returnFields(ret map[string]any) ([]string, error) {
	var out []string
	for _, k := range sortedKeys(ret) {
		if !h.model.HasField(k) {
			return nil, jqlgate.Invalid("__meta__.return."+k, "%s is not a field of %s.", k, h.model.Namespace)
		}
		out = append(out, k)
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
