package mongodb

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jqlgate/jqlgate"
)

// queryDoc translates q's conditions into a MongoDB filter. Every operator
// comes from this table and every value is a scalar or list of scalars
// checked by jqlgate.ParseFilter, so nothing a client sent can act as an
// operator; search terms and string lookups are regex-escaped.
func queryDoc(q *jqlgate.Query) bson.D {
	var and bson.A
	for _, c := range q.Filter {
		and = append(and, conditionDoc(c))
	}
	if len(q.Exclude) > 0 {
		var ex bson.A
		for _, c := range q.Exclude {
			ex = append(ex, conditionDoc(c))
		}
		and = append(and, bson.D{{Key: "$nor", Value: bson.A{bson.D{{Key: "$and", Value: ex}}}}})
	}
	if q.Search != "" && len(q.SearchFields) > 0 {
		var or bson.A
		for _, f := range q.SearchFields {
			or = append(or, bson.D{{Key: storeField(f), Value: regex(quoteRegex(q.Search), "i")}})
		}
		and = append(and, bson.D{{Key: "$or", Value: or}})
	}
	switch len(and) {
	case 0:
		return bson.D{}
	case 1:
		return and[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: and}}
}

var comparisons = map[string]string{
	jqlgate.OpNe: "$ne", jqlgate.OpGt: "$gt", jqlgate.OpGte: "$gte",
	jqlgate.OpLt: "$lt", jqlgate.OpLte: "$lte", jqlgate.OpIn: "$in",
}

func conditionDoc(c jqlgate.Condition) bson.D {
	field := storeField(c.Field)
	s, _ := c.Value.(string)
	var v any
	switch c.Op {
	case jqlgate.OpEq:
		v = bson.D{{Key: "$eq", Value: c.Value}}
	case jqlgate.OpContains:
		v = regex(quoteRegex(s), "")
	case jqlgate.OpIContains:
		v = regex(quoteRegex(s), "i")
	case jqlgate.OpStartsWith:
		v = regex("^"+quoteRegex(s), "")
	case jqlgate.OpEndsWith:
		v = regex(quoteRegex(s)+"$", "")
	case jqlgate.OpIsNull:
		op := "$ne"
		if isNull, _ := c.Value.(bool); isNull {
			op = "$eq"
		}
		v = bson.D{{Key: op, Value: nil}}
	default:
		v = bson.D{{Key: comparisons[c.Op], Value: c.Value}}
	}
	return bson.D{{Key: field, Value: v}}
}

func regex(pattern, opts string) bson.D {
	return bson.D{{Key: "$regex", Value: pattern}, {Key: "$options", Value: opts}}
}

// sortDoc is the sort of an ordering, ended by _id so pages are stable.
func sortDoc(ordering []jqlgate.Order) bson.D {
	sort := bson.D{}
	for _, o := range ordering {
		dir := 1
		if o.Desc {
			dir = -1
		}
		sort = append(sort, bson.E{Key: storeField(o.Field), Value: dir})
		if o.Field == "id" {
			return sort
		}
	}
	return append(sort, bson.E{Key: "_id", Value: 1})
}
