package model

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// checkReferences checks every reference field that fields set: the
// writer may read the model it points at (403 naming the field) and the
// record it names exists (400 naming the field). A null reference is
// allowed unless the field is required (the schema's check).
func (h *Handler) checkReferences(ctx context.Context, p *jqlgate.Principal, fields map[string]any) error {
	var problems []jqlgate.FieldError
	for _, f := range h.model.Fields {
		if f.Type != schemas.TypeReference {
			continue
		}
		v, ok := fields[f.Name]
		if !ok || v == nil {
			continue
		}
		id, _ := v.(string)
		ref := h.deps.Models.Model(f.Ref)
		if ref == nil {
			problems = append(problems, jqlgate.FieldError{Field: f.Name, Message: f.Ref + " is not served here"})
			continue
		}
		if p != nil && !p.Can(f.Ref, IntentRetrieve) {
			return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: f.Name,
				Message: fmt.Sprintf("%s refers to a %s record, and you may not read %s (%s:retrieve).", f.Name, f.Ref, f.Ref, f.Ref)}
		}
		if !ref.ValidID(id) {
			problems = append(problems, jqlgate.FieldError{Field: f.Name, Message: fmt.Sprintf("must be the id of a %s record (%s_…), not %q", f.Ref, ref.IDPrefix, truncate(id))})
			continue
		}
		if _, err := h.deps.Store.Get(ctx, ref.Collection, id); jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
			problems = append(problems, jqlgate.FieldError{Field: f.Name, Message: fmt.Sprintf("no %s record has the id %s", f.Ref, id)})
		} else if err != nil {
			return err
		}
	}
	return jqlgate.InvalidFields(problems)
}

// maxNesting bounds how deep a retrieve may follow references.
const maxNesting = 3

// fieldSpec is what a retrieve asks of each record of one model: the
// fields to return (none: all), the transforms of some, and the reference
// fields to expand into the referenced record.
type fieldSpec struct {
	model   *schemas.Model
	fields  []string
	ts      map[string]transform
	nested  map[string]*fieldSpec
	reverse map[string]*reverseSpec
	aggs    map[string]*aggSpec
	// aggOrder are the ordering keys that name aggregation fields.
	aggOrder []jqlgate.Order
}

// reverseSpec is one reverse accessor a retrieve asks for: the related
// records' spec, and the nested __meta__'s filter, ordering and limit (per
// record).
type reverseSpec struct {
	acc      *schemas.Reverse
	sub      *fieldSpec
	filter   []jqlgate.Condition
	ordering []jqlgate.Order
	limit    int
}

// Bounds of reverse accessors.
const defaultRelated = 100 // records per parent unless __meta__.limit says

// maxRelated bounds the related records of a reverse accessor, per parent
// and per page of parents (a variable for tests).
var maxRelated = 1000

// storeFields are the fields to read from the store for spec: its listed
// fields less reverse accessors, and the id when an accessor needs it
// (nil: every field).
func (spec *fieldSpec) storeFields() []string {
	if len(spec.fields) == 0 {
		return nil
	}
	var out []string
	for _, f := range spec.fields {
		if spec.reverse[f] == nil && spec.aggs[f] == nil {
			out = append(out, f)
		}
	}
	if len(spec.reverse) > 0 && !slices.Contains(out, schemas.FieldID) {
		out = append(out, schemas.FieldID)
	}
	for _, a := range spec.aggs {
		if !slices.Contains(out, a.field) {
			out = append(out, a.field)
		}
	}
	return out
}

