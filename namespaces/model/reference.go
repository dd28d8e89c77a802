package model

import (
	"context"
	"fmt"

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
