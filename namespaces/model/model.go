// Package model serves the model namespaces that schema files declare
// (profile.Customer and any other): create, retrieve, update and deleteOne,
// stored one collection per namespace, each write announced as an event
// ("profile.Customer:create") through a Publisher before it is acknowledged.
package model

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/schemas"
)

// Publisher records events for delivery. Publish returns only once the
// events are durable; an error means they may not be.
type Publisher interface {
	Publish(ctx context.Context, events ...*jqlgate.Event) error
}

// Store keeps the records of model namespaces (mongodb.RecordStore).
// Records are maps keyed by field name with the id under "id". Missing
// records are ENOTFOUND and unique violations ECONFLICT.
type Store interface {
	EnsureIndexes(ctx context.Context, coll string, indexes []jqlgate.Index) error
	Insert(ctx context.Context, coll string, rec map[string]any) error
	Get(ctx context.Context, coll, id string) (map[string]any, error)
	Find(ctx context.Context, coll string, q *jqlgate.Query) ([]map[string]any, error)
	Count(ctx context.Context, coll string, q *jqlgate.Query) (int, error)
	Update(ctx context.Context, coll, id string, set map[string]any) (map[string]any, error)
	Delete(ctx context.Context, coll, id string) (map[string]any, error)
	Restore(ctx context.Context, coll string, rec map[string]any) error
}

// Deps are what the model handlers need.
type Deps struct {
	Models    *schemas.Set
	Store     Store
	Publisher Publisher
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Intents of every model namespace.
const (
	IntentCreate    = "create"
	IntentRetrieve  = "retrieve"
	IntentUpdate    = "update"
	IntentDeleteOne = "deleteOne"
)

// Register routes create, retrieve, update and deleteOne of every model in
// deps.Models.
func Register(m *namespaces.Mux, deps Deps) {
	for _, md := range deps.Models.Models() {
		h := NewHandler(md, deps)
		fields := fieldSpecs(md)
		m.HandleFunc(md.Namespace, jqlgate.SchemaModel, IntentCreate, h.Create,
			namespaces.IntentSpec{Summary: "Create a " + md.Namespace + " record.", Fields: fields})
		m.HandleFunc(md.Namespace, jqlgate.SchemaModel, IntentRetrieve, h.Retrieve,
			namespaces.IntentSpec{Summary: "Retrieve " + md.Namespace + " records: filter, exclude, search, ordering, limit, offset, uniqueObject.", Fields: reverseSpecs(md)})
		m.HandleFunc(md.Namespace, jqlgate.SchemaModel, IntentUpdate, h.Update,
			namespaces.IntentSpec{Summary: "Update fields of the " + md.Namespace + " record named by uniqueObject.", Fields: optional(fields)})
		m.HandleFunc(md.Namespace, jqlgate.SchemaModel, IntentDeleteOne, h.DeleteOne,
			namespaces.IntentSpec{Summary: "Delete the " + md.Namespace + " record named by uniqueObject."})
	}
}

// EnsureIndexes creates every model's indexes in the store.
func EnsureIndexes(ctx context.Context, models *schemas.Set, store Store) error {
	for _, md := range models.Models() {
		if err := store.EnsureIndexes(ctx, md.Collection, md.StoreIndexes()); err != nil {
			return fmt.Errorf("indexes of %s: %w", md.Namespace, err)
		}
	}
	return nil
}

func fieldSpecs(md *schemas.Model) []namespaces.FieldSpec {
	var out []namespaces.FieldSpec
	for _, f := range md.Fields {
		if f.ReadOnly {
			continue
		}
		desc := f.Description
		if f.Type == schemas.TypeReference {
			// describe names what a reference points at.
			desc = strings.TrimSpace("the id of a " + f.Ref + " record. " + desc)
		}
		out = append(out, namespaces.FieldSpec{Name: f.Name, Type: f.Type, Required: f.Required(), Description: desc})
	}
	return out
}

// reverseSpecs describes a model's reverse accessors, the fields a retrieve
// may list beyond the model's own.
func reverseSpecs(md *schemas.Model) []namespaces.FieldSpec {
	var out []namespaces.FieldSpec
	for _, r := range md.Reverse {
		out = append(out, namespaces.FieldSpec{Name: r.Name, Type: "reverse",
			Description: "reverse accessor: the " + r.Model + " records whose " + r.Field + " is this record (null, or an object of their fields with an optional __meta__ of filter, ordering and limit)"})
	}
	return out
}

func optional(fields []namespaces.FieldSpec) []namespaces.FieldSpec {
	out := make([]namespaces.FieldSpec, len(fields))
	for i, f := range fields {
		f.Required = false
		out[i] = f
	}
	return out
}

// Handler serves one model namespace.
type Handler struct {
	model *schemas.Model
	deps  Deps
}

// NewHandler returns the handler of one model.
func NewHandler(md *schemas.Model, deps Deps) *Handler {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Handler{model: md, deps: deps}
}

func (h *Handler) now() time.Time { return h.deps.Now().UTC().Truncate(time.Millisecond) }

// event builds the event of a write on rec.
func (h *Handler) event(action string, rec map[string]any, changed []string) *jqlgate.Event {
	id, _ := rec[schemas.FieldID].(string)
	return &jqlgate.Event{
		ID:        jqlgate.NewID("evt"),
		Type:      h.model.EventType(action),
		EntityID:  id,
		Data:      rec,
		Changed:   changed,
		Timestamp: h.now(),
	}
}

// publish records the event of a write. When it fails, undo reverses the
// write (best effort: its failure is logged) and the publish error is
// returned, so the client never hears of a write whose event is lost.
func (h *Handler) publish(ctx context.Context, action string, rec map[string]any, changed []string, undo func(context.Context) error) error {
	if !h.model.Emits(action) {
		return nil
	}
	err := h.deps.Publisher.Publish(ctx, h.event(action, rec, changed))
	if err == nil {
		return nil
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if uerr := undo(uctx); uerr != nil {
		h.deps.Logger.ErrorContext(ctx, "undo write after failed publish",
			"namespace", h.model.Namespace, "action", action, "id", rec[schemas.FieldID], "error", uerr.Error())
	}
	return err
}
