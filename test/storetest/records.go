package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/model"
)

// Records runs the contract of a record store (model.Store) against
// stores that open returns, each fresh and empty: value types round trip
// as plain Go values, unique indexes refuse duplicates, missing records
// are ENOTFOUND, every filter lookup has MongoDB's semantics (types never
// compare across kinds, null matches a missing field), exclude, search
// (case-insensitive and literal), ordering with ties broken by id, paging,
// projection, counting, restore, and concurrent inserts.
func Records(t *testing.T, open func(t *testing.T) model.Store) {
	t.Run("RoundTrip", func(t *testing.T) { recordsRoundTrip(t, open(t)) })
	t.Run("Update", func(t *testing.T) { recordsUpdate(t, open(t)) })
	t.Run("Conflict", func(t *testing.T) { recordsConflict(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { recordsNotFound(t, open(t)) })
	t.Run("Lookups", func(t *testing.T) { recordsLookups(t, open(t), false) })
	t.Run("LookupsIndexed", func(t *testing.T) { recordsLookups(t, open(t), true) })
	t.Run("Literal", func(t *testing.T) { recordsLiteral(t, open(t)) })
	t.Run("Search", func(t *testing.T) { recordsSearch(t, open(t)) })
	t.Run("Ordering", func(t *testing.T) { recordsOrdering(t, open(t), false) })
	t.Run("OrderingIndexed", func(t *testing.T) { recordsOrdering(t, open(t), true) })
	t.Run("Paging", func(t *testing.T) { recordsPaging(t, open(t)) })
	t.Run("Fields", func(t *testing.T) { recordsFields(t, open(t)) })
	t.Run("Count", func(t *testing.T) { recordsCount(t, open(t)) })
	t.Run("Aggregate", func(t *testing.T) { recordsAggregate(t, open(t)) })
	t.Run("Restore", func(t *testing.T) { recordsRestore(t, open(t)) })
	t.Run("ConcurrentInserts", func(t *testing.T) { recordsConcurrent(t, open(t)) })
}

const recColl = "model_test_thing"

func recInsert(t *testing.T, s model.Store, recs ...map[string]any) {
	t.Helper()
	for _, r := range recs {
		if err := s.Insert(context.Background(), recColl, r); err != nil {
			t.Fatalf("Insert(%v): %v", r["id"], err)
		}
	}
}

func recEnsure(t *testing.T, s model.Store, indexes ...jqlgate.Index) {
	t.Helper()
	if err := s.EnsureIndexes(context.Background(), recColl, indexes); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
}

func recFind(t *testing.T, s model.Store, q jqlgate.Query) []map[string]any {
	t.Helper()
	recs, err := s.Find(context.Background(), recColl, &q)
	if err != nil {
		t.Fatalf("Find(%+v): %v", q, err)
	}
	return recs
}

func recIDs(recs []map[string]any) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i], _ = r["id"].(string)
	}
	return out
}

func recSortedIDs(recs []map[string]any) []string {
	out := recIDs(recs)
	slices.Sort(out)
	return out
}

func recCond(field, op string, v any) jqlgate.Condition {
	return jqlgate.Condition{Field: field, Op: op, Value: v}
}

func recordsRoundTrip(t *testing.T, s model.Store) {
	ctx := context.Background()
	at := time.Date(2024, 1, 2, 3, 4, 5, 6_789_000, time.FixedZone("X", 3600))
	rec := map[string]any{
		"id": "thi_1", "s": "héllo \"quoted\" \\ \n\u0001 <&>", "empty": "",
		"i": int64(-42), "big": int64(1) << 53, "f": 3.0, "g": 2.5, "neg": -0.125, "exp": 1e21,
		"t": true, "no": false, "null": nil, "at": at, "zero": int64(0),
		"obj":  map[string]any{"k": []any{int64(1), "x", 1.0, nil, true}, "in": map[string]any{"deep": 1.5}},
		"list": []any{map[string]any{"a": int64(1)}, "b", 2.0}, // FerretDB v1, which the tests run the mongodb adapter on, refuses nested arrays
		"none": map[string]any{}, "nolist": []any{},
	}
	recInsert(t, s, rec)
	want := map[string]any{}
	for k, v := range rec {
		want[k] = v
	}
	want["at"] = at.UTC().Truncate(time.Millisecond)
	got, err := s.Get(ctx, recColl, "thi_1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("Get: %s = %#v (%T), want %#v (%T)", k, got[k], got[k], want[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("Get: unexpected field %s = %#v", k, got[k])
			}
		}
	}
	found := recFind(t, s, jqlgate.Query{})
	if len(found) != 1 || !reflect.DeepEqual(found[0], want) {
		t.Errorf("Find = %#v, want [%#v]", found, want)
	}
}

