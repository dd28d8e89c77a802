package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The aggregation example docs/jql.md shows (Antly's "subcategories of
// each category") runs verbatim, but for the token, against serve with
// examples/schemas, and answers each category's count.
func TestDocsAggregationExampleRuns(t *testing.T) {
	b, err := os.ReadFile("../docs/jql.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	at := strings.Index(doc, "**Aggregation fields**")
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(doc[at:])
	if at < 0 || m == nil {
		t.Fatal("docs/jql.md has no aggregation example")
	}
	schemas, _ := filepath.Abs("../examples/schemas")
	p := serve(t, t.TempDir(), "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret, "JQLGATE_SCHEMA_DIR="+schemas)
	tok := p.token(adminID, adminSecret)
	create := func(name, parent string) string {
		f := map[string]any{"__meta__": meta("tickets.Category", "model", "create", tok), "name": name}
		if parent != "" {
			f["parent"] = parent
		}
		var c struct{ ID string }
		p.jql(f).must(t).decode(t, &c)
		return c.ID
	}
	hw := create("Hardware", "")
	create("Laptops", hw)
	create("Printers", hw)
	create("Software", "")

	a := p.jql(json.RawMessage(strings.ReplaceAll(m[1], docToken, tok)))
	if a.HTTPStatus != 200 {
		t.Fatalf("the documented aggregation example answered %d: %s", a.HTTPStatus, a.Raw)
	}
	var rows []struct {
		Name               string
		SubcategoriesCount *int `json:"subcategoriesCount"`
	}
	a.decode(t, &rows)
	want := map[string]int{"Hardware": 2, "Laptops": 0, "Printers": 0, "Software": 0}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		if r.SubcategoriesCount == nil || *r.SubcategoriesCount != want[r.Name] {
			t.Errorf("%s: subcategoriesCount %v, want %d", r.Name, r.SubcategoriesCount, want[r.Name])
		}
	}
}
