package model_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/model"
)

// __transform__ on a returned field changes the value the client gets,
// never the record.
func TestRetrieveTransforms(t *testing.T) {
	onBothStores(t, "testdata/schemas", func(t *testing.T, e *env) {
		const vehicle = `"namespace":"fleet.Vehicle","schema":"model"`
		e.ok(`{"__meta__":{` + vehicle + `,"intent":"create"},"vin":"1HGCM82633A004352","vrm":"ab12 cde","gearbox":"manual","year":2019,"mileage":12345.678,"registered_on":"2024-03-05T23:30:00Z"}`)
		get := func(fields string) map[string]any {
			t.Helper()
			res := e.ok(`{"__meta__":{` + vehicle + `,"intent":"retrieve"},` + fields + `}`)
			recs := records(t, res)
			if len(recs) != 1 {
				t.Fatalf("got %d records", len(recs))
			}
			return recs[0]
		}
		tests := []struct {
			name, fields, field string
			want                any
		}{
			{"date in a time zone", `"registered_on":{"__transform__":{"date":{"format":"%d %B %Y %H:%M","timezone":"Europe/London"}}}`, "registered_on", "05 March 2024 23:30"},
			{"date across midnight", `"registered_on":{"__transform__":{"date":{"format":"%Y-%m-%d","timezone":"Asia/Tokyo"}}}`, "registered_on", "2024-03-06"},
			{"upper", `"vrm":{"__transform__":{"upper":{}}}`, "vrm", "AB12 CDE"},
			{"map", `"gearbox":{"__transform__":{"map":{"values":{"manual":"Manual gearbox"},"default":"Other"}}}`, "gearbox", "Manual gearbox"},
			{"map a number by its text", `"year":{"__transform__":{"map":{"values":{"2019":"pre-2020"}}}}`, "year", "pre-2020"},
			{"round", `"mileage":{"__transform__":{"round":{"places":1}}}`, "mileage", 12345.7},
			{"truncate", `"vin":{"__transform__":{"truncate":{"length":4,"ellipsis":"…"}}}`, "vin", "1HGC…"},
			{"a list runs in order", `"vrm":{"__transform__":[{"upper":{}},{"truncate":{"length":4}}]}`, "vrm", "AB12"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := get(tt.fields); got[tt.field] != tt.want {
					t.Errorf("%s = %#v, want %#v", tt.field, got[tt.field], tt.want)
				}
			})
		}
		// The other fields listed come back as they are, the record is not
		// changed.
		rec := get(`"vrm":{"__transform__":{"upper":{}}},"gearbox":null`)
		if rec["gearbox"] != "manual" || len(rec) > 3 {
			t.Errorf("listed fields: %v", rec)
		}
		if got := get(`"vrm":null`); got["vrm"] != "ab12 cde" {
			t.Errorf("the stored vrm is now %v", got["vrm"])
		}

		bad := []struct{ fields, field string }{
			{`"vrm":{"__transform__":{"shout":{}}}`, "vrm.__transform__.shout"},
			{`"vrm":{"__transform__":{"upper":{"loud":true}}}`, "vrm.__transform__.upper.loud"},
			{`"vrm":{"__transform__":{"date":{"format":"%Y"}}}`, "vrm.__transform__.date"},
			{`"registered_on":{"__transform__":{"date":{}}}`, "registered_on.__transform__.date.format"},
			{`"registered_on":{"__transform__":{"date":{"format":"%Y","timezone":"Mars/Olympus"}}}`, "registered_on.__transform__.date.timezone"},
			{`"mileage":{"__transform__":{"round":{"places":99}}}`, "mileage.__transform__.round.places"},
			{`"vin":{"__transform__":{"truncate":{}}}`, "vin.__transform__.truncate.length"},
			{`"vin":{"__transform__":{"upper":{},"lower":{}}}`, "vin.__transform__"},
			{`"vin":{"__transform__":[]}`, "vin.__transform__"},
			{`"vin":{"nested":null}`, "vin.nested"},
			{`"vin":"upper"`, "vin"},
		}
		for _, b := range bad {
			e.fails(`{"__meta__":{`+vehicle+`,"intent":"retrieve"},`+b.fields+`}`, jqlgate.EINVALID, b.field)
		}
	})
}