func recordsUpdate(t *testing.T, s model.Store) {
	ctx := context.Background()
	at := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
	recInsert(t, s, map[string]any{"id": "thi_1", "a": "x", "n": int64(1), "gone": "y"})
	after, err := s.Update(ctx, recColl, "thi_1", map[string]any{"n": 2.0, "gone": nil, "at": at, "new": []any{"z"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "thi_1", "a": "x", "n": 2.0, "gone": nil, "at": at.Truncate(time.Millisecond), "new": []any{"z"}}
	if !reflect.DeepEqual(after, want) {
		t.Errorf("Update = %#v, want %#v", after, want)
	}
	if got, err := s.Get(ctx, recColl, "thi_1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Get after update = %#v, %v; want %#v", got, err, want)
	}
	before, err := s.Delete(ctx, recColl, "thi_1")
	if err != nil || !reflect.DeepEqual(before, want) {
		t.Errorf("Delete = %#v, %v; want %#v", before, err, want)
	}
	if _, err := s.Get(ctx, recColl, "thi_1"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Get after delete: err = %v, want ENOTFOUND", err)
	}
}

func recordsConflict(t *testing.T, s model.Store) {
	ctx := context.Background()
	recEnsure(t, s, jqlgate.Index{Fields: []string{"code"}, Unique: true}, jqlgate.Index{Fields: []string{"a", "b"}, Unique: true})
	recEnsure(t, s, jqlgate.Index{Fields: []string{"code"}, Unique: true}) // idempotent
	recInsert(t, s,
		map[string]any{"id": "thi_1", "code": "x", "a": int64(1), "b": "p"},
		map[string]any{"id": "thi_2", "code": "y", "a": int64(1), "b": "q"})
	for name, rec := range map[string]map[string]any{
		"same id":           {"id": "thi_1", "code": "z", "a": int64(9)},
		"same unique value": {"id": "thi_3", "code": "x", "a": int64(9)},
		"same pair":         {"id": "thi_4", "code": "w", "a": 1.0, "b": "q"},
	} {
		if err := s.Insert(ctx, recColl, rec); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
			t.Errorf("Insert with the %s: err = %v, want ECONFLICT", name, err)
		}
	}
	if _, err := s.Update(ctx, recColl, "thi_2", map[string]any{"code": "x"}); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("Update to a taken unique value: err = %v, want ECONFLICT", err)
	}
	if got, _ := s.Get(ctx, recColl, "thi_2"); got["code"] != "y" {
		t.Errorf("after a refused update code = %v, want y", got["code"])
	}
	// A value of another kind is another value.
	recInsert(t, s, map[string]any{"id": "thi_5", "code": int64(7), "a": "1", "b": "q"})
	if err := s.Insert(ctx, recColl, map[string]any{"id": "thi_6", "code": "7", "a": int64(2)}); err != nil {
		t.Errorf("Insert of \"7\" beside 7: %v", err)
	}
	if n, err := s.Count(ctx, recColl, &jqlgate.Query{}); err != nil || n != 4 {
		t.Errorf("Count = %d, %v; want 4", n, err)
	}
}