// parseSpec reads a field spec of model at path prefix ("" at the top,
// "owner." one level down), depth levels below the top. A reference the
// caller may not read is a 403 naming its path.
func (h *Handler) parseSpec(p *jqlgate.Principal, model *schemas.Model, prefix string, fields map[string]any, depth int) (*fieldSpec, []jqlgate.FieldError, error) {
	spec := &fieldSpec{model: model}
	var problems []jqlgate.FieldError
	for _, k := range sortedKeys(fields) {
		path, v := prefix+k, fields[k]
		f := model.Field(k)
		if acc := model.ReverseAccessor(k); acc != nil {
			rs, more, err := h.parseReverse(p, acc, path, v, depth)
			if err != nil {
				return nil, nil, err
			}
			problems = append(problems, more...)
			if rs != nil {
				if spec.reverse == nil {
					spec.reverse = map[string]*reverseSpec{}
				}
				spec.reverse[k] = rs
			}
			spec.fields = append(spec.fields, k)
			continue
		}
		if !model.HasField(k) && isSubquery(v) {
			a, more, err := h.parseAggregate(p, model, path, v.(map[string]any))
			if err != nil {
				return nil, nil, err
			}
			problems = append(problems, more...)
			if a != nil {
				if spec.aggs == nil {
					spec.aggs = map[string]*aggSpec{}
				}
				spec.aggs[k] = a
			}
			spec.fields = append(spec.fields, k)
			continue
		}
		switch {
		case !model.HasField(k):
			problems = append(problems, jqlgate.FieldError{Field: path, Message: k + " is not a field of " + model.Namespace})
			continue
		case v == nil:
		case f != nil && f.Type == schemas.TypeReference && isNesting(v):
			ref := h.deps.Models.Model(f.Ref)
			switch {
			case ref == nil:
				problems = append(problems, jqlgate.FieldError{Field: path, Message: f.Ref + " is not served here"})
				continue
			case depth+1 > maxNesting:
				problems = append(problems, jqlgate.FieldError{Field: path, Message: fmt.Sprintf("nests too deep: a retrieve follows at most %d references", maxNesting)})
				continue
			case p != nil && !p.Can(f.Ref, IntentRetrieve):
				return nil, nil, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: path,
					Message: fmt.Sprintf("%s is a %s record, and you may not read %s (%s:retrieve).", path, f.Ref, f.Ref, f.Ref)}
			}
			sub, more, err := h.parseSpec(p, ref, path+".", v.(map[string]any), depth+1)
			if err != nil {
				return nil, nil, err
			}
			problems = append(problems, more...)
			if spec.nested == nil {
				spec.nested = map[string]*fieldSpec{}
			}
			spec.nested[k] = sub
		default:
			t, errs := parseFieldTransform(model, path, v)
			problems = append(problems, errs...)
			if t != nil {
				if spec.ts == nil {
					spec.ts = map[string]transform{}
				}
				spec.ts[k] = t
			}
		}
		spec.fields = append(spec.fields, k)
	}
	return spec, problems, nil
}

// parseReverse reads the spec of reverse accessor acc at path: null for
// every field of the related records, or an object of their fields with an
// optional __meta__ holding filter, ordering and limit.
func (h *Handler) parseReverse(p *jqlgate.Principal, acc *schemas.Reverse, path string, v any, depth int) (*reverseSpec, []jqlgate.FieldError, error) {
	rel := h.deps.Models.Model(acc.Model)
	switch {
	case depth+1 > maxNesting:
		return nil, []jqlgate.FieldError{{Field: path, Message: fmt.Sprintf("nests too deep: a retrieve follows at most %d references", maxNesting)}}, nil
	case p != nil && !p.Can(acc.Model, IntentRetrieve):
		return nil, nil, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: path,
			Message: fmt.Sprintf("%s lists %s records, and you may not read %s (%s:retrieve).", path, acc.Model, acc.Model, acc.Model)}
	}
	rs := &reverseSpec{acc: acc, limit: defaultRelated}
	fields := map[string]any{}
	if v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, []jqlgate.FieldError{{Field: path, Message: "must be null (every field of the related records) or an object of their fields"}}, nil
		}
		for k, x := range m {
			if k != "__meta__" {
				fields[k] = x
			}
		}
		if meta, ok := m["__meta__"]; ok {
			if errs := h.parseReverseMeta(rs, rel, path+".__meta__", meta); len(errs) > 0 {
				return nil, errs, nil
			}
		}
	}
	sub, problems, err := h.parseSpec(p, rel, path+".", fields, depth+1)
	if err != nil {
		return nil, nil, err
	}
	rs.sub = sub
	return rs, problems, nil
}

// parseReverseMeta reads a reverse accessor's __meta__: filter, ordering
// and limit (per record).
func (h *Handler) parseReverseMeta(rs *reverseSpec, rel *schemas.Model, path string, raw any) []jqlgate.FieldError {
	m, ok := raw.(map[string]any)
	if !ok {
		return []jqlgate.FieldError{{Field: path, Message: "must be an object with filter, ordering or limit"}}
	}
	rh := NewHandler(rel, h.deps)
	var problems []jqlgate.FieldError
	add := func(err error) {
		if e := jqlgate.AsError(err); err != nil {
			if len(e.Fields) > 0 {
				problems = append(problems, e.Fields...)
			} else {
				problems = append(problems, jqlgate.FieldError{Field: path, Message: e.Message})
			}
		}
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "filter":
			f, ok := m[k].(map[string]any)
			if !ok {
				problems = append(problems, jqlgate.FieldError{Field: path + ".filter", Message: "must be an object"})
				continue
			}
			conds, err := rh.conditions(path+".filter", f)
			add(err)
			rs.filter = conds
		case "ordering":
			list, ok := m[k].([]any)
			keys := make([]string, 0, len(list))
			for _, x := range list {
				s, isStr := x.(string)
				ok = ok && isStr
				keys = append(keys, s)
			}
			if !ok {
				problems = append(problems, jqlgate.FieldError{Field: path + ".ordering", Message: "must be a list of field names"})
				continue
			}
			order, err := rh.ordering(keys)
			add(err)
			rs.ordering = order
		case "limit":
			n, ok := asFloat(m[k])
			if !ok || n != float64(int(n)) || n < 1 || n > float64(maxRelated) {
				problems = append(problems, jqlgate.FieldError{Field: path + ".limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", maxRelated)})
				continue
			}
			rs.limit = int(n)
		default:
			problems = append(problems, jqlgate.FieldError{Field: path + "." + k, Message: "is not allowed here; use filter, ordering or limit"})
		}
	}
	return problems
}

