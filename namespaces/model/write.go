package model

import (
	"context"
	"reflect"
	"sort"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// Create validates and stores a new record, publishes its create event and
// returns the record (or the fields __meta__.return names).
func (h *Handler) Create(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	if cmd.Meta.UniqueObject != nil {
		return nil, jqlgate.Invalid("__meta__.uniqueObject", "create takes no uniqueObject.")
	}
	ret, err := h.returnFields(cmd.Meta.Return)
	if err != nil {
		return nil, err
	}
	rec, err := h.model.CheckCreate(cmd.Fields)
	if err != nil {
		return nil, err
	}
	if err := h.checkReferences(ctx, cmd.Principal, rec); err != nil {
		return nil, err
	}
	now := h.now()
	id := h.model.NewID()
	rec[schemas.FieldID], rec[schemas.FieldCreatedAt], rec[schemas.FieldUpdatedAt] = id, now, now
	coll := h.model.Collection
	tx, out, ok, err := h.outbox(ctx, schemas.ActionCreate, nil)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := tx.InsertWithEvents(ctx, coll, rec, out); err != nil {
			return nil, h.conflict(err, rec)
		}
		return &jqlgate.Result{Data: project(rec, ret), Message: h.message("created"), Filtered: 1, Display: 1}, nil
	}
	if err := h.deps.Store.Insert(ctx, coll, rec); err != nil {
		return nil, h.conflict(err, rec)
	}
	undo := func(ctx context.Context) error { _, err := h.deps.Store.Delete(ctx, coll, id); return err }
	if err := h.publish(ctx, schemas.ActionCreate, rec, nil, undo); err != nil {
		return nil, err
	}
	return &jqlgate.Result{Data: project(rec, ret), Message: h.message("created"), Filtered: 1, Display: 1}, nil
}

// Update changes the given fields of the record uniqueObject names,
// publishes its update event with the changed field names, and returns the
// record as it now is.
func (h *Handler) Update(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	ret, err := h.returnFields(cmd.Meta.Return)
	if err != nil {
		return nil, err
	}
	set, err := h.model.CheckUpdate(cmd.Fields)
	if err != nil {
		return nil, err
	}
	if err := h.checkReferences(ctx, cmd.Principal, set); err != nil {
		return nil, err
	}
	before, err := h.find(ctx, cmd.Meta.UniqueObject)
	if err != nil {
		return nil, err
	}
	id := before[schemas.FieldID].(string)
	set[schemas.FieldUpdatedAt] = h.now()
	coll := h.model.Collection
	tx, out, ok, err := h.outbox(ctx, schemas.ActionUpdate, set)
	if err != nil {
		return nil, err
	}
	if ok {
		after, err := tx.UpdateWithEvents(ctx, coll, id, set, out)
		if err != nil {
			return nil, h.notFound(h.conflict(err, set))
		}
		return &jqlgate.Result{Data: project(after, ret), Message: h.message("updated"), Filtered: 1, Display: 1}, nil
	}
	after, err := h.deps.Store.Update(ctx, coll, id, set)
	if err != nil {
		return nil, h.conflict(err, set)
	}
	undo := func(ctx context.Context) error {
		_, err := h.deps.Store.Update(ctx, coll, id, previous(before, set))
		return err
	}
	if err := h.publish(ctx, schemas.ActionUpdate, after, changed(before, after, set), undo); err != nil {
		return nil, err
	}
	return &jqlgate.Result{Data: project(after, ret), Message: h.message("updated"), Filtered: 1, Display: 1}, nil
}

// DeleteOne removes the record uniqueObject names and publishes its delete
// event, whose data is the record as it was.
func (h *Handler) DeleteOne(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	if len(cmd.Fields) > 0 {
		return nil, jqlgate.Invalid(firstKey(cmd.Fields), "deleteOne takes no fields, only __meta__.uniqueObject.")
	}
	id, err := h.resolveID(ctx, cmd.Meta.UniqueObject)
	if err != nil {
		return nil, err
	}
	coll := h.model.Collection
	tx, out, ok, err := h.outbox(ctx, schemas.ActionDelete, nil)
	if err != nil {
		return nil, err
	}
	if ok {
		if _, err := tx.DeleteWithEvents(ctx, coll, id, out); err != nil {
			return nil, h.notFound(err)
		}
		return &jqlgate.Result{Message: h.message("deleted"), Filtered: 1, Display: 0}, nil
	}
	before, err := h.deps.Store.Delete(ctx, coll, id)
	if err != nil {
		return nil, h.notFound(err)
	}
	undo := func(ctx context.Context) error { return h.deps.Store.Restore(ctx, coll, before) }
	if err := h.publish(ctx, schemas.ActionDelete, before, nil, undo); err != nil {
		return nil, err
	}
	return &jqlgate.Result{Message: h.message("deleted"), Filtered: 1, Display: 0}, nil
}

func (h *Handler) message(past string) string {
	return h.model.Namespace + " " + past + " successfully."
}

// conflict names the unique field a write collided on, when it can tell.
func (h *Handler) conflict(err error, rec map[string]any) error {
	if jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		return err
	}
	var hit []string
	for _, f := range h.model.UniqueFields() {
		if _, ok := rec[f]; ok {
			hit = append(hit, f)
		}
	}
	e := jqlgate.Errorf(jqlgate.ECONFLICT, "A %s with the same unique value already exists.", h.model.Namespace)
	if len(hit) == 1 {
		e = jqlgate.Errorf(jqlgate.ECONFLICT, "A %s with this %s already exists.", h.model.Namespace, hit[0])
		e.Field = hit[0]
	}
	e.Err = err
	return e
}

// previous holds the values the fields of set had in before, to undo an
// update; fields before did not have become null.
func previous(before, set map[string]any) map[string]any {
	out := make(map[string]any, len(set))
	for k := range set {
		out[k] = before[k]
	}
	return out
}

// changed lists the fields of set whose value the update changed.
func changed(before, after, set map[string]any) []string {
	out := []string{}
	for k := range set {
		if k != schemas.FieldUpdatedAt && !reflect.DeepEqual(before[k], after[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func firstKey(m map[string]any) string { return sortedKeys(m)[0] }