func recordsNotFound(t *testing.T, s model.Store) {
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
			t.Errorf("%s: err = %v, want ENOTFOUND", what, err)
		}
	}
	// A collection nothing was written to yet.
	_, err := s.Get(ctx, recColl, "thi_1")
	check("Get in an empty collection", err)
	_, err = s.Update(ctx, recColl, "thi_1", map[string]any{"a": "b"})
	check("Update in an empty collection", err)
	_, err = s.Delete(ctx, recColl, "thi_1")
	check("Delete in an empty collection", err)
	if recs := recFind(t, s, jqlgate.Query{}); len(recs) != 0 {
		t.Errorf("Find in an empty collection = %v", recs)
	}
	if n, err := s.Count(ctx, recColl, &jqlgate.Query{Filter: []jqlgate.Condition{recCond("a", jqlgate.OpEq, "b")}}); err != nil || n != 0 {
		t.Errorf("Count in an empty collection = %d, %v", n, err)
	}
	recInsert(t, s, map[string]any{"id": "thi_2", "a": "b"})
	_, err = s.Get(ctx, recColl, "thi_1")
	check("Get", err)
	_, err = s.Update(ctx, recColl, "thi_1", map[string]any{"a": "c"})
	check("Update", err)
	_, err = s.Delete(ctx, recColl, "thi_1")
	check("Delete", err)
	if got, _ := s.Get(ctx, recColl, "thi_2"); got["a"] != "b" {
		t.Errorf("the other record changed: %v", got)
	}
}

// recLookupRecords hold a field of each kind, some missing or null, and n
// as a string in r5 to show that kinds never compare.
func recLookupRecords() []map[string]any {
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return []map[string]any{
		{"id": "r1", "n": int64(1), "s": "apple", "b": true, "f": 1.5, "at": t1},
		{"id": "r2", "n": int64(2), "s": "Banana", "b": false, "f": 2.0, "at": t1.Add(time.Hour)},
		{"id": "r3", "n": int64(3), "s": "cherry pie", "f": nil, "at": t1.Add(2 * time.Hour)},
		{"id": "r4", "s": nil, "b": true},
		{"id": "r5", "n": "3", "s": "appLE", "f": int64(7)},
	}
}

