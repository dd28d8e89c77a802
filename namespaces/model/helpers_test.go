package model_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/model"
	"github.com/jqlgate/jqlgate/schemas"
	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// recorder is a Publisher that keeps what it is given, or fails with err.
type recorder struct {
	mu     sync.Mutex
	events []*jqlgate.Event
	err    error
}

func (r *recorder) Publish(_ context.Context, events ...*jqlgate.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, events...)
	return nil
}

func (r *recorder) all() []*jqlgate.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*jqlgate.Event(nil), r.events...)
}

var errPublish = &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "event log unavailable"}

// env is one test's gateway core: the mux over a fresh database.
type env struct {
	t     testing.TB
	mux   *namespaces.Mux
	store model.Store
	pub   *recorder
}

func newEnv(t testing.TB, schemaDir string) *env {
	t.Helper()
	store := mongodb.NewRecordStore(mongotest.New(t), mongodb.BatcherOptions{})
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	return newEnvOn(t, schemaDir, store)
}

// newSQLiteEnv is newEnv on the embedded store.
func newSQLiteEnv(t testing.TB, schemaDir string) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), sqlite.FileName), Sync: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return newEnvOn(t, schemaDir, sqlite.NewRecordStore(db))
}

// onBothStores runs fn against an env on each adapter.
func onBothStores(t *testing.T, schemaDir string, fn func(t *testing.T, e *env)) {
	t.Run("mongodb", func(t *testing.T) { fn(t, newEnv(t, schemaDir)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, newSQLiteEnv(t, schemaDir)) })
}

func newEnvOn(t testing.TB, schemaDir string, store model.Store) *env {
	t.Helper()
	set, err := schemas.LoadModels(schemaDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.EnsureIndexes(context.Background(), set, store); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, mux: namespaces.NewMux(), store: store, pub: &recorder{}}
	model.Register(e.mux, model.Deps{Models: set, Store: store, Publisher: e.pub})
	return e
}

// command decodes a JQL envelope as the gateway does: numbers as
// json.Number, __meta__ into Meta, the rest as fields.
func command(t testing.TB, envelope string) *jqlgate.Command {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(envelope)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("bad test envelope: %v", err)
	}
	metaJSON, _ := json.Marshal(raw["__meta__"])
	delete(raw, "__meta__")
	cmd := &jqlgate.Command{Fields: raw}
	if err := json.Unmarshal(metaJSON, &cmd.Meta); err != nil {
		t.Fatalf("bad test __meta__: %v", err)
	}
	return cmd
}

func (e *env) do(envelope string) (*jqlgate.Result, error) {
	e.t.Helper()
	return e.mux.Serve(context.Background(), command(e.t, envelope))
}

func (e *env) ok(envelope string) *jqlgate.Result {
	e.t.Helper()
	res, err := e.do(envelope)
	if err != nil {
		e.t.Fatalf("%s\nerr = %v", envelope, err)
	}
	return res
}

// fails runs envelope and checks the error's code and field.
func (e *env) fails(envelope, code, field string) *jqlgate.Error {
	e.t.Helper()
	_, err := e.do(envelope)
	var je *jqlgate.Error
	if !errors.As(err, &je) {
		e.t.Fatalf("%s\nerr = %v, want a %s error on %q", envelope, err, code, field)
	}
	if je.Code != code || je.Field != field {
		e.t.Errorf("%s\ngot %s on %q (%s), want %s on %q", envelope, je.Code, je.Field, je.Message, code, field)
	}
	return je
}

// create makes a customer and returns its id.
func (e *env) create(name, email string, extra string) string {
	e.t.Helper()
	res := e.ok(`{"__meta__":{"namespace":"profile.Customer","schema":"model","intent":"create"},"name":"` + name + `","email":"` + email + `"` + extra + `}`)
	return res.Data.(map[string]any)["id"].(string)
}

func records(t *testing.T, res *jqlgate.Result) []map[string]any {
	t.Helper()
	recs, ok := res.Data.([]map[string]any)
	if !ok {
		t.Fatalf("data is %T, want a list of records", res.Data)
	}
	return recs
}

func names(recs []map[string]any) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i], _ = r["name"].(string)
	}
	return out
}