// A reference field must name a record that exists, of the model it
// points at, which the writer may read.
func TestReferenceChecked(t *testing.T) {
	onBothStores(t, "testdata/schemas", func(t *testing.T, e *env) {
		cus := e.create("Ada Lovelace", "ada@example.com", "")
		const vehicle = `{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"create"},"vin":"1HGCM82633A004352","vrm":"AB12CDE","owner":`
		e.ok(vehicle + `"` + cus + `"}`)
		e.fails(vehicle+`"cus_01m8zzzzzzzzzzzzzzzzzzzzzz"}`, jqlgate.EINVALID, "owner")
		e.fails(vehicle+`"not-an-id"}`, jqlgate.EINVALID, "owner")

		cmd := command(t, vehicle+`"`+cus+`"}`)
		cmd.Principal = &jqlgate.Principal{ID: "c1", Kind: jqlgate.PrincipalClient, Permissions: []string{"fleet.Vehicle:*"}}
		_, err := e.mux.Serve(context.Background(), cmd)
		if je := jqlgate.AsError(err); je.Code != jqlgate.EFORBIDDEN || je.Field != "owner" {
			t.Errorf("a writer that may not read profile.Customer: %v, want 403 on owner", err)
		}
		cmd = command(t, strings.Replace(vehicle, "1HGCM82633A004352", "2HGCM82633A004352", 1)+`"`+cus+`"}`)
		cmd.Principal = &jqlgate.Principal{ID: "c2", Kind: jqlgate.PrincipalClient, Permissions: []string{"fleet.Vehicle:*", "profile.Customer:retrieve"}}
		if _, err := e.mux.Serve(context.Background(), cmd); err != nil {
			t.Errorf("a writer that may read profile.Customer: %v", err)
		}
	})
}

// A reference field given an object returns the referenced record's
// listed fields in place of its id, read once for the whole page; a
// model the caller may not read is a 403 naming the field.
func TestRetrieveNestedReference(t *testing.T) {
	onBothStores(t, "testdata/schemas", func(t *testing.T, e *env) {
		ada := e.create("Ada Lovelace", "ada@example.com", "")
		alan := e.create("Alan Turing", "alan@example.com", "")
		const vehicle = `{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"create"},"vrm":"AB12CDE",`
		e.ok(vehicle + `"vin":"1HGCM82633A004352","owner":"` + ada + `"}`)
		e.ok(vehicle + `"vin":"2HGCM82633A004352","owner":"` + alan + `"}`)
		e.ok(vehicle + `"vin":"3HGCM82633A004352","owner":"` + ada + `"}`)
		e.ok(vehicle + `"vin":"4HGCM82633A004352"}`)

		res := e.ok(`{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"retrieve","ordering":["vin"]},"vin":null,"owner":{"name":{"__transform__":{"upper":{}}},"email":null}}`)
		recs := records(t, res)
		want := []string{"ADA LOVELACE", "ALAN TURING", "ADA LOVELACE", ""}
		for i, r := range recs {
			owner, _ := r["owner"].(map[string]any)
			if got, _ := owner["name"].(string); got != want[i] {
				t.Errorf("vehicle %v: owner %v, want %q", r["vin"], r["owner"], want[i])
			}
			if owner != nil && (owner["email"] == nil || owner["id"] != nil || owner["phone"] != nil) {
				t.Errorf("vehicle %v: owner %v, want only the listed fields", r["vin"], owner)
			}
		}
		if recs[3]["owner"] != nil {
			t.Errorf("a vehicle without an owner: %v", recs[3]["owner"])
		}
		// The id may still only be transformed.
		res = e.ok(`{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"retrieve","ordering":["vin"],"limit":1},"owner":{"__transform__":{"upper":{}}}}`)
		if got := records(t, res)[0]["owner"]; got != strings.ToUpper(ada) {
			t.Errorf("owner id transformed: %v", got)
		}

		e.fails(`{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"retrieve"},"owner":{"nope":null}}`, jqlgate.EINVALID, "owner.nope")
		e.fails(`{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"retrieve"},"vin":{"name":null}}`, jqlgate.EINVALID, "vin.name")
		cmd := command(t, `{"__meta__":{"namespace":"fleet.Vehicle","schema":"model","intent":"retrieve"},"owner":{"name":null}}`)
		cmd.Principal = &jqlgate.Principal{ID: "c1", Kind: jqlgate.PrincipalClient, Permissions: []string{"fleet.Vehicle:*"}}
		if _, err := e.mux.Serve(context.Background(), cmd); jqlgate.ErrorCode(err) != jqlgate.EFORBIDDEN || jqlgate.AsError(err).Field != "owner" {
			t.Errorf("nesting a model the caller may not read: %v, want 403 on owner", err)
		}
	})
}