func recordsLookups(t *testing.T, s model.Store, indexed bool) {
	ctx := context.Background()
	if indexed {
		for _, f := range []string{"n", "s", "b", "f", "at"} {
			recEnsure(t, s, jqlgate.Index{Fields: []string{f}})
		}
	}
	recInsert(t, s, recLookupRecords()...)
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type C = jqlgate.Condition
	tests := []struct {
		name    string
		filter  []C
		exclude []C
		want    []string
	}{
		{"eq int", []C{recCond("n", "eq", int64(2))}, nil, []string{"r2"}},
		{"eq float matches int", []C{recCond("n", "eq", 2.0)}, nil, []string{"r2"}},
		{"eq int matches float", []C{recCond("f", "eq", int64(2))}, nil, []string{"r2"}},
		{"eq number is not a string", []C{recCond("n", "eq", int64(3))}, nil, []string{"r3"}},
		{"eq string is not a number", []C{recCond("n", "eq", "3")}, nil, []string{"r5"}},
		{"eq null matches null and missing", []C{recCond("b", "eq", nil)}, nil, []string{"r3", "r5"}},
		{"eq null on a null field", []C{recCond("s", "eq", nil)}, nil, []string{"r4"}},
		{"ne matches missing", []C{recCond("n", "ne", int64(2))}, nil, []string{"r1", "r3", "r4", "r5"}},
		{"ne null", []C{recCond("f", "ne", nil)}, nil, []string{"r1", "r2", "r5"}},
		{"gt", []C{recCond("n", "gt", int64(1))}, nil, []string{"r2", "r3"}},
		{"gte lt", []C{recCond("n", "gte", int64(2)), recCond("n", "lt", int64(3))}, nil, []string{"r2"}},
		{"lte float", []C{recCond("n", "lte", 2.5)}, nil, []string{"r1", "r2"}},
		{"gt string only strings", []C{recCond("n", "gt", "2")}, nil, []string{"r5"}},
		{"lt string only strings", []C{recCond("s", "lt", "b")}, nil, []string{"r1", "r2", "r5"}},
		{"float gte", []C{recCond("f", "gte", 2.0)}, nil, []string{"r2", "r5"}},
		{"float lt", []C{recCond("f", "lt", int64(2))}, nil, []string{"r1"}},
		{"in", []C{recCond("n", "in", []any{int64(1), int64(3)})}, nil, []string{"r1", "r3"}},
		{"in mixed kinds", []C{recCond("n", "in", []any{int64(1), "3"})}, nil, []string{"r1", "r5"}},
		{"in with null", []C{recCond("n", "in", []any{nil, int64(2)})}, nil, []string{"r2", "r4"}},
		{"in empty", []C{recCond("n", "in", []any{})}, nil, []string{}},
		{"in strings", []C{recCond("s", "in", []any{"apple", "Banana", "x"})}, nil, []string{"r1", "r2"}},
		{"isnull", []C{recCond("n", "isnull", true)}, nil, []string{"r4"}},
		{"isnull null value", []C{recCond("f", "isnull", true)}, nil, []string{"r3", "r4"}},
		{"not isnull", []C{recCond("s", "isnull", false)}, nil, []string{"r1", "r2", "r3", "r5"}},
		{"bool true", []C{recCond("b", "eq", true)}, nil, []string{"r1", "r4"}},
		{"bool false", []C{recCond("b", "eq", false)}, nil, []string{"r2"}},
		{"bool is not a number", []C{recCond("b", "eq", int64(1))}, nil, []string{}},
		{"time eq", []C{recCond("at", "eq", t1.Add(time.Hour))}, nil, []string{"r2"}},
		{"time gt", []C{recCond("at", "gt", t1)}, nil, []string{"r2", "r3"}},
		{"time lte", []C{recCond("at", "lte", t1.Add(time.Hour))}, nil, []string{"r1", "r2"}},
		{"time is not a number", []C{recCond("at", "gt", int64(0))}, nil, []string{}},
		{"contains", []C{recCond("s", "contains", "pp")}, nil, []string{"r1", "r5"}},
		{"contains is case-sensitive", []C{recCond("s", "contains", "LE")}, nil, []string{"r5"}},
		{"contains only strings", []C{recCond("n", "contains", "3")}, nil, []string{"r5"}},
		{"contains empty", []C{recCond("s", "contains", "")}, nil, []string{"r1", "r2", "r3", "r5"}},
		{"icontains", []C{recCond("s", "icontains", "LE")}, nil, []string{"r1", "r5"}},
		{"icontains long", []C{recCond("s", "icontains", "APPLE")}, nil, []string{"r1", "r5"}},
		{"startswith", []C{recCond("s", "startswith", "a")}, nil, []string{"r1", "r5"}},
		{"startswith is case-sensitive", []C{recCond("s", "startswith", "b")}, nil, []string{}},
		{"endswith", []C{recCond("s", "endswith", "pie")}, nil, []string{"r3"}},
		{"endswith longer than the value", []C{recCond("s", "endswith", "an apple")}, nil, []string{}},
		{"id eq", []C{recCond("id", "eq", "r3")}, nil, []string{"r3"}},
		{"id ne", []C{recCond("id", "ne", "r3")}, nil, []string{"r1", "r2", "r4", "r5"}},
		{"id in", []C{recCond("id", "in", []any{"r1", "r4", "r9"})}, nil, []string{"r1", "r4"}},
		{"id gte", []C{recCond("id", "gte", "r4")}, nil, []string{"r4", "r5"}},
		{"id startswith", []C{recCond("id", "startswith", "r")}, nil, []string{"r1", "r2", "r3", "r4", "r5"}},
		{"exclude", nil, []C{recCond("n", "gte", int64(2))}, []string{"r1", "r4", "r5"}},
		{"exclude all of", nil, []C{recCond("s", "startswith", "a"), recCond("b", "eq", true)}, []string{"r2", "r3", "r4", "r5"}},
		{"filter and exclude", []C{recCond("s", "icontains", "a")}, []C{recCond("id", "eq", "r1")}, []string{"r2", "r5"}},
	}
	for _, tt := range tests {
		q := jqlgate.Query{Filter: tt.filter, Exclude: tt.exclude}
		got := recSortedIDs(recFind(t, s, q))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Find = %v, want %v", tt.name, got, tt.want)
		}
		if n, err := s.Count(ctx, recColl, &q); err != nil || n != len(tt.want) {
			t.Errorf("%s: Count = %d, %v; want %d", tt.name, n, err, len(tt.want))
		}
	}
}

