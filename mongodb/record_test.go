package mongodb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func TestRecordStore(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewRecordStore(mongotest.New(t), mongodb.BatcherOptions{})
	t.Cleanup(func() { _ = s.Close(ctx) })
	const coll = "model_test_thing"
	if err := s.EnsureIndexes(ctx, coll, []jqlgate.Index{{Fields: []string{"code"}, Unique: true}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)
	rec := map[string]any{"id": "thi_1", "code": "a", "n": int64(1), "at": at, "meta": map[string]any{"k": []any{int64(1), "x"}}}
	if err := s.Insert(ctx, coll, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, coll, map[string]any{"id": "thi_2", "code": "a"}); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("duplicate insert: err = %v, want ECONFLICT", err)
	}
	got, err := s.Get(ctx, coll, "thi_1")
	if err != nil || got["at"] != at || got["n"] != int64(1) || got["meta"].(map[string]any)["k"].([]any)[0] != int64(1) {
		t.Errorf("Get = %#v, %v; want the record back with plain Go types", got, err)
	}
	after, err := s.Update(ctx, coll, "thi_1", map[string]any{"n": int64(2)})
	if err != nil || after["n"] != int64(2) || after["code"] != "a" {
		t.Errorf("Update = %v, %v", after, err)
	}
	if _, err := s.Update(ctx, coll, "thi_9", map[string]any{"n": int64(2)}); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Update missing: err = %v, want ENOTFOUND", err)
	}
	before, err := s.Delete(ctx, coll, "thi_1")
	if err != nil || before["n"] != int64(2) {
		t.Errorf("Delete = %v, %v", before, err)
	}
	if _, err := s.Get(ctx, coll, "thi_1"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Get deleted: err = %v, want ENOTFOUND", err)
	}
	if err := s.Restore(ctx, coll, before); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, coll, &jqlgate.Query{}); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
}

// TestRecordStoreLiteral checks that string lookups and search match
// literally: regex metacharacters in client input are escaped.
func TestRecordStoreLiteral(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewRecordStore(mongotest.New(t), mongodb.BatcherOptions{})
	t.Cleanup(func() { _ = s.Close(ctx) })
	const coll = "model_test_lit"
	for i, name := range []string{"a.c", "abc", "(x)", "A.C+"} {
		if err := s.Insert(ctx, coll, map[string]any{"id": string(rune('0' + i)), "name": name}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		q    jqlgate.Query
		want int
	}{
		{jqlgate.Query{Filter: []jqlgate.Condition{{Field: "name", Op: jqlgate.OpContains, Value: "."}}}, 2},
		{jqlgate.Query{Filter: []jqlgate.Condition{{Field: "name", Op: jqlgate.OpIContains, Value: "a.c"}}}, 2},
		{jqlgate.Query{Filter: []jqlgate.Condition{{Field: "name", Op: jqlgate.OpStartsWith, Value: "("}}}, 1},
		{jqlgate.Query{Search: ".", SearchFields: []string{"name"}}, 2},
		{jqlgate.Query{Exclude: []jqlgate.Condition{{Field: "name", Op: jqlgate.OpEndsWith, Value: "+"}}}, 3},
		{jqlgate.Query{Filter: []jqlgate.Condition{{Field: "id", Op: jqlgate.OpIn, Value: []any{"0", "3"}}}}, 2},
	}
	for _, tt := range tests {
		got, err := s.Find(ctx, coll, &tt.q)
		if err != nil || len(got) != tt.want {
			t.Errorf("Find(%+v) = %d records, %v; want %d", tt.q, len(got), err, tt.want)
		}
	}
}

// A count with no conditions (answered from the collection's metadata) is
// exact, also for a collection that has no records yet and after a delete;
// and a list with no ordering still pages through every record once.
func TestRecordStoreCountAndUnorderedPages(t *testing.T) {
	ctx := context.Background()
	s := mongodb.NewRecordStore(mongotest.New(t), mongodb.BatcherOptions{})
	coll := "model_count"
	if n, err := s.Count(ctx, coll, &jqlgate.Query{}); err != nil || n != 0 {
		t.Fatalf("count of a collection with no records = %d, %v; want 0", n, err)
	}
	for i := range 7 {
		if err := s.Insert(ctx, coll, map[string]any{"id": fmt.Sprintf("cnt_%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(ctx, coll, "cnt_3"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, coll, &jqlgate.Query{}); err != nil || n != 6 {
		t.Fatalf("count = %d, %v; want 6", n, err)
	}
	seen := map[string]int{}
	for off := 0; off < 8; off += 3 {
		recs, err := s.Find(ctx, coll, &jqlgate.Query{Limit: 3, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			seen[r["id"].(string)]++
		}
	}
	if len(seen) != 6 {
		t.Errorf("pages of 3 returned %v, want each of the 6 records once", seen)
	}
	for id, n := range seen {
		if n != 1 || id == "cnt_3" {
			t.Errorf("record %s returned %d times", id, n)
		}
	}
}
