package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jqlgate/jqlgate"
)

// A field is compared the way MongoDB compares it: values of different
// kinds never match a comparison and sort in MongoDB's order of kinds
// (null or missing, numbers, strings, objects, arrays, booleans, dates).
// So every field is two expressions over the JSON document, and every
// index on a field is over both: its kind (fieldKind) and its value
// (fieldValue). A condition is kind = K AND value <op> ?, with K a constant
// of this file and the value a bound parameter, which an index on
// (kind, value) answers with a range; ordering by the field is ordering by
// kind then value, which the same index walks.
//
// The value of null and of a missing field is 0, not NULL, so that a
// unique index refuses a second record without the field, as MongoDB's
// does, and NOT of a condition is never NULL.
const (
	kindNull   = 1
	kindNumber = 2
	kindString = 3
	kindObject = 4
	kindArray  = 5
	kindBool   = 8
	kindDate   = 9
)

// fieldRE is what a field name may be (schemas allows less); nothing else
// reaches SQL text.
var fieldRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})*$`)

func checkField(f string) error {
	if !fieldRE.MatchString(f) {
		return jqlgate.Invalid("", "%q is not a valid field name.", truncateName(f))
	}
	return nil
}

func truncateName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// jsonPath is f's JSON path as an SQL string literal: '$."a"."b"'.
func jsonPath(f string, suffix string) string {
	return `'$."` + strings.ReplaceAll(f, ".", `"."`) + `"` + suffix + `'`
}

// fieldKind is the SQL expression of f's kind.
func fieldKind(f string) string {
	return `CASE json_type(doc,` + jsonPath(f, "") + `) WHEN 'integer' THEN 2 WHEN 'real' THEN 2 WHEN 'text' THEN 3` +
		` WHEN 'object' THEN iif(json_type(doc,` + jsonPath(f, `."$date"`) + `) IS NULL,4,9)` +
		` WHEN 'array' THEN 5 WHEN 'true' THEN 8 WHEN 'false' THEN 8 ELSE 1 END`
}

// fieldValue is the SQL expression of f's value: a date's milliseconds,
// a boolean's 0 or 1, an object's or array's JSON text, null's 0.
func fieldValue(f string) string {
	return `coalesce(json_extract(doc,` + jsonPath(f, `."$date"`) + `),json_extract(doc,` + jsonPath(f, "") + `),0)`
}

// keyExprs are the index or sort columns of f.
func keyExprs(f string) []string {
	if f == "id" {
		return []string{"id"}
	}
	return []string{fieldKind(f), fieldValue(f)}
}

// searchable is the SQL expression of f's text, or NULL when it is not a
// string: what the search index holds.
func searchable(doc, f string) string {
	return `iif(json_type(` + doc + `,` + jsonPath(f, "") + `)='text',json_extract(` + doc + `,` + jsonPath(f, "") + `),NULL)`
}

// bindValue is the kind and stored value of a condition's value.
func bindValue(v any) (int, any, error) {
	switch x := v.(type) {
	case nil:
		return kindNull, int64(0), nil
	case string:
		return kindString, x, nil
	case bool:
		if x {
			return kindBool, int64(1), nil
		}
		return kindBool, int64(0), nil
	case time.Time:
		return kindDate, x.UnixMilli(), nil
	case int64:
		return kindNumber, x, nil
	case int:
		return kindNumber, int64(x), nil
	case float64:
		return kindNumber, x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return kindNumber, i, nil
		}
		f, err := x.Float64()
		return kindNumber, f, err
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindNumber, rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if rv.Uint() > math.MaxInt64 {
			return kindNumber, float64(rv.Uint()), nil
		}
		return kindNumber, int64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return kindNumber, rv.Float(), nil
	}
	return 0, nil, jqlgate.Invalid("", "A filter value must be a string, number, boolean, date or null, not %T.", v)
}

// where builds q's conditions for a table of collection c.
type where struct {
	c    *collection
	sql  []string
	args []any
}

func (c *collection) where(q *jqlgate.Query) (string, []any, error) {
	w := &where{c: c}
	for _, cond := range q.Filter {
		s, err := w.condition(cond)
		if err != nil {
			return "", nil, err
		}
		w.sql = append(w.sql, s)
	}
	if len(q.Exclude) > 0 {
		parts := make([]string, len(q.Exclude))
		for i, cond := range q.Exclude {
			s, err := w.condition(cond)
			if err != nil {
				return "", nil, err
			}
			parts[i] = s
		}
		w.sql = append(w.sql, "NOT ("+strings.Join(parts, " AND ")+")")
	}
	if q.Search != "" && len(q.SearchFields) > 0 {
		s, err := w.search(q.Search, q.SearchFields)
		if err != nil {
			return "", nil, err
		}
		w.sql = append(w.sql, s)
	}
	if len(w.sql) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(w.sql, " AND "), w.args, nil
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "?"
}

var sqlComparisons = map[string]string{
	jqlgate.OpGt: ">", jqlgate.OpGte: ">=", jqlgate.OpLt: "<", jqlgate.OpLte: "<=",
}

func (w *where) condition(c jqlgate.Condition) (string, error) {
	if err := checkField(c.Field); err != nil {
		return "", err
	}
	if c.Field == "id" {
		return w.idCondition(c)
	}
	kind, value := fieldKind(c.Field), fieldValue(c.Field)
	switch c.Op {
	case jqlgate.OpEq, "":
		return w.eq(kind, value, c.Value)
	case jqlgate.OpNe:
		s, err := w.eq(kind, value, c.Value)
		return "NOT " + s, err
	case jqlgate.OpGt, jqlgate.OpGte, jqlgate.OpLt, jqlgate.OpLte:
		if c.Value == nil {
			if c.Op == jqlgate.OpGte || c.Op == jqlgate.OpLte {
				return fmt.Sprintf("(%s=%d)", kind, kindNull), nil
			}
			return "0", nil
		}
		k, v, err := bindValue(c.Value)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("(%s=%d AND %s%s%s)", kind, k, value, sqlComparisons[c.Op], w.arg(v)), nil
	case jqlgate.OpIn:
		return w.in(kind, value, c.Value)
	case jqlgate.OpIsNull:
		if isNull, _ := c.Value.(bool); isNull {
			return fmt.Sprintf("(%s=%d)", kind, kindNull), nil
		}
		return fmt.Sprintf("(%s<>%d)", kind, kindNull), nil
	case jqlgate.OpContains, jqlgate.OpIContains, jqlgate.OpStartsWith, jqlgate.OpEndsWith:
		s, _ := c.Value.(string)
		// Arguments bind in the order of the text: the prefilter's first.
		m := w.prefilter(s, []string{c.Field})
		if m != "" {
			m += " AND "
		}
		m += w.match(c.Op, value, s)
		return fmt.Sprintf("(%s=%d AND %s)", kind, kindString, m), nil
	}
	return "", jqlgate.Invalid("", "%q is not a filter lookup.", c.Op)
}

func (w *where) eq(kind, value string, v any) (string, error) {
	k, bv, err := bindValue(v)
	if err != nil {
		return "", err
	}
	if k == kindNull {
		return fmt.Sprintf("(%s=%d)", kind, kindNull), nil
	}
	return fmt.Sprintf("(%s=%d AND %s=%s)", kind, k, value, w.arg(bv)), nil
}

// in matches any of a list's values: one IN per kind, the values bound as
// one JSON array so the statement's text does not grow with the list.
func (w *where) in(kind, value string, v any) (string, error) {
	list, ok := v.([]any)
	if !ok {
		return w.eq(kind, value, v)
	}
	byKind := map[int][]any{}
	var kinds []int
	for _, e := range list {
		k, bv, err := bindValue(e)
		if err != nil {
			return "", err
		}
		if byKind[k] == nil {
			kinds = append(kinds, k)
		}
		byKind[k] = append(byKind[k], bv)
	}
	if len(kinds) == 0 {
		return "0", nil
	}
	var parts []string
	for _, k := range kinds {
		if k == kindNull {
			parts = append(parts, fmt.Sprintf("%s=%d", kind, kindNull))
			continue
		}
		j, err := json.Marshal(byKind[k])
		if err != nil {
			return "", jqlgate.Invalid("", "A filter value can't be used: %v.", err)
		}
		parts = append(parts, fmt.Sprintf("(%s=%d AND %s IN (SELECT value FROM json_each(%s)))", kind, k, value, w.arg(string(j))))
	}
	return "(" + strings.Join(parts, " OR ") + ")", nil
}

// match is a string lookup on expr, which must be text.
func (w *where) match(op, expr, s string) string {
	if s == "" {
		return "1"
	}
	switch op {
	case jqlgate.OpContains:
		return "instr(" + expr + "," + w.arg(s) + ")>0"
	case jqlgate.OpIContains:
		return "jql_icontains(" + expr + "," + w.arg(s) + ")"
	case jqlgate.OpStartsWith:
		return "instr(" + expr + "," + w.arg(s) + ")=1"
	}
	n := int64(utf8.RuneCountInString(s))
	return "substr(" + expr + ",-" + w.arg(n) + ")=" + w.arg(s)
}

func (w *where) idCondition(c jqlgate.Condition) (string, error) {
	switch c.Op {
	case jqlgate.OpEq, "", jqlgate.OpNe:
		s, ok := c.Value.(string)
		switch {
		case !ok && c.Op == jqlgate.OpNe:
			return "1", nil
		case !ok:
			return "0", nil
		case c.Op == jqlgate.OpNe:
			return "id<>" + w.arg(s), nil
		}
		return "id=" + w.arg(s), nil
	case jqlgate.OpGt, jqlgate.OpGte, jqlgate.OpLt, jqlgate.OpLte:
		s, ok := c.Value.(string)
		if !ok {
			return "0", nil
		}
		return "id" + sqlComparisons[c.Op] + w.arg(s), nil
	case jqlgate.OpIn:
		list, ok := c.Value.([]any)
		if !ok {
			return w.idCondition(jqlgate.Condition{Field: c.Field, Op: jqlgate.OpEq, Value: c.Value})
		}
		ids := []string{}
		for _, e := range list {
			if s, ok := e.(string); ok {
				ids = append(ids, s)
			}
		}
		j, _ := json.Marshal(ids)
		return "id IN (SELECT value FROM json_each(" + w.arg(string(j)) + "))", nil
	case jqlgate.OpIsNull:
		if isNull, _ := c.Value.(bool); isNull {
			return "0", nil
		}
		return "1", nil
	case jqlgate.OpContains, jqlgate.OpIContains, jqlgate.OpStartsWith, jqlgate.OpEndsWith:
		s, _ := c.Value.(string)
		return w.match(c.Op, "id", s), nil
	}
	return "", jqlgate.Invalid("", "%q is not a filter lookup.", c.Op)
}

// search keeps records where any of fields contains term, ignoring case.
func (w *where) search(term string, fields []string) (string, error) {
	for _, f := range fields {
		if err := checkField(f); err != nil {
			return "", err
		}
	}
	// Arguments bind in the order of the text: the prefilter's first.
	fts := w.prefilter(term, fields)
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		if f == "id" {
			parts = append(parts, "jql_icontains(id,"+w.arg(term)+")")
			continue
		}
		parts = append(parts, fmt.Sprintf("(%s=%d AND jql_icontains(%s,%s))", fieldKind(f), kindString, fieldValue(f), w.arg(term)))
	}
	s := "(" + strings.Join(parts, " OR ") + ")"
	if fts != "" {
		s = "(" + fts + " AND " + s + ")"
	}
	return s, nil
}

// prefilter narrows a substring match of s in fields to the rows the
// search index (trigrams, case folded) finds, when it covers the fields and
// s is long enough to have a trigram; "" when it can't help. The rows it
// finds are a superset: the exact match is still checked on each.
func (w *where) prefilter(s string, fields []string) string {
	if w.c.fts == "" || utf8.RuneCountInString(s) < 3 {
		return ""
	}
	cols := make([]string, len(fields))
	for i, f := range fields {
		if !w.c.ftsCol[f] {
			return ""
		}
		cols[i] = `"` + f + `"`
	}
	q := `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	if len(fields) < len(w.c.ftsCol) {
		q = "{" + strings.Join(cols, " ") + "} : " + q
	}
	return "rowid IN (SELECT rowid FROM " + w.c.fts + " WHERE " + w.c.fts + " MATCH " + w.arg(q) + ")"
}

