package namespaces_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/schema"
)

func echoIntent(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	return &jqlgate.Result{Data: cmd.Meta.Namespace + ":" + cmd.Meta.Intent}, nil
}

func newMux() *namespaces.Mux {
	m := namespaces.NewMux()
	spec := namespaces.IntentSpec{Summary: "Creates one.", Fields: []namespaces.FieldSpec{{Name: "name", Type: "string", Required: true}}}
	m.HandleFunc("profile.Customer", "model", "create", echoIntent, spec)
	m.HandleFunc("profile.Customer", "model", "retrieve", echoIntent, namespaces.IntentSpec{})
	m.HandleFunc("system.User", "controller", "authenticate", echoIntent, namespaces.IntentSpec{Public: true})
	return m
}

func TestMuxServe(t *testing.T) {
	m := newMux()
	tests := []struct {
		name      string
		meta      jqlgate.Meta
		wantData  any
		wantCode  string
		wantField string
		wantMsg   string
	}{
		{"routed", jqlgate.Meta{Namespace: "profile.Customer", Schema: "model", Intent: "create"}, "profile.Customer:create", "", "", ""},
		{"unknown namespace", jqlgate.Meta{Namespace: "fleet.Vehicle", Schema: "model", Intent: "create"}, nil, jqlgate.ENOTFOUND, "__meta__.namespace", "Namespace fleet.Vehicle does not exist."},
		{"unknown intent", jqlgate.Meta{Namespace: "profile.Customer", Schema: "model", Intent: "explode"}, nil, jqlgate.EINVALID, "__meta__.intent", `profile.Customer has no intent "explode"; valid intents: create, retrieve.`},
		{"wrong schema", jqlgate.Meta{Namespace: "system.User", Schema: "model", Intent: "authenticate"}, nil, jqlgate.EINVALID, "__meta__.schema", `system.User is a controller namespace, so __meta__.schema must be "controller".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := m.Handler().Handle(context.Background(), &jqlgate.Command{Meta: tt.meta})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Serve: %v", err)
				}
				if res.Data != tt.wantData {
					t.Errorf("data = %v, want %v", res.Data, tt.wantData)
				}
				return
			}
			e := jqlgate.AsError(err)
			if e.Code != tt.wantCode || e.Field != tt.wantField || e.Message != tt.wantMsg {
				t.Errorf("error = %q %q %q, want %q %q %q", e.Code, e.Field, e.Message, tt.wantCode, tt.wantField, tt.wantMsg)
			}
		})
	}
}

func TestMuxIsPublicHas(t *testing.T) {
	m := newMux()
	tests := []struct {
		ns, intent      string
		public, present bool
	}{
		{"system.User", "authenticate", true, true},
		{"profile.Customer", "create", false, true},
		{"profile.Customer", "nope", false, false},
		{"nope.Nope", "create", false, false},
	}
	for _, tt := range tests {
		if got := m.IsPublic(tt.ns, tt.intent); got != tt.public {
			t.Errorf("IsPublic(%s, %s) = %v, want %v", tt.ns, tt.intent, got, tt.public)
		}
		if got := m.Has(tt.ns, tt.intent); got != tt.present {
			t.Errorf("Has(%s, %s) = %v, want %v", tt.ns, tt.intent, got, tt.present)
		}
	}
}

func TestMuxHandlePanics(t *testing.T) {
	tests := []struct {
		name                      string
		namespace, schema, intent string
	}{
		{"bad namespace", "Profile", "model", "create"},
		{"bad schema", "profile.Customer", "table", "create"},
		{"bad intent", "profile.Customer", "model", "cre ate"},
		{"duplicate", "profile.Customer", "model", "create"},
		{"schema changes", "system.User", "model", "logout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMux()
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q, %q, %q) did not panic", tt.namespace, tt.schema, tt.intent)
				}
			}()
			m.HandleFunc(tt.namespace, tt.schema, tt.intent, echoIntent, namespaces.IntentSpec{})
		})
	}
}

func TestDescribe(t *testing.T) {
	m := newMux()
	schema.Register(m)
	res, err := m.Serve(context.Background(), &jqlgate.Command{Meta: jqlgate.Meta{Namespace: "system.Schema", Schema: "controller", Intent: "describe"}})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	got := res.Data.([]namespaces.NamespaceInfo)
	var names []string
	for _, ns := range got {
		names = append(names, ns.Namespace+"/"+ns.Schema)
	}
	want := []string{"profile.Customer/model", "system.Schema/controller", "system.User/controller"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	create := got[0].Intents[0]
	if create.Intent != "create" || len(create.Fields) != 1 || create.Fields[0].Name != "name" || !create.Fields[0].Required {
		t.Errorf("profile.Customer create = %+v, want one required field name", create)
	}
	if !m.IsPublic("system.Schema", "describe") {
		t.Error("system.Schema describe is not public")
	}
}
