package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

func customer(t *testing.T) *Model {
	t.Helper()
	s, err := LoadModels("")
	if err != nil {
		t.Fatal(err)
	}
	m := s.Model("profile.Customer")
	if m == nil {
		t.Fatal("profile.Customer is not built in")
	}
	return m
}

func TestBuiltinCustomer(t *testing.T) {
	m := customer(t)
	if got, want := m.Collection, "model_profile_customer"; got != want {
		t.Errorf("collection = %q, want %q", got, want)
	}
	if got := m.UniqueFields(); len(got) != 1 || got[0] != "email" {
		t.Errorf("unique fields = %v, want [email]", got)
	}
	if !m.ValidID(m.NewID()) || m.ValidID("cus_123") || m.ValidID("xyz_01hq3z8y5k2m4n6p8r0t2v4w6x") {
		t.Error("ValidID accepts or refuses the wrong ids")
	}
}

func TestParseModelErrors(t *testing.T) {
	tests := []struct {
		name, file, body, want string
	}{
		{"unknown key", "a.yaml", "namespace: a.B\nfields: [{name: x, type: string}]\ncolour: red\n", "field colour not found"},
		{"unknown key json", "a.json", `{"namespace":"a.B","fields":[{"name":"x","type":"string","bogus":1}]}`, `unknown field "bogus"`},
		{"bad namespace", "a.yaml", "namespace: nodot\nfields: [{name: x, type: string}]\n", "namespace:"},
		{"no fields", "a.yaml", "namespace: a.B\n", "fields: at least one"},
		{"bad type", "a.yaml", "namespace: a.B\nfields: [{name: x, type: text}]\n", "fields[0] (x): type:"},
		{"bad rule", "a.yaml", "namespace: a.B\nfields: [{name: x, type: string, validate: 'required,shiny'}]\n", "fields[0] (x): validate:"},
		{"duplicate", "a.yaml", "namespace: a.B\nfields: [{name: x, type: string}, {name: x, type: integer}]\n", "declared twice"},
		{"reserved", "a.yaml", "namespace: a.B\nfields: [{name: created_at, type: datetime}]\n", "system field"},
		{"bad name", "a.yaml", "namespace: a.B\nfields: [{name: a__b, type: string}]\n", "fields[0] (a__b): name:"},
		{"bad default", "a.yaml", "namespace: a.B\nfields: [{name: n, type: integer, default: many}]\n", "default: must be an integer"},
		{"default breaks rule", "a.yaml", "namespace: a.B\nfields: [{name: s, type: string, validate: 'oneof=a b', default: c}]\n", "default:"},
		{"index field", "a.yaml", "namespace: a.B\nfields: [{name: x, type: string}]\nindexes: [{fields: [y]}]\n", `indexes[0]: field "y"`},
		{"event", "a.yaml", "namespace: a.B\nfields: [{name: x, type: string}]\nevents: [explode]\n", "events[0]"},
		{"search non-string", "a.yaml", "namespace: a.B\nfields: [{name: x, type: integer, searchable: true}]\n", "searchable"},
		{"reference without ref", "a.yaml", "namespace: a.B\nfields: [{name: x, type: reference}]\n", "ref:"},
		{"empty", "a.yaml", "", "empty"},
		{"internal collection", "a.yaml", "namespace: evil.Users\ncollection: auth_users\nfields: [{name: x, type: string}]\n", `collection: "auth_users" must start with "model_"`},
		{"internal collection subscriptions", "a.yaml", "namespace: evil.Subs\ncollection: subscriptions\nfields: [{name: x, type: string}]\n", `must start with "model_"`},
		{"bare prefix", "a.yaml", "namespace: a.B\ncollection: model_\nfields: [{name: x, type: string}]\n", `must start with "model_"`},
		{"system app", "a.yaml", "namespace: system.Webhook\nfields: [{name: x, type: string}]\n", "is reserved"},
		{"system app any case", "a.json", `{"namespace":"sYSTEM.Thing","fields":[{"name":"x","type":"string"}]}`, "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseModel(tt.file, []byte(tt.body))
			if err == nil {
				t.Fatal("ParseModel succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error = %q, want it to name %s and contain %q", err, tt.file, tt.want)
			}
		})
	}
}

func TestLoadModelsDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("order.json", `{"namespace":"shop.Order","fields":[{"name":"customer","type":"reference","ref":"profile.Customer"},{"name":"total","type":"number"}]}`)
	write("notes.txt", "ignored")
	s, err := LoadModels(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Model("shop.Order"); m == nil || m.IDPrefix != "ord" {
		t.Fatalf("shop.Order = %+v, want it loaded with prefix ord", m)
	}
	if got := len(s.EventTypes()); got != 6 {
		t.Errorf("got %d event types, want 6", got)
	}
	write("dup.yaml", "namespace: profile.Customer\nfields: [{name: x, type: string}]\n")
	if _, err := LoadModels(dir); err == nil || !strings.Contains(err.Error(), "already declared") {
		t.Errorf("duplicate namespace: err = %v", err)
	}
}

func TestCheckCreate(t *testing.T) {
	m := customer(t)
	got, err := m.CheckCreate(map[string]any{"name": "Ada", "email": "ada@example.com", "metadata": map[string]any{"n": json.Number("2")}})
	if err != nil {
		t.Fatal(err)
	}
	if got["status"] != "active" || got["metadata"].(map[string]any)["n"] != int64(2) {
		t.Errorf("got %v, want default status and coerced metadata", got)
	}
}

func TestCheckCreateInvalid(t *testing.T) {
	m := customer(t)
	tests := []struct {
		name   string
		fields map[string]any
		want   []string
	}{
		{"missing required", map[string]any{}, []string{"email", "name"}},
		{"wrong types", map[string]any{"name": 5, "email": true, "metadata": "x"}, []string{"email", "metadata", "name"}},
		{"rules", map[string]any{"name": "A", "email": "nope", "status": "gone"}, []string{"email", "status"}},
		{"unknown and read-only", map[string]any{"name": "A", "email": "a@b.co", "age": 1, "id": "x"}, []string{"age", "id"}},
		{"operator key", map[string]any{"name": "A", "email": "a@b.co", "metadata": map[string]any{"$gt": 1}}, []string{"metadata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.CheckCreate(tt.fields)
			e := jqlgate.AsError(err)
			if e.Code != jqlgate.EINVALID {
				t.Fatalf("code = %q, want %q (%v)", e.Code, jqlgate.EINVALID, err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("fields = %v, want %v (%v)", got, tt.want, e.Fields)
			}
		})
	}
}

func TestCoerce(t *testing.T) {
	tests := []struct {
		typ  string
		in   any
		want any
	}{
		{TypeInteger, "2024", int64(2024)},
		{TypeInteger, json.Number("7"), int64(7)},
		{TypeNumber, "2.5", 2.5},
		{TypeBoolean, "true", true},
		{TypeDatetime, "2024-01-31T12:00:00.1234+01:00", time.Date(2024, 1, 31, 11, 0, 0, 123e6, time.UTC)},
		{TypeDatetime, "2024-01-31", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := coerce(&Field{Type: tt.typ}, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("coerce(%s, %v) = %v, %v; want %v", tt.typ, tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		typ string
		in  any
	}{{TypeInteger, "20x4"}, {TypeInteger, 1.5}, {TypeNumber, "NaN"}, {TypeBoolean, "yes"}, {TypeDatetime, "yesterday"}, {TypeString, 5}} {
		if got, err := coerce(&Field{Type: bad.typ}, bad.in); err == nil {
			t.Errorf("coerce(%s, %v) = %v, want an error", bad.typ, bad.in, got)
		}
	}
}
