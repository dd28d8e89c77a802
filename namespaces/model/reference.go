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
	model  *schemas.Model
	fields []string
	ts     map[string]transform
	nested map[string]*fieldSpec
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
	if len(sub.fields) > 0 {
		q.Fields = append(slices.Clone(sub.fields), schemas.FieldID)
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
