package model_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
)

const meta = `"namespace":"profile.Customer","schema":"model","authenticationClass":"jwt"`

// TestAntlyExamples runs Antly's create, retrieve, update and deleteOne
// examples, adapted to profile.Customer, and checks each write's event.
func TestAntlyExamples(t *testing.T) {
	e := newEnv(t, "")
	res := e.ok(`{"__meta__":{` + meta + `,"intent":"create","return":{"id":null}},
		"name":"Ada Lovelace","email":"ada@example.com","phone":"+44 20 7946 0000","metadata":{"tier":"gold","visits":3}}`)
	data := res.Data.(map[string]any)
	id, _ := data["id"].(string)
	if len(data) != 1 || !strings.HasPrefix(id, "cus_") {
		t.Fatalf("create returned %v, want only an id cus_…", data)
	}

	res = e.ok(`{"__meta__":{` + meta + `,"intent":"retrieve","filter":{"status":"active"},"limit":10,"offset":0},
		"id":null,"name":null,"email":null,"status":null}`)
	want := []map[string]any{{"id": id, "name": "Ada Lovelace", "email": "ada@example.com", "status": "active"}}
	if diff := cmp.Diff(want, records(t, res)); diff != "" {
		t.Errorf("retrieve (-want +got):\n%s", diff)
	}
	if res.Filtered != 1 || res.Display != 1 {
		t.Errorf("extras = %d/%d, want 1/1", res.Filtered, res.Display)
	}

	res = e.ok(`{"__meta__":{` + meta + `,"intent":"update","return":{"id":null,"phone":null},"uniqueObject":{"id":"` + id + `"}},
		"phone":"+44 20 0000 0000","status":"inactive"}`)
	if diff := cmp.Diff(map[string]any{"id": id, "phone": "+44 20 0000 0000"}, res.Data); diff != "" {
		t.Errorf("update (-want +got):\n%s", diff)
	}

	res = e.ok(`{"__meta__":{` + meta + `,"intent":"deleteOne","uniqueObject":{"id":"` + id + `"}}}`)
	if res.Data != nil || res.Filtered != 1 || res.Display != 0 {
		t.Errorf("deleteOne = %+v, want no data, filtered 1, display 0", res)
	}
	e.fails(`{"__meta__":{`+meta+`,"intent":"retrieve","uniqueObject":{"id":"`+id+`"}}}`, jqlgate.ENOTFOUND, "__meta__.uniqueObject")

	checkEvents(t, e.pub.all(), id)
}

func checkEvents(t *testing.T, events []*jqlgate.Event, id string) {
	t.Helper()
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
		if ev.EntityID != id || ev.Data["id"] != id || !strings.HasPrefix(ev.ID, "evt_") || ev.Timestamp.IsZero() {
			t.Errorf("event %s = %+v, want entity %s in id and data", ev.Type, ev, id)
		}
	}
	want := []string{"profile.Customer:create", "profile.Customer:update", "profile.Customer:delete"}
	if !slices.Equal(types, want) {
		t.Fatalf("events = %v, want %v", types, want)
	}
	create, update, del := events[0], events[1], events[2]
	if create.Data["status"] != "active" || create.Data["metadata"].(map[string]any)["visits"] != int64(3) {
		t.Errorf("create data = %v, want the full record", create.Data)
	}
	if _, ok := create.Data["created_at"].(time.Time); !ok {
		t.Errorf("create data created_at = %T, want time.Time", create.Data["created_at"])
	}
	if !slices.Equal(update.Changed, []string{"phone", "status"}) || update.Data["status"] != "inactive" {
		t.Errorf("update changed %v data %v, want phone and status changed", update.Changed, update.Data)
	}
	if del.Data["phone"] != "+44 20 0000 0000" || del.Data["email"] != "ada@example.com" {
		t.Errorf("delete data = %v, want the record as it was", del.Data)
	}
}