// isNesting reports whether a reference field's spec lists fields of the
// referenced record (rather than only transforming the id).
func isNesting(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, t := m[transformKey]
	return !t || len(m) > 1
}

// shape gives each of recs what spec asks: the referenced records of its
// nested reference fields (one store read per field for the whole page,
// not one per record), then the listed fields, transformed.
func (h *Handler) shape(ctx context.Context, recs []map[string]any, spec *fieldSpec) error {
	for _, k := range sortedSpecKeys(spec.nested) {
		if err := h.expand(ctx, recs, k, spec.nested[k]); err != nil {
			return err
		}
	}
	for _, k := range sortedReverseKeys(spec.reverse) {
		if err := h.expandReverse(ctx, recs, k, spec.reverse[k]); err != nil {
			return err
		}
	}
	for k, a := range spec.aggs {
		if err := h.aggregate(ctx, recs, k, a); err != nil {
			return err
		}
	}
	for i, r := range recs {
		recs[i] = project(r, spec.fields)
		applyTransforms(recs[i], spec.ts)
	}
	return nil
}

// expand replaces field k of each record by the referenced record, shaped
// by sub; a reference to a record that is gone becomes null.
func (h *Handler) expand(ctx context.Context, recs []map[string]any, k string, sub *fieldSpec) error {
	seen := map[string]bool{}
	var ids []any
	for _, r := range recs {
		if id, ok := r[k].(string); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	q := &jqlgate.Query{Filter: []jqlgate.Condition{{Field: schemas.FieldID, Op: jqlgate.OpIn, Value: ids}}, Limit: len(ids)}
	if fs := sub.storeFields(); len(fs) > 0 {
		q.Fields = append(fs, schemas.FieldID)
	}
	found, err := h.deps.Store.Find(ctx, sub.model.Collection, q)
	if err != nil {
		return err
	}
	byID := make(map[string]int, len(found))
	for i, f := range found {
		byID[f[schemas.FieldID].(string)] = i
	}
	if err := h.shape(ctx, found, sub); err != nil {
		return err
	}
	for _, r := range recs {
		id, ok := r[k].(string)
		if !ok {
			continue
		}
		if i, ok := byID[id]; ok {
			r[k] = found[i]
		} else {
			r[k] = nil
		}
	}
	return nil
}

func sortedSpecKeys(m map[string]*fieldSpec) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// expandReverse sets field k of each record to the related records of
// rs's accessor: one store read for the whole page (the related records
// whose reference field is any of the page's ids, in rs's filter and
// ordering), at most maxRelated of them, then at most rs.limit per record.
func (h *Handler) expandReverse(ctx context.Context, recs []map[string]any, k string, rs *reverseSpec) error {
	var ids []any
	for _, r := range recs {
		if id, ok := r[schemas.FieldID].(string); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rel := rs.sub.model
	q := &jqlgate.Query{Filter: append([]jqlgate.Condition{{Field: rs.acc.Field, Op: jqlgate.OpIn, Value: ids}}, rs.filter...),
		Ordering: rs.ordering, Limit: maxRelated + 1}
	if fs := rs.sub.storeFields(); len(fs) > 0 {
		q.Fields = append(fs, rs.acc.Field)
	}
	found, err := h.deps.Store.Find(ctx, rel.Collection, q)
	if err != nil {
		return err
	}
	if len(found) > maxRelated {
		return jqlgate.Invalid(k, "the page's records have more than %d %s records under %s: narrow them with %s.__meta__.filter, or ask for fewer records (__meta__.limit)", maxRelated, rel.Namespace, k, k)
	}
	byParent := map[string][]int{}
	for i, f := range found {
		if p, ok := f[rs.acc.Field].(string); ok && len(byParent[p]) < rs.limit {
			byParent[p] = append(byParent[p], i)
		}
	}
	if err := h.shape(ctx, found, rs.sub); err != nil {
		return err
	}
	for _, r := range recs {
		id, _ := r[schemas.FieldID].(string)
		list := make([]map[string]any, 0, len(byParent[id]))
		for _, i := range byParent[id] {
			list = append(list, found[i])
		}
		r[k] = list
	}
	return nil
}

func sortedReverseKeys(m map[string]*reverseSpec) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