// recordsLiteral checks that string lookups are literal: no character of
// the client's value acts as a pattern.
func recordsLiteral(t *testing.T, s model.Store) {
	names := []string{"a.c", "abc", "(x)", "A.C+", "100%", "1000", "a_b", "axb", `back\slash`, "[set]", "^$", "x*"}
	for i, name := range names {
		recInsert(t, s, map[string]any{"id": fmt.Sprintf("l%02d", i), "name": name})
	}
	tests := []struct {
		op, v string
		want  []string
	}{
		{"contains", ".", []string{"a.c", "A.C+"}},
		{"icontains", "a.c", []string{"a.c", "A.C+"}},
		{"startswith", "(", []string{"(x)"}},
		{"contains", "%", []string{"100%"}},
		{"contains", "_", []string{"a_b"}},
		{"icontains", "0%", []string{"100%"}},
		{"icontains", "A_", []string{"a_b"}},
		{"endswith", "+", []string{"A.C+"}},
		{"contains", `\`, []string{`back\slash`}},
		{"icontains", "[SET]", []string{"[set]"}},
		{"startswith", "^", []string{"^$"}},
		{"endswith", "*", []string{"x*"}},
		{"icontains", ".*", []string{}},
	}
	for _, tt := range tests {
		recs := recFind(t, s, jqlgate.Query{Filter: []jqlgate.Condition{recCond("name", tt.op, tt.v)}})
		var got []string
		for _, r := range recs {
			got = append(got, r["name"].(string))
		}
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("name__%s %q = %v, want %v", tt.op, tt.v, got, want)
		}
	}
}

func recordsSearch(t *testing.T, s model.Store) {
	ctx := context.Background()
	fields := []string{"name", "email"}
	// Records stored before the search index exists are found too.
	recInsert(t, s,
		map[string]any{"id": "s1", "name": "Ada Lovelace", "email": "ada@example.com", "note": "pure"},
		map[string]any{"id": "s2", "name": "100% Pure", "email": "p_q@example.org"})
	recEnsure(t, s, jqlgate.Index{Fields: fields, Search: true}, jqlgate.Index{Fields: []string{"email"}, Unique: true})
	recInsert(t, s,
		map[string]any{"id": "s3", "name": "ÉCOLE (Paris)", "email": "x.y*z@example.net"},
		map[string]any{"id": "s4", "name": int64(12345), "email": nil},
		map[string]any{"id": "s5", "name": "Grace Hopper", "email": "grace@navy.mil"})
	tests := []struct {
		term string
		want []string
	}{
		{"lovelace", []string{"s1"}},
		{"LOVE", []string{"s1"}},
		{"ada", []string{"s1"}},
		{"example", []string{"s1", "s2", "s3"}},
		{"pure", []string{"s2"}},  // note is not searched
		{"% p", []string{"s2"}},   // '%' is literal
		{"%", []string{"s2"}},     // short terms too
		{"_", []string{"s2"}},     // '_' is literal
		{"p_q", []string{"s2"}},   // with the index
		{"pxq", []string{}},       // '_' matches no other character
		{"y*z", []string{"s3"}},   // regex characters are literal
		{".*", []string{}},        // not a pattern
		{"(par", []string{"s3"}},  // nor are parentheses
		{"école", []string{"s3"}}, // case folds beyond ASCII
		{"É", []string{"s3"}},
		{"234", []string{}}, // only strings are searched
		{"e", []string{"s1", "s2", "s3", "s5"}},
		{`"`, []string{}},
		{`a "b`, []string{}},
		{"navy.mil", []string{"s5"}},
		{"zzzz", []string{}},
	}
	for _, tt := range tests {
		q := jqlgate.Query{Search: tt.term, SearchFields: fields}
		got := recSortedIDs(recFind(t, s, q))
		if !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.term, got, tt.want)
		}
		if n, err := s.Count(ctx, recColl, &q); err != nil || n != len(tt.want) {
			t.Errorf("search %q: Count = %d, %v; want %d", tt.term, n, err, len(tt.want))
		}
	}
	// One field of the searchable ones.
	if got := recSortedIDs(recFind(t, s, jqlgate.Query{Search: "example", SearchFields: []string{"name"}})); len(got) != 0 {
		t.Errorf("search of name alone for example = %v, want none", got)
	}
	// With a filter, an ordering and a page.
	got := recIDs(recFind(t, s, jqlgate.Query{Search: "EXAMPLE", SearchFields: fields, Limit: 2,
		Ordering: []jqlgate.Order{{Field: "email", Desc: true}}, Filter: []jqlgate.Condition{recCond("id", "ne", "s2")}}))
	if !slices.Equal(got, []string{"s3", "s1"}) {
		t.Errorf("search with filter and ordering = %v, want [s3 s1]", got)
	}
	// The index follows updates and deletes.
	if _, err := s.Update(ctx, recColl, "s1", map[string]any{"name": "Augusta King"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, recColl, "s5", map[string]any{"note": "unsearched"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, recColl, "s3"); err != nil {
		t.Fatal(err)
	}
	for term, want := range map[string][]string{"lovelace": {}, "augusta": {"s1"}, "école": {}, "grace": {"s5"}, "example": {"s1", "s2"}} {
		got := recSortedIDs(recFind(t, s, jqlgate.Query{Search: term, SearchFields: fields}))
		if !slices.Equal(got, want) {
			t.Errorf("after changes, search %q = %v, want %v", term, got, want)
		}
	}
}

func recordsOrdering(t *testing.T, s model.Store, indexed bool) {
	if indexed {
		recEnsure(t, s, jqlgate.Index{Fields: []string{"n"}}, jqlgate.Index{Fields: []string{"u"}, Unique: true},
			jqlgate.Index{Fields: []string{"g", "n"}})
	}
	recInsert(t, s,
		map[string]any{"id": "o5", "n": int64(2), "g": "a", "u": "e"},
		map[string]any{"id": "o1", "n": int64(1), "g": "b", "u": "b"},
		map[string]any{"id": "o4", "n": 2.5, "g": "a", "u": "a"},
		map[string]any{"id": "o2", "n": int64(2), "g": "b", "u": "d"},
		map[string]any{"id": "o3", "n": int64(2), "g": "a", "u": "c"},
		map[string]any{"id": "o6", "n": int64(0), "g": "b", "u": "f"})
	type O = jqlgate.Order
	tests := []struct {
		order []O
		want  []string
	}{
		{[]O{{Field: "n"}}, []string{"o6", "o1", "o2", "o3", "o5", "o4"}},
		{[]O{{Field: "n", Desc: true}}, []string{"o4", "o2", "o3", "o5", "o1", "o6"}},
		{[]O{{Field: "u"}}, []string{"o4", "o1", "o3", "o2", "o5", "o6"}},
		{[]O{{Field: "u", Desc: true}}, []string{"o6", "o5", "o2", "o3", "o1", "o4"}},
		{[]O{{Field: "g"}, {Field: "n", Desc: true}}, []string{"o4", "o3", "o5", "o2", "o1", "o6"}},
		{[]O{{Field: "g", Desc: true}, {Field: "n"}}, []string{"o6", "o1", "o2", "o3", "o5", "o4"}},
		{[]O{{Field: "id", Desc: true}}, []string{"o6", "o5", "o4", "o3", "o2", "o1"}},
		{[]O{{Field: "g"}, {Field: "id", Desc: true}}, []string{"o5", "o4", "o3", "o6", "o2", "o1"}},
	}
	for _, tt := range tests {
		if got := recIDs(recFind(t, s, jqlgate.Query{Ordering: tt.order})); !slices.Equal(got, tt.want) {
			t.Errorf("ordering %v = %v, want %v", tt.order, got, tt.want)
		}
		// The first page is the start of the whole.
		if got := recIDs(recFind(t, s, jqlgate.Query{Ordering: tt.order, Limit: 2})); !slices.Equal(got, tt.want[:2]) {
			t.Errorf("ordering %v limit 2 = %v, want %v", tt.order, got, tt.want[:2])
		}
	}
	// Kinds sort in MongoDB's order: null and missing, numbers, strings.
	recInsert(t, s,
		map[string]any{"id": "k1", "n": "2", "u": "k1"},
		map[string]any{"id": "k2", "u": "k2"},
		map[string]any{"id": "k3", "n": nil, "u": "k3"})
	got := recIDs(recFind(t, s, jqlgate.Query{Ordering: []O{{Field: "n"}}}))
	want := []string{"k2", "k3", "o6", "o1", "o2", "o3", "o5", "o4", "k1"}
	if !slices.Equal(got, want) {
		t.Errorf("ordering across kinds = %v, want %v", got, want)
	}
}

func recordsPaging(t *testing.T, s model.Store) {
	recEnsure(t, s, jqlgate.Index{Fields: []string{"n"}})
	var all []string
	for i := range 23 {
		id := fmt.Sprintf("p%02d", i)
		all = append(all, id)
		recInsert(t, s, map[string]any{"id": id, "n": int64(i % 4)})
	}
	for _, order := range [][]jqlgate.Order{nil, {{Field: "n"}}, {{Field: "n", Desc: true}}} {
		whole := recIDs(recFind(t, s, jqlgate.Query{Ordering: order}))
		if len(whole) != len(all) {
			t.Fatalf("ordering %v: %d records, want %d", order, len(whole), len(all))
		}
		// With no ordering every store returns records by id.
		if order == nil && !slices.Equal(whole, all) {
			t.Errorf("no ordering = %v, want by id %v", whole, all)
		}
		var paged []string
		for off := 0; off < 30; off += 5 {
			paged = append(paged, recIDs(recFind(t, s, jqlgate.Query{Ordering: order, Limit: 5, Offset: off}))...)
		}
		if !slices.Equal(paged, whole) {
			t.Errorf("ordering %v: pages of 5 = %v, want %v", order, paged, whole)
		}
		if got := recFind(t, s, jqlgate.Query{Ordering: order, Offset: 20}); !slices.Equal(recIDs(got), whole[20:]) {
			t.Errorf("ordering %v: offset without limit = %v, want %v", order, recIDs(got), whole[20:])
		}
	}
	got := recIDs(recFind(t, s, jqlgate.Query{Filter: []jqlgate.Condition{recCond("n", "eq", int64(1))}, Limit: 2, Offset: 1}))
	if !slices.Equal(got, []string{"p05", "p09"}) {
		t.Errorf("filtered page = %v, want [p05 p09]", got)
	}
}

func recordsFields(t *testing.T, s model.Store) {
	recInsert(t, s, map[string]any{"id": "f1", "a": "x", "b": int64(2), "c": map[string]any{"d": true}})
	tests := []struct {
		fields []string
		want   map[string]any
	}{
		{[]string{"a"}, map[string]any{"id": "f1", "a": "x"}},
		{[]string{"b", "c"}, map[string]any{"id": "f1", "b": int64(2), "c": map[string]any{"d": true}}},
		{[]string{"id"}, map[string]any{"id": "f1"}},
		{[]string{"missing"}, map[string]any{"id": "f1"}},
	}
	for _, tt := range tests {
		got := recFind(t, s, jqlgate.Query{Fields: tt.fields})
		if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
			t.Errorf("Fields %v = %v, want [%v]", tt.fields, got, tt.want)
		}
	}
	got := recFind(t, s, jqlgate.Query{Fields: []string{"id"}, Filter: []jqlgate.Condition{recCond("a", "eq", "x")}, Limit: 1})
	if len(got) != 1 || got[0]["id"] != "f1" {
		t.Errorf("id of a unique match = %v", got)
	}
}

