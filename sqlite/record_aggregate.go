package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/jqlgate/jqlgate"
)

// Aggregate groups the records of coll that q selects by the value of
// field by and returns, for each group (keyed by the value's text), fn of
// field of: count (of the records, or of those where of is set), sum, avg,
// min or max (of its numbers; dates as Unix milliseconds). One GROUP BY
// query; groups without a value of `of` are left out of sum, avg, min and
// max.
func (s *RecordStore) Aggregate(ctx context.Context, coll string, q *jqlgate.Query, by, fn, of string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, f := range []string{by, of} {
		if f != "" {
			if err := checkField(f); err != nil {
				return nil, err
			}
		}
	}
	c, err := s.meta(ctx, coll)
	if err != nil || c == nil {
		return out, err
	}
	where, args, err := c.where(q)
	if err != nil {
		return nil, err
	}
	key := "json_extract(doc," + jsonPath(by, "") + ")"
	if by == "id" {
		key = "id"
	}
	num := `iif(json_type(doc,` + jsonPath(of, "") + `) IN ('integer','real') OR json_type(doc,` + jsonPath(of, `."$date"`) + `) IS NOT NULL,` + fieldValue(of) + `,NULL)`
	var agg string
	switch fn {
	case "count":
		agg = "count(*)"
		if of != "" && of != "id" {
			agg = `count(iif(json_type(doc,` + jsonPath(of, "") + `) IS NOT NULL AND json_type(doc,` + jsonPath(of, "") + `)<>'null',1,NULL))`
		}
	case "sum":
		agg = "sum(" + num + ")"
	case "avg", "min", "max":
		agg = fn + "(" + num + ")"
	default:
		return nil, jqlgate.Invalid("", "%q is not an aggregate function", fn)
	}
	jqlgate.CountQuery(ctx)
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+key+`, `+agg+` FROM `+c.table+where+` GROUP BY 1`, args...)
	if err != nil {
		return nil, FormatError("record aggregate", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k any
		var v sql.NullFloat64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, FormatError("record aggregate", err)
		}
		if v.Valid && k != nil {
			out[keyText(k)] = v.Float64
		}
	}
	return out, FormatError("record aggregate", rows.Err())
}

// keyText is a group key's text, as jqlgate.TextOf gives it for the
// outer record's value.
func keyText(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(k)
}
