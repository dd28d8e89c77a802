package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

func openRecords(tb testing.TB) (*DB, *RecordStore) {
	tb.Helper()
	db, err := Open(context.Background(), Config{Path: filepath.Join(tb.TempDir(), FileName), Sync: "normal"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close(context.Background()) })
	return db, NewRecordStore(db)
}

// A unique index treats a missing field as null, as MongoDB's does: a
// second record without it is a duplicate. (The embedded MongoDB store
// the mongodb tests run on does not, so this is not in the contract.)
func TestRecordUniqueMissingIsNull(t *testing.T) {
	_, s := openRecords(t)
	ctx := context.Background()
	const coll = "model_u"
	if err := s.EnsureIndexes(ctx, coll, []jqlgate.Index{{Fields: []string{"code"}, Unique: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, coll, map[string]any{"id": "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, coll, map[string]any{"id": "b", "code": nil}); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("second record without the unique field: err = %v, want ECONFLICT", err)
	}
}

func TestRecordInvalidNames(t *testing.T) {
	_, s := openRecords(t)
	ctx := context.Background()
	for _, coll := range []string{`x"; DROP TABLE events; --`, "a__fts", "sqlite_master", ""} {
		if err := s.Insert(ctx, coll, map[string]any{"id": "a"}); jqlgate.ErrorCode(err) != jqlgate.EINVALID {
			t.Errorf("Insert into %q: err = %v, want EINVALID", coll, err)
		}
	}
	for _, f := range []string{`a'`, `a")`, "a b", "$where", "a..b"} {
		q := &jqlgate.Query{Filter: []jqlgate.Condition{{Field: f, Op: jqlgate.OpEq, Value: "x"}}}
		if err := s.Insert(ctx, "model_x", map[string]any{"id": "a"}); err != nil && jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
			t.Fatal(err)
		}
		if _, err := s.Find(ctx, "model_x", q); jqlgate.ErrorCode(err) != jqlgate.EINVALID {
			t.Errorf("Find on field %q: err = %v, want EINVALID", f, err)
		}
	}
}

// seedPlan fills a collection big enough that SQLite's planner prefers
// indexes, with indexes on status and a unique one on email, and search.
func seedPlan(t testing.TB, db *DB, s *RecordStore, coll string, n int) {
	ctx := context.Background()
	if err := s.EnsureIndexes(ctx, coll, []jqlgate.Index{
		{Fields: []string{"email"}, Unique: true}, {Fields: []string{"status"}},
		{Fields: []string{"name", "email", "phone"}, Search: true},
	}); err != nil {
		t.Fatal(err)
	}
	statuses := []string{"active", "inactive", "blocked"}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const chunk = 5000
	for start := 0; start < n; start += chunk {
		err := db.Write(ctx, func(tx *Tx) error {
			for i := start; i < min(start+chunk, n); i++ {
				rec := map[string]any{"id": fmt.Sprintf("cus_%08d", i), "name": fmt.Sprintf("Customer %s Lovelace%d", strconv.FormatUint(uint64(i)*2654435761%(1<<40), 36), i%1000),
					"email": fmt.Sprintf("c%d@example.com", i), "phone": fmt.Sprintf("+44 %d", i), "status": statuses[i%3],
					"metadata": map[string]any{"tier": "gold", "n": int64(i)}, "created_at": now.Add(time.Duration(i) * time.Second),
					"updated_at": now}
				if _, _, err := insertFn(rec)(tx, bare(coll)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func plan(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// TestRecordQueryPlans checks that selective queries read through an
// index: filters on indexed fields, ordering by one with a limit (walking
// the index, no sort), the default order by id, search through the
// trigram index, and a count of everything.
func TestRecordQueryPlans(t *testing.T) {
	db, s := openRecords(t)
	const coll = "model_plan"
	seedPlan(t, db, s, coll, 3000)
	c, err := s.meta(context.Background(), coll)
	if err != nil || c == nil {
		t.Fatal(c, err)
	}
	eq := func(f string, v any) []jqlgate.Condition {
		return []jqlgate.Condition{{Field: f, Op: jqlgate.OpEq, Value: v}}
	}
	tests := []struct {
		name     string
		q        jqlgate.Query
		want     []string
		wantNot  []string
		idsCheck func([]map[string]any) bool
	}{
		{"unique filter", jqlgate.Query{Filter: eq("email", "c7@example.com"), Limit: 1},
			[]string{"USING INDEX " + coll + "__u__email"}, []string{"SCAN " + coll}, nil},
		{"filter", jqlgate.Query{Filter: eq("status", "blocked"), Limit: 20},
			[]string{"USING INDEX " + coll + "__i__status"}, []string{"SCAN " + coll}, nil},
		{"id in", jqlgate.Query{Filter: []jqlgate.Condition{{Field: "id", Op: jqlgate.OpIn, Value: []any{"cus_00000001", "cus_00000002"}}}},
			[]string{"USING INDEX sqlite_autoindex_" + coll + "_1"}, []string{"SCAN " + coll}, nil},
		{"in", jqlgate.Query{Filter: []jqlgate.Condition{{Field: "email", Op: jqlgate.OpIn, Value: []any{"c1@example.com", "c2@example.com"}}}},
			[]string{"USING INDEX " + coll + "__u__email"}, []string{"SCAN " + coll}, nil},
		{"range", jqlgate.Query{Filter: []jqlgate.Condition{{Field: "email", Op: jqlgate.OpGte, Value: "c9"}}, Limit: 20},
			[]string{"USING INDEX " + coll + "__u__email"}, []string{"SCAN " + coll}, nil},
		{"default order", jqlgate.Query{Limit: 20, Offset: 1000},
			[]string{"SCAN " + coll + " USING INDEX sqlite_autoindex_" + coll + "_1"}, []string{"TEMP B-TREE"}, nil},
		{"order by unique", jqlgate.Query{Ordering: []jqlgate.Order{{Field: "email"}}, Limit: 20, Offset: 1000},
			[]string{"SCAN " + coll + " USING INDEX " + coll + "__u__email"}, []string{"TEMP B-TREE"}, nil},
		{"order by unique desc", jqlgate.Query{Ordering: []jqlgate.Order{{Field: "email", Desc: true}}, Limit: 20},
			[]string{"SCAN " + coll + " USING INDEX " + coll + "__u__email"}, []string{"TEMP B-TREE"}, nil},
		{"order by indexed", jqlgate.Query{Ordering: []jqlgate.Order{{Field: "status"}}, Limit: 20, Offset: 1000},
			[]string{"SCAN " + coll + " USING INDEX " + coll + "__i__status"}, []string{"TEMP B-TREE"}, nil},
		{"filter and order by id", jqlgate.Query{Filter: eq("status", "active"), Ordering: []jqlgate.Order{{Field: "id"}}, Limit: 20},
			[]string{"USING"}, []string{"SCAN " + coll + "\n"}, nil},
		{"search", jqlgate.Query{Search: "lovelace12", SearchFields: []string{"name", "email", "phone"}, Limit: 20},
			[]string{"VIRTUAL TABLE INDEX"}, nil, nil},
	}
	for _, tt := range tests {
		query, args, _, err := c.findSQL(&tt.q)
		if err != nil {
			t.Fatal(err)
		}
		// A covering index is as good as the index itself (newer SQLite
		// versions read the ordering's index without the table).
		p := strings.ReplaceAll(plan(t, db, query, args), "COVERING INDEX", "INDEX")
		for _, w := range tt.want {
			if !strings.Contains(p, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tt.name, w, p)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(p+"\n", w) {
				t.Errorf("%s: plan has %q:\n%s", tt.name, w, p)
			}
		}
	}
	// A count of everything reads an index, never the documents.
	if p := plan(t, db, `SELECT count(*) FROM `+c.table, nil); !strings.Contains(p, "COVERING INDEX") {
		t.Errorf("count(*): plan = %s", p)
	}
	where, args, err := c.where(&jqlgate.Query{Filter: eq("status", "active")})
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.ReplaceAll(plan(t, db, `SELECT count(*) FROM `+c.table+where, args), "COVERING INDEX", "INDEX"); !strings.Contains(p, "SEARCH "+coll+" USING INDEX "+coll+"__i__status") {
		t.Errorf("count of an indexed filter: plan = %s", p)
	}
}

// TestRecordSearchIndexRebuilt checks that changing the searchable fields
// rebuilds the search index over the records already stored.
func TestRecordSearchIndexRebuilt(t *testing.T) {
	_, s := openRecords(t)
	ctx := context.Background()
	const coll = "model_s"
	if err := s.EnsureIndexes(ctx, coll, []jqlgate.Index{{Fields: []string{"a"}, Search: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, coll, map[string]any{"id": "x", "a": "alpha", "b": "bravo"}); err != nil {
		t.Fatal(err)
	}
	find := func(term string, fields ...string) int {
		recs, err := s.Find(ctx, coll, &jqlgate.Query{Search: term, SearchFields: fields})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	if find("bravo", "b") != 1 || find("alpha", "a") != 1 {
		t.Error("search by a field outside the index or in it misses")
	}
	if err := s.EnsureIndexes(ctx, coll, []jqlgate.Index{{Fields: []string{"a", "b"}, Search: true}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.meta(ctx, coll)
	if !c.ftsCol["b"] || !c.ftsCol["a"] {
		t.Fatalf("search index holds %v, want a and b", c.ftsCol)
	}
	if find("bravo", "a", "b") != 1 || find("BRAV", "b") != 1 || find("alpha", "b") != 0 {
		t.Error("search after the rebuild misses")
	}
}

// BenchmarkRecords measures the reads of a retrieve on a collection of
// customers (RECORDS_N would be nicer; a fixed 50,000 keeps it quick).
func BenchmarkRecords(b *testing.B) {
	db, s := openRecords(b)
	const coll = "model_bench"
	const n = 50_000
	seedPlan(b, db, s, coll, n)
	ctx := context.Background()
	run := func(name string, q jqlgate.Query) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Find(ctx, coll, &q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Get", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ctx, coll, fmt.Sprintf("cus_%08d", i%n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	run("FilterUnique", jqlgate.Query{Filter: []jqlgate.Condition{{Field: "email", Op: jqlgate.OpEq, Value: "c777@example.com"}}, Limit: 20})
	run("FilterIndexedPage", jqlgate.Query{Filter: []jqlgate.Condition{{Field: "status", Op: jqlgate.OpEq, Value: "blocked"}}, Limit: 20})
	rare := strconv.FormatUint(uint64(4242)*2654435761%(1<<40), 36)
	run("SearchRare", jqlgate.Query{Search: strings.ToUpper(rare), SearchFields: []string{"name", "email", "phone"}, Limit: 20})
	run("SearchCommon", jqlgate.Query{Search: "lovelace777", SearchFields: []string{"name", "email", "phone"}, Limit: 20})
	run("SearchShort", jqlgate.Query{Search: "e7", SearchFields: []string{"name", "email", "phone"}, Limit: 20})
	run("OrderedPage", jqlgate.Query{Ordering: []jqlgate.Order{{Field: "email"}}, Limit: 20})
	run("OrderedDeepPage", jqlgate.Query{Ordering: []jqlgate.Order{{Field: "email"}}, Limit: 20, Offset: n / 2})
	run("DefaultDeepPage", jqlgate.Query{Limit: 20, Offset: n / 2})
	b.Run("CountAll", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Count(ctx, coll, &jqlgate.Query{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