// A reverse accessor returns each record's related records, read once for
// the page, with their own filter, ordering and limit.
func TestRetrieveReverseAccessor(t *testing.T) {
	onBothStores(t, "../../examples/schemas", func(t *testing.T, e *env) {
		const cat = `"namespace":"tickets.Category","schema":"model"`
		id := func(res *jqlgate.Result) string { return res.Data.(map[string]any)["id"].(string) }
		hw := id(e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"Hardware"}`))
		sw := id(e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"Software"}`))
		for _, n := range []string{"Laptops", "Printers", "Phones"} {
			e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"` + n + `","parent":"` + hw + `"}`)
		}
		e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"Email","parent":"` + sw + `"}`)

		res := e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve","filter":{"parent__isnull":true},"ordering":["name"]},"name":null,` +
			`"subcategories":{"name":null,"__meta__":{"ordering":["-name"],"limit":2}}}`)
		recs := records(t, res)
		if len(recs) != 2 {
			t.Fatalf("top categories: %v", recs)
		}
		got := func(r map[string]any) []string {
			var out []string
			for _, s := range r["subcategories"].([]map[string]any) {
				out = append(out, s["name"].(string))
			}
			return out
		}
		if g := got(recs[0]); recs[0]["name"] != "Hardware" || !slices.Equal(g, []string{"Printers", "Phones"}) {
			t.Errorf("Hardware's subcategories = %v, want the first two by -name", g)
		}
		if g := got(recs[1]); !slices.Equal(g, []string{"Email"}) {
			t.Errorf("Software's subcategories = %v", g)
		}
		res = e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve","filter":{"name":"Hardware"}},"subcategories":{"name":null,"__meta__":{"filter":{"name__startswith":"P"}}}}`)
		if g := got(records(t, res)[0]); len(g) != 2 {
			t.Errorf("filtered subcategories = %v", g)
		}
		e.fails(`{"__meta__":{`+cat+`,"intent":"retrieve"},"subcategories":{"__meta__":{"limit":0}}}`, jqlgate.EINVALID, "subcategories.__meta__.limit")
		e.fails(`{"__meta__":{`+cat+`,"intent":"retrieve"},"subcategories":{"__meta__":{"group":1}}}`, jqlgate.EINVALID, "subcategories.__meta__.group")
		e.fails(`{"__meta__":{`+cat+`,"intent":"retrieve"},"subcategories":{"nope":null}}`, jqlgate.EINVALID, "subcategories.nope")
		cmd := command(t, `{"__meta__":{`+cat+`,"intent":"retrieve"},"tickets":null}`)
		cmd.Principal = &jqlgate.Principal{ID: "c1", Kind: jqlgate.PrincipalClient, Permissions: []string{"tickets.Category:*"}}
		if _, err := e.mux.Serve(context.Background(), cmd); jqlgate.ErrorCode(err) != jqlgate.EFORBIDDEN || jqlgate.AsError(err).Field != "tickets" {
			t.Errorf("a reverse accessor to a model the caller may not read: %v, want 403 on tickets", err)
		}
	})
}

