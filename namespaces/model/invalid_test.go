package model_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jqlgate/jqlgate"
)

func TestBadInput(t *testing.T) {
	e := newEnv(t, "")
	id := e.create("Ada", "ada@example.com", "")
	missing := `"cus_01hq3z8y5k2m4n6p8r0t2v4w6x"`
	create := `{"__meta__":{` + meta + `,"intent":"create"},`
	retrieve := `{"__meta__":{` + meta + `,"intent":"retrieve",`
	update := `{"__meta__":{` + meta + `,"intent":"update","uniqueObject":{"id":"` + id + `"}},`
	tests := []struct {
		name, envelope, code, field string
	}{
		{"wrong type", create + `"name":5,"email":"b@example.com"}`, jqlgate.EINVALID, "name"},
		{"object for a string", create + `"name":{"$gt":""},"email":"b@example.com"}`, jqlgate.EINVALID, "name"},
		{"rule", create + `"name":"B","email":"not-an-email"}`, jqlgate.EINVALID, "email"},
		{"oneof", create + `"name":"B","email":"b@example.com","status":"gone"}`, jqlgate.EINVALID, "status"},
		{"unknown field", create + `"name":"B","email":"b@example.com","age":3}`, jqlgate.EINVALID, "age"},
		{"id given", create + `"name":"B","email":"b@example.com","id":"cus_x"}`, jqlgate.EINVALID, "id"},
		{"duplicate unique", create + `"name":"B","email":"ada@example.com"}`, jqlgate.ECONFLICT, "email"},
		{"bad return", `{"__meta__":{` + meta + `,"intent":"create","return":{"age":null}},"name":"B","email":"b@example.com"}`, jqlgate.EINVALID, "__meta__.return.age"},
		{"filter undeclared", retrieve + `"filter":{"age":"18"}}}`, jqlgate.EINVALID, "__meta__.filter.age"},
		{"filter $gt object", retrieve + `"filter":{"name":{"$gt":""}}}}`, jqlgate.EINVALID, "__meta__.filter.name"},
		{"filter $where object", retrieve + `"filter":{"name":{"$where":"sleep(5000)"}}}}`, jqlgate.EINVALID, "__meta__.filter.name"},
		{"filter $where key", retrieve + `"filter":{"$where":"sleep(5000)"}}}`, jqlgate.EINVALID, "__meta__.filter.$where"},
		{"exclude $ne object", retrieve + `"exclude":{"status":{"$ne":null}}}}`, jqlgate.EINVALID, "__meta__.exclude.status"},
		{"filter unknown lookup", retrieve + `"filter":{"name__regex":".*"}}}`, jqlgate.EINVALID, "__meta__.filter.name__regex"},
		{"filter value does not coerce", retrieve + `"filter":{"created_at__gt":"yesterday"}}}`, jqlgate.EINVALID, "__meta__.filter.created_at__gt"},
		{"contains on an object", retrieve + `"filter":{"metadata__contains":"x"}}}`, jqlgate.EINVALID, "__meta__.filter.metadata__contains"},
		{"negative limit", retrieve + `"limit":-1}}`, jqlgate.EINVALID, "__meta__.limit"},
		{"huge limit", retrieve + `"limit":1000000}}`, jqlgate.EINVALID, "__meta__.limit"},
		{"negative offset", retrieve + `"offset":-5}}`, jqlgate.EINVALID, "__meta__.offset"},
		{"huge offset", retrieve + `"offset":9000000000000}}`, jqlgate.EINVALID, "__meta__.offset"},
		{"ordering unknown", retrieve + `"ordering":["-age"]}}`, jqlgate.EINVALID, "__meta__.ordering"},
		{"ordering twice", retrieve + `"ordering":["name","-name"]}}`, jqlgate.EINVALID, "__meta__.ordering"},
		{"projection unknown", retrieve + `"limit":1},"age":null}`, jqlgate.EINVALID, "age"},
		{"projection: a transform naming none", retrieve + `"limit":1},"metadata":{"__transform__":{}}}`, jqlgate.EINVALID, "metadata.__transform__"},
		{"retrieve invalid id", retrieve + `"uniqueObject":{"id":"nope"}}}`, jqlgate.EINVALID, "__meta__.uniqueObject.id"},
		{"update read-only", update + `"created_at":"2024-01-01T00:00:00Z"}`, jqlgate.EINVALID, "created_at"},
		{"update nothing", update[:len(update)-1] + `}`, jqlgate.EINVALID, ""},
		{"update required to null", update + `"name":null}`, jqlgate.EINVALID, "name"},
		{"update missing id", `{"__meta__":{` + meta + `,"intent":"update","uniqueObject":{"id":` + missing + `}},"name":"X"}`, jqlgate.ENOTFOUND, "__meta__.uniqueObject"},
		{"delete missing id", `{"__meta__":{` + meta + `,"intent":"deleteOne","uniqueObject":{"id":` + missing + `}}}`, jqlgate.ENOTFOUND, "__meta__.uniqueObject"},
		{"invalid id", `{"__meta__":{` + meta + `,"intent":"deleteOne","uniqueObject":{"id":"67890"}}}`, jqlgate.EINVALID, "__meta__.uniqueObject.id"},
		{"numeric id", `{"__meta__":{` + meta + `,"intent":"update","uniqueObject":{"id":67890}},"name":"X"}`, jqlgate.EINVALID, "__meta__.uniqueObject.id"},
		{"uniqueObject non-unique field", `{"__meta__":{` + meta + `,"intent":"deleteOne","uniqueObject":{"name":"Ada"}}}`, jqlgate.EINVALID, "__meta__.uniqueObject.name"},
		{"no uniqueObject", `{"__meta__":{` + meta + `,"intent":"deleteOne"}}`, jqlgate.EINVALID, "__meta__.uniqueObject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fails(tt.envelope, tt.code, tt.field)
		})
	}
	if n := len(e.pub.all()); n != 1 {
		t.Errorf("got %d events, want 1 (only the first create)", n)
	}
}

