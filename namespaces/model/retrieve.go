package model

import (
	"context"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// Retrieve returns the records the command's filter, exclude and search
// select, in its ordering, one page of limit from offset; or, with
// uniqueObject, the one record it names. Filtered is the number of matching
// records, Display the number returned.
func (h *Handler) Retrieve(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	q, spec, err := h.query(cmd)
	if err != nil {
		return nil, err
	}
	if cmd.Meta.UniqueObject != nil {
		rec, err := h.find(ctx, cmd.Meta.UniqueObject)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{rec}
		if err := h.shape(ctx, out, spec); err != nil {
			return nil, err
		}
		return &jqlgate.Result{Data: out[0], Filtered: 1, Display: 1}, nil
	}
	if len(spec.aggOrder) > 0 {
		return h.orderByAggregates(ctx, q, spec)
	}
	recs, err := h.deps.Store.Find(ctx, h.model.Collection, q)
	if err != nil {
		return nil, err
	}
	total, err := h.total(ctx, q, len(recs))
	if err != nil {
		return nil, err
	}
	if err := h.shape(ctx, recs, spec); err != nil {
		return nil, err
	}
	return &jqlgate.Result{Data: recs, Filtered: total, Display: len(recs)}, nil
}

// total counts the matching records, sparing the store a count when the
// page itself shows where the matches end.
func (h *Handler) total(ctx context.Context, q *jqlgate.Query, n int) (int, error) {
	if n > 0 && n < q.Limit {
		return q.Offset + n, nil
	}
	if n == 0 && q.Offset == 0 {
		return 0, nil
	}
	return h.deps.Store.Count(ctx, h.model.Collection, q)
}

// find returns the record uniqueObject names: {"id": …} or one field with
// a unique index, such as {"email": …}. A missing record is ENOTFOUND.
func (h *Handler) find(ctx context.Context, uo map[string]any) (map[string]any, error) {
	id, err := h.resolveID(ctx, uo)
	if err != nil {
		return nil, err
	}
	rec, err := h.deps.Store.Get(ctx, h.model.Collection, id)
	return rec, h.notFound(err)
}

// resolveID returns the id of the record uniqueObject names.
func (h *Handler) resolveID(ctx context.Context, uo map[string]any) (string, error) {
	const field = "__meta__.uniqueObject"
	if len(uo) != 1 {
		return "", jqlgate.Invalid(field, "uniqueObject must name one record, as {\"id\": \"…\"}.")
	}
	key := firstKey(uo)
	if key == schemas.FieldID || key == "pk" {
		id, ok := uo[key].(string)
		if !ok {
			return "", jqlgate.Invalid(field+"."+key, "%s.%s must be a %s id string such as %s_…, not %s.", field, key, h.model.Namespace, h.model.IDPrefix, kindOf(uo[key]))
		}
		if !h.model.ValidID(id) {
			return "", jqlgate.Invalid(field+"."+key, "%q is not a valid %s id: ids look like %s_ and 26 letters and digits.", truncate(id), h.model.Namespace, h.model.IDPrefix)
		}
		return id, nil
	}
	return h.idByUnique(ctx, key, uo[key])
}

func (h *Handler) idByUnique(ctx context.Context, key string, v any) (string, error) {
	field := "__meta__.uniqueObject." + key
	if !contains(h.model.UniqueFields(), key) {
		return "", jqlgate.Invalid(field, "%s is neither id nor a unique field of %s.", key, h.model.Namespace)
	}
	cv, err := h.model.CoerceValue(key, v)
	if err != nil {
		return "", jqlgate.Invalid(field, "%s %s", key, err.Error())
	}
	q := &jqlgate.Query{Filter: []jqlgate.Condition{{Field: key, Op: jqlgate.OpEq, Value: cv}}, Limit: 1, Fields: []string{schemas.FieldID}}
	recs, err := h.deps.Store.Find(ctx, h.model.Collection, q)
	if err != nil {
		return "", err
	}
	if len(recs) == 0 {
		return "", h.notFound(jqlgate.Errorf(jqlgate.ENOTFOUND, "no record has %s", key))
	}
	return recs[0][schemas.FieldID].(string), nil
}

// notFound rewords a store's ENOTFOUND for the client; other errors and
// nil pass through.
func (h *Handler) notFound(err error) error {
	if jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		return err
	}
	e := jqlgate.Errorf(jqlgate.ENOTFOUND, "No %s matches __meta__.uniqueObject.", h.model.Namespace)
	e.Field = "__meta__.uniqueObject"
	e.Err = err
	return e
}

// project keeps only the fields named, or everything when none are.
func project(rec map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return rec
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := rec[f]; ok {
			out[f] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kindOf names the JSON type of a value a client sent, for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a number"
}

// truncate cuts a client's value to 40 bytes for a message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