func recordsCount(t *testing.T, s model.Store) {
	ctx := context.Background()
	if n, err := s.Count(ctx, recColl, &jqlgate.Query{}); err != nil || n != 0 {
		t.Errorf("Count of a collection never written = %d, %v", n, err)
	}
	for i := range 7 {
		recInsert(t, s, map[string]any{"id": fmt.Sprintf("c%d", i), "odd": i%2 == 1})
	}
	if _, err := s.Delete(ctx, recColl, "c3"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    jqlgate.Query
		want int
	}{
		{jqlgate.Query{}, 6},
		{jqlgate.Query{Limit: 2, Offset: 1}, 6},
		{jqlgate.Query{Filter: []jqlgate.Condition{recCond("odd", "eq", true)}, Limit: 1}, 2},
		{jqlgate.Query{Exclude: []jqlgate.Condition{recCond("odd", "eq", true)}}, 4},
	} {
		if n, err := s.Count(ctx, recColl, &tt.q); err != nil || n != tt.want {
			t.Errorf("Count(%+v) = %d, %v; want %d", tt.q, n, err, tt.want)
		}
	}
}

// Aggregator is the record store's grouping read (model.Aggregator).
type Aggregator interface {
	Aggregate(ctx context.Context, coll string, q *jqlgate.Query, by, fn, of string) (map[string]float64, error)
}