func TestMissingRequiredAllReported(t *testing.T) {
	e := newEnv(t, "")
	err := e.fails(`{"__meta__":{`+meta+`,"intent":"create"},"phone":"1"}`, jqlgate.EINVALID, "email")
	var fields []string
	for _, f := range err.Fields {
		fields = append(fields, f.Field)
	}
	if !slices.Equal(fields, []string{"email", "name"}) {
		t.Errorf("fields = %v, want [email name]", fields)
	}
}

func TestUpdateConflict(t *testing.T) {
	e := newEnv(t, "")
	e.create("Ada", "ada@example.com", "")
	id := e.create("Bob", "bob@example.com", "")
	e.fails(`{"__meta__":{`+meta+`,"intent":"update","uniqueObject":{"id":"`+id+`"}},"email":"ada@example.com"}`, jqlgate.ECONFLICT, "email")
}

// TestPublishFailureUndoesWrite checks that a write whose event can't be
// recorded is reported as failed and undone.
func TestPublishFailureUndoesWrite(t *testing.T) {
	e := newEnv(t, "")
	id := e.create("Ada", "ada@example.com", "")
	e.pub.err = errPublish
	_, err := e.do(`{"__meta__":{` + meta + `,"intent":"create"},"name":"Bob","email":"bob@example.com"}`)
	if jqlgate.ErrorCode(err) != jqlgate.EUNAVAILABLE {
		t.Errorf("create err = %v, want the publish error", err)
	}
	_, err = e.do(`{"__meta__":{` + meta + `,"intent":"update","uniqueObject":{"id":"` + id + `"}},"name":"Changed"}`)
	if jqlgate.ErrorCode(err) != jqlgate.EUNAVAILABLE {
		t.Errorf("update err = %v, want the publish error", err)
	}
	_, err = e.do(`{"__meta__":{` + meta + `,"intent":"deleteOne","uniqueObject":{"id":"` + id + `"}}}`)
	if jqlgate.ErrorCode(err) != jqlgate.EUNAVAILABLE {
		t.Errorf("delete err = %v, want the publish error", err)
	}
	e.pub.err = nil
	res := e.ok(`{"__meta__":{` + meta + `,"intent":"retrieve"},"name":null}`)
	if got := names(records(t, res)); !slices.Equal(got, []string{"Ada"}) {
		t.Errorf("after failed writes got %v, want only Ada, unchanged", got)
	}
	rec, err := e.store.Get(context.Background(), "model_profile_customer", id)
	if err != nil || rec["updated_at"] != rec["created_at"] {
		t.Errorf("restored record = %v, %v; want updated_at back to created_at", rec, err)
	}
}

// TestSchemaDirNamespace uses a namespace declared only by a schema file.
func TestSchemaDirNamespace(t *testing.T) {
	e := newEnv(t, "testdata/schemas")
	owner := e.create("Ada", "ada@example.com", "")
	vm := `"namespace":"fleet.Vehicle","schema":"model"`
	res := e.ok(`{"__meta__":{` + vm + `,"intent":"create","return":{"id":null,"year":null,"electric":null,"audit_score":null}},
		"gearbox":"automatic","purchase_type":"lease","vin":"1HGCM82633A004352","vrm":"AB12CDE","year":"2024",
		"mileage":"1200.5","registered_on":"2024-02-01","owner":"` + owner + `","tags":["fleet",1]}`)
	data := res.Data.(map[string]any)
	vid := data["id"].(string)
	if data["year"] != int64(2024) || data["electric"] != false || data["audit_score"] != int64(0) || vid[:4] != "veh_" {
		t.Errorf("create = %v, want year 2024, defaults, id veh_…", data)
	}
	e.fails(`{"__meta__":{`+vm+`,"intent":"create"},"vin":"1HGCM82633A004352","vrm":"X","year":"twenty"}`, jqlgate.EINVALID, "year")
	e.fails(`{"__meta__":{`+vm+`,"intent":"create"},"vin":"1HGCM82633A004352","vrm":"X"}`, jqlgate.ECONFLICT, "vin")
	e.fails(`{"__meta__":{`+vm+`,"intent":"update","uniqueObject":{"id":"`+vid+`"}},"audit_score":5}`, jqlgate.EINVALID, "audit_score")
	res = e.ok(`{"__meta__":{` + vm + `,"intent":"retrieve","filter":{"year__gte":"2020","mileage__lt":2000,"electric":"false","registered_on__lt":"2024-03-01T00:00:00Z"}},"vrm":null}`)
	if res.Display != 1 {
		t.Errorf("typed filters matched %d, want 1", res.Display)
	}
	e.ok(`{"__meta__":{` + vm + `,"intent":"update","uniqueObject":{"vin":"1HGCM82633A004352"}},"vrm":"XY34ZFG","year":"2025"}`)
	e.ok(`{"__meta__":{` + vm + `,"intent":"deleteOne","uniqueObject":{"id":"` + vid + `"}}}`)
	var types []string
	for _, ev := range e.pub.all() {
		types = append(types, ev.Type)
	}
	want := []string{"profile.Customer:create", "fleet.Vehicle:create", "fleet.Vehicle:delete"}
	if !slices.Equal(types, want) {
		t.Errorf("events = %v, want %v (fleet.Vehicle emits no update)", types, want)
	}
}