func TestRetrieveQueries(t *testing.T) {
	e := newEnv(t, "")
	e.create("Ada Lovelace", "ada@example.com", `,"metadata":{"n":1}`)
	e.create("Alan Turing", "alan@example.com", `,"status":"inactive"`)
	e.create("Grace Hopper", "grace@navy.mil", `,"phone":"555-0100"`)
	e.create("Katherine Johnson", "kj@nasa.gov", `,"status":"blocked"`)
	e.create("a.*+ literal", "regex@example.com", "")
	tests := []struct {
		name     string
		meta     string
		want     []string
		filtered int
	}{
		{"ordering", `"ordering":["name"]`, []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "a.*+ literal"}, 5},
		{"descending", `"ordering":["-name"],"limit":2`, []string{"a.*+ literal", "Katherine Johnson"}, 5},
		{"offset", `"ordering":["name"],"limit":2,"offset":2`, []string{"Grace Hopper", "Katherine Johnson"}, 5},
		{"pk", `"ordering":["-pk"],"limit":1`, []string{"a.*+ literal"}, 5},
		{"two keys", `"ordering":["status","-name"],"limit":3`, []string{"a.*+ literal", "Grace Hopper", "Ada Lovelace"}, 5},
		{"equality", `"filter":{"status":"active"},"ordering":["name"]`, []string{"Ada Lovelace", "Grace Hopper", "a.*+ literal"}, 3},
		{"in", `"filter":{"status__in":["inactive","blocked"]},"ordering":["name"]`, []string{"Alan Turing", "Katherine Johnson"}, 2},
		{"ne", `"filter":{"status__ne":"active"},"ordering":["name"]`, []string{"Alan Turing", "Katherine Johnson"}, 2},
		{"icontains", `"filter":{"email__icontains":"EXAMPLE"},"ordering":["name"]`, []string{"Ada Lovelace", "Alan Turing", "a.*+ literal"}, 3},
		{"startswith", `"filter":{"name__startswith":"A"},"ordering":["name"]`, []string{"Ada Lovelace", "Alan Turing"}, 2},
		{"endswith", `"filter":{"email__endswith":".gov"}`, []string{"Katherine Johnson"}, 1},
		{"isnull", `"filter":{"phone__isnull":false}`, []string{"Grace Hopper"}, 1},
		{"exclude", `"exclude":{"status":"active"},"ordering":["name"]`, []string{"Alan Turing", "Katherine Johnson"}, 2},
		{"exclude is a conjunction", `"exclude":{"status":"active","name__startswith":"A"},"ordering":["name"],"limit":2`, []string{"Alan Turing", "Grace Hopper"}, 4},
		{"search", `"search":{"value":"NASA"}`, []string{"Katherine Johnson"}, 1},
		{"search is literal", `"search":{"value":".*+"}`, []string{"a.*+ literal"}, 1},
		{"search and filter", `"search":{"value":"a"},"filter":{"status":"inactive"}`, []string{"Alan Turing"}, 1},
		{"created_at range", `"filter":{"created_at__gte":"2000-01-01T00:00:00Z"},"limit":1,"ordering":["name"]`, []string{"Ada Lovelace"}, 5},
		{"nothing", `"filter":{"name":"Nobody"}`, []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.ok(`{"__meta__":{` + meta + `,"intent":"retrieve",` + tt.meta + `}}`)
			got := names(records(t, res))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if res.Filtered != tt.filtered || res.Display != len(tt.want) {
				t.Errorf("extras filtered %d display %d, want %d %d", res.Filtered, res.Display, tt.filtered, len(tt.want))
			}
		})
	}
}

func TestRetrieveUniqueObject(t *testing.T) {
	e := newEnv(t, "")
	id := e.create("Ada", "ada@example.com", "")
	for _, uo := range []string{`{"id":"` + id + `"}`, `{"pk":"` + id + `"}`, `{"email":"ada@example.com"}`} {
		res := e.ok(`{"__meta__":{` + meta + `,"intent":"retrieve","uniqueObject":` + uo + `},"name":null}`)
		if diff := cmp.Diff(map[string]any{"name": "Ada"}, res.Data); diff != "" {
			t.Errorf("uniqueObject %s (-want +got):\n%s", uo, diff)
		}
	}
	e.fails(`{"__meta__":{`+meta+`,"intent":"retrieve","uniqueObject":{"email":"nobody@example.com"}}}`, jqlgate.ENOTFOUND, "__meta__.uniqueObject")
}

func TestDefaultAndMaxLimit(t *testing.T) {
	e := newEnv(t, "")
	for i := range 30 {
		e.create(fmt.Sprintf("C%02d", i), fmt.Sprintf("c%d@example.com", i), "")
	}
	res := e.ok(`{"__meta__":{` + meta + `,"intent":"retrieve"}}`)
	if res.Display != 25 || res.Filtered != 30 {
		t.Errorf("default page: display %d filtered %d, want 25 30", res.Display, res.Filtered)
	}
	res = e.ok(`{"__meta__":{` + meta + `,"intent":"retrieve","limit":1000,"offset":28}}`)
	if res.Display != 2 || res.Filtered != 30 {
		t.Errorf("last page: display %d filtered %d, want 2 30", res.Display, res.Filtered)
	}
}