// Antly's aggregation example: the number of subcategories of each
// category, and more aggregation fields beside it, each one grouped query
// for the page.
func TestRetrieveAggregation(t *testing.T) {
	onBothStores(t, "../../examples/schemas", func(t *testing.T, e *env) {
		const cat = `"namespace":"tickets.Category","schema":"model"`
		id := func(res *jqlgate.Result) string { return res.Data.(map[string]any)["id"].(string) }
		hw := id(e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"Hardware"}`))
		e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"Software"}`)
		for _, n := range []string{"Laptops", "Printers"} {
			e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"` + n + `","parent":"` + hw + `"}`)
		}
		for i, st := range []string{"open", "open", "closed"} {
			e.ok(fmt.Sprintf(`{"__meta__":{"namespace":"tickets.Ticket","schema":"model","intent":"create"},"title":"T%d","status":%q,"priority":%d,"hours":%g,"category":%q}`, i, st, i+1, 1.5*float64(i+1), hw))
		}
		res := e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve","filter":{"parent__isnull":true},"ordering":["pk"],"limit":10,"offset":0},
			"name":null,
			"subcategoriesCount":{"__meta__":{"namespace":"tickets.Category","intent":"subquery","ordering":"name","onField":"id",
				"outerRefMapping":[{"field":"id","referenceField":"parent"}],
				"sequencedProcess":[{"function":"Count","castType":"int","onField":"id"}]}},
			"openHours":{"__meta__":{"namespace":"tickets.Ticket","intent":"subquery","filter":{"status":"open"},
				"outerRefMapping":[{"field":"id","referenceField":"category"}],
				"sequencedProcess":[{"function":"Sum","onField":"hours"}]}},
			"avgPriority":{"__meta__":{"namespace":"tickets.Ticket","intent":"subquery","onField":"priority",
				"outerRefMapping":[{"field":"id","referenceField":"category"}],
				"sequencedProcess":[{"function":"Avg"},{"function":"Cast","castType":"string"}]}}}`)
		recs := records(t, res)
		byName := map[string]map[string]any{}
		for _, r := range recs {
			byName[r["name"].(string)] = r
		}
		h, s := byName["Hardware"], byName["Software"]
		if h == nil || s == nil {
			t.Fatalf("records: %v", recs)
		}
		if h["subcategoriesCount"] != int64(2) || s["subcategoriesCount"] != int64(0) {
			t.Errorf("subcategoriesCount = %v / %v, want 2 / 0", h["subcategoriesCount"], s["subcategoriesCount"])
		}
		if h["openHours"] != 4.5 || s["openHours"] != nil {
			t.Errorf("openHours = %v / %v, want 4.5 / null", h["openHours"], s["openHours"])
		}
		if h["avgPriority"] != "2" {
			t.Errorf("avgPriority = %#v, want \"2\"", h["avgPriority"])
		}
		if _, ok := h["id"]; ok {
			t.Errorf("the id was not listed but is returned: %v", h)
		}

		// The outer ordering may name an aggregation field.
		countSub := `"subcategoriesCount":{"__meta__":{"namespace":"tickets.Category","intent":"subquery","outerRefMapping":[{"field":"id","referenceField":"parent"}],"sequencedProcess":[{"function":"Count"}]}}`
		for _, tt := range []struct {
			ordering string
			want     []string
		}{
			{`["-subcategoriesCount","name"]`, []string{"Hardware", "Laptops", "Printers"}},
			{`["subcategoriesCount","-name"]`, []string{"Software", "Printers", "Laptops"}},
		} {
			res := e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve","ordering":` + tt.ordering + `,"limit":3},"name":null,` + countSub + `}`)
			if got := names(records(t, res)); !slices.Equal(got, tt.want) || res.Filtered != 4 {
				t.Errorf("ordering %s: %v (filtered %d), want %v of 4", tt.ordering, got, res.Filtered, tt.want)
			}
		}

		const sub = `{"__meta__":{` + cat + `,"intent":"retrieve"},"n":{"__meta__":{"namespace":"tickets.Ticket","intent":"subquery",`
		e.fails(sub+`"outerRefMapping":[{"field":"id","referenceField":"nope"}],"sequencedProcess":[{"function":"Count"}]}}}`, jqlgate.EINVALID, "n.__meta__.outerRefMapping[0].referenceField")
		e.fails(sub+`"outerRefMapping":[{"field":"id","referenceField":"category"}],"sequencedProcess":[{"function":"Median"}]}}}`, jqlgate.EINVALID, "n.__meta__.sequencedProcess[0].function")
		e.fails(sub+`"outerRefMapping":[{"field":"id","referenceField":"category"}],"sequencedProcess":[{"function":"Sum","onField":"title"}]}}}`, jqlgate.EINVALID, "n.__meta__.sequencedProcess[0].onField")
		e.fails(sub+`"outerRefMapping":[{"field":"id","referenceField":"category"}],"sequencedProcess":[{"function":"Count","castType":"bigint"}]}}}`, jqlgate.EINVALID, "n.__meta__.sequencedProcess[0].castType")
		e.fails(sub+`"sequencedProcess":[{"function":"Count"}]}}}`, jqlgate.EINVALID, "n.__meta__.outerRefMapping")
		e.fails(sub+`"outerRefMapping":[{"field":"created_at","referenceField":"category"}],"sequencedProcess":[{"function":"Count"}]}}}`, jqlgate.EINVALID, "n.__meta__.outerRefMapping[0].field")
		e.fails(sub+`"outerRefMapping":["id"],"sequencedProcess":[{"function":"Count"}]}}}`, jqlgate.EINVALID, "n.__meta__.outerRefMapping[0].field")
		cmd := command(t, sub+`"outerRefMapping":[{"field":"id","referenceField":"category"}],"sequencedProcess":[{"function":"Count"}]}}}`)
		cmd.Principal = &jqlgate.Principal{ID: "c1", Kind: jqlgate.PrincipalClient, Permissions: []string{"tickets.Category:*"}}
		if _, err := e.mux.Serve(context.Background(), cmd); jqlgate.ErrorCode(err) != jqlgate.EFORBIDDEN || jqlgate.AsError(err).Field != "n" {
			t.Errorf("aggregating a model the caller may not read: %v, want 403 on n", err)
		}
	})
}