func recordsAggregate(t *testing.T, s model.Store) {
	ctx := context.Background()
	ag, ok := s.(Aggregator)
	if !ok {
		t.Fatalf("%T does not aggregate", s)
	}
	if got, err := ag.Aggregate(ctx, "model_never_written", &jqlgate.Query{}, "cat", "count", ""); err != nil || len(got) != 0 {
		t.Errorf("Aggregate of a collection never written = %v, %v", got, err)
	}
	for _, r := range []map[string]any{
		{"id": "a1", "cat": "x", "n": 1.0, "at": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"id": "a2", "cat": "x", "n": int64(2)},
		{"id": "a3", "cat": "y", "n": 4.5, "at": time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"id": "a4", "cat": "y"},
		{"id": "a5", "cat": "z", "n": 9.0},
		{"id": "a6", "n": 7.0},
	} {
		recInsert(t, s, r)
	}
	q := &jqlgate.Query{Filter: []jqlgate.Condition{{Field: "cat", Op: jqlgate.OpIn, Value: []any{"x", "y"}}}}
	for _, tt := range []struct {
		fn, of string
		want   map[string]float64
	}{
		{"count", "", map[string]float64{"x": 2, "y": 2}},
		{"count", "n", map[string]float64{"x": 2, "y": 1}},
		{"sum", "n", map[string]float64{"x": 3, "y": 4.5}},
		{"avg", "n", map[string]float64{"x": 1.5, "y": 4.5}},
		{"min", "n", map[string]float64{"x": 1, "y": 4.5}},
		{"max", "n", map[string]float64{"x": 2, "y": 4.5}},
		{"max", "at", map[string]float64{"x": float64(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()), "y": float64(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli())}},
	} {
		got, err := ag.Aggregate(ctx, recColl, q, "cat", tt.fn, tt.of)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Aggregate(by cat, %s of %q) = %v, %v; want %v", tt.fn, tt.of, got, err, tt.want)
		}
	}
}