// orderBy is the ORDER BY of an ordering, ended by id as MongoDB's is, so
// pages are stable; it stops at id or at a field with a unique index,
// after which there are no ties to break, so that the index can answer.
func (c *collection) orderBy(ordering []jqlgate.Order) (string, error) {
	var cols []string
	for _, o := range ordering {
		if err := checkField(o.Field); err != nil {
			return "", err
		}
		dir := ""
		if o.Desc {
			dir = " DESC"
		}
		for _, e := range keyExprs(o.Field) {
			cols = append(cols, e+dir)
		}
		if o.Field == "id" || c.unique[o.Field] {
			return " ORDER BY " + strings.Join(cols, ","), nil
		}
	}
	return " ORDER BY " + strings.Join(append(cols, "id"), ","), nil
}

func limitOffset(q *jqlgate.Query) (string, []any) {
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	return " LIMIT ? OFFSET ?", []any{limit, int64(q.Offset)}
}

// idOnly reports whether fields asks for nothing but the id.
func idOnly(fields []string) bool {
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		if f != "id" {
			return false
		}
	}
	return true
}

// project keeps the id and the listed top-level fields, as a MongoDB
// projection does.
func project(rec map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return rec
	}
	out := make(map[string]any, len(fields)+1)
	out["id"] = rec["id"]
	for _, f := range fields {
		if v, ok := rec[f]; ok {
			out[f] = v
		}
	}
	return out
}