// Relations and aggregation are bounded: how deep references nest, how
// many related records a page may have, and how many records an ordering
// by an aggregation field may cover; past each, a 400 says which.
func TestRelationBounds(t *testing.T) {
	onBothStores(t, "../../examples/schemas", func(t *testing.T, e *env) {
		defer model.SetBounds(3, 2)()
		const cat = `"namespace":"tickets.Category","schema":"model"`
		id := func(res *jqlgate.Result) string { return res.Data.(map[string]any)["id"].(string) }
		top := id(e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"Top"}`))
		for _, n := range []string{"A", "B", "C", "D"} {
			e.ok(`{"__meta__":{` + cat + `,"intent":"create"},"name":"` + n + `","parent":"` + top + `"}`)
		}
		e.fails(`{"__meta__":{`+cat+`,"intent":"retrieve"},"parent":{"parent":{"parent":{"parent":{"name":null}}}}}`, jqlgate.EINVALID, "parent.parent.parent.parent")
		e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve"},"parent":{"parent":{"parent":{"name":null}}}}`)
		// Four subcategories under Top: more than 3 related records.
		e.fails(`{"__meta__":{`+cat+`,"intent":"retrieve","filter":{"name":"Top"}},"subcategories":null}`, jqlgate.EINVALID, "subcategories")
		e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve","filter":{"name":"Top"}},"subcategories":{"__meta__":{"filter":{"name__in":["A","B"]}}}}`)
		// Five categories match: more than 2 to order by an aggregate.
		count := `"n":{"__meta__":{"namespace":"tickets.Category","intent":"subquery","outerRefMapping":[{"field":"id","referenceField":"parent"}],"sequencedProcess":[{"function":"Count"}]}}`
		e.fails(`{"__meta__":{`+cat+`,"intent":"retrieve","ordering":["-n"]},`+count+`}`, jqlgate.EINVALID, "__meta__.ordering")
		e.ok(`{"__meta__":{` + cat + `,"intent":"retrieve","ordering":["-n"],"filter":{"name__in":["Top","A"]}},` + count + `}`)
	})
}