func recordsRestore(t *testing.T, s model.Store) {
	ctx := context.Background()
	recEnsure(t, s, jqlgate.Index{Fields: []string{"code"}, Unique: true})
	recInsert(t, s, map[string]any{"id": "x1", "code": "a", "n": 1.0, "at": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	before, err := s.Delete(ctx, recColl, "x1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, recColl, before); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, recColl, "x1"); err != nil || !reflect.DeepEqual(got, before) {
		t.Errorf("Get after Restore = %v, %v; want %v", got, err, before)
	}
	if got := recIDs(recFind(t, s, jqlgate.Query{Filter: []jqlgate.Condition{recCond("code", "eq", "a")}})); !slices.Equal(got, []string{"x1"}) {
		t.Errorf("find restored by its unique value = %v", got)
	}
	if err := s.Restore(ctx, recColl, before); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("Restore of a record that exists: err = %v, want ECONFLICT", err)
	}
}

func recordsConcurrent(t *testing.T, s model.Store) {
	ctx := context.Background()
	recEnsure(t, s, jqlgate.Index{Fields: []string{"k"}, Unique: true})
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Insert(ctx, recColl, map[string]any{"id": fmt.Sprintf("cc%03d", i), "k": int64(i % (n - 1))})
		}()
	}
	wg.Wait()
	conflicts := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case jqlgate.ErrorCode(err) == jqlgate.ECONFLICT:
			conflicts++
		default:
			t.Errorf("concurrent insert: %v", err)
		}
	}
	if conflicts != 1 {
		t.Errorf("%d conflicts, want exactly 1 (two inserts shared a unique value)", conflicts)
	}
	if c, err := s.Count(ctx, recColl, &jqlgate.Query{}); err != nil || c != n-1 {
		t.Errorf("Count = %d, %v; want %d", c, err, n-1)
	}
	for i := range n - 1 {
		if _, err := s.Get(ctx, recColl, fmt.Sprintf("cc%03d", i)); err != nil && errs[i] == nil {
			t.Errorf("Get of an acknowledged insert cc%03d: %v", i, err)
		}
	}
}
