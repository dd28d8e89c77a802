package model

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// An aggregation field (Antly's "subquery") computes, for each returned
// record, a value over the records of a related model that point at it:
//
//	"subcategoriesCount": {"__meta__": {
//	    "namespace": "tickets.Category", "intent": "subquery",
//	    "outerRefMapping": [{"field": "id", "referenceField": "parent"}],
//	    "sequencedProcess": [{"function": "Count", "castType": "int"}]}}
//
// outerRefMapping's field names the outer record's field and
// referenceField the related model's field that must equal it;
// sequencedProcess's first step aggregates (Count, Sum, Avg, Min, Max,
// Django's names) its onField (or the subquery's), cast to castType (int,
// float, string, date); later steps may only cast again ({"function":
// "Cast", "castType": …}). These, and the subquery's optional filter, are
// jqlgate's reading where Antly's docs are silent (docs/jql.md). The store
// computes each aggregation field for a whole page in one grouped query.

// Aggregator is a Store that groups records (both adapters are).
type Aggregator interface {
	Aggregate(ctx context.Context, coll string, q *jqlgate.Query, by, fn, of string) (map[string]float64, error)
}

// aggSpec is one aggregation field of a retrieve.
type aggSpec struct {
	rel       *schemas.Model
	field     string // the outer record's field
	ref       string // the related model's field that must equal it
	fn        string // count, sum, avg, min or max
	of        string // the related field aggregated ("" for count of records)
	ofType    string
	cast      string // int, float, string, date; "" for the function's own
	filter    []jqlgate.Condition
	fieldPath string
}

var aggFunctions = []string{"Count", "Sum", "Avg", "Min", "Max"}
var castTypes = []string{"int", "float", "string", "date"}

// isSubquery reports whether a field spec is an aggregation field.
func isSubquery(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	meta, ok := m["__meta__"].(map[string]any)
	return ok && meta["intent"] == "subquery"
}

// parseAggregate reads aggregation field k of model at path.
func (h *Handler) parseAggregate(p *jqlgate.Principal, model *schemas.Model, path string, v map[string]any) (*aggSpec, []jqlgate.FieldError, error) {
	var problems []jqlgate.FieldError
	fail := func(field, format string, args ...any) {
		problems = append(problems, jqlgate.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for k := range v {
		if k != "__meta__" {
			fail(path+"."+k, "is not allowed here: an aggregation field takes only its __meta__")
		}
	}
	mp := path + ".__meta__"
	meta := v["__meta__"].(map[string]any)
	a := &aggSpec{fieldPath: path}
	ns, _ := meta["namespace"].(string)
	a.rel = h.deps.Models.Model(ns)
	switch {
	case a.rel == nil:
		fail(mp+".namespace", "must name a model namespace served here")
		return nil, problems, nil
	case p != nil && !p.Can(ns, IntentRetrieve):
		return nil, nil, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: path,
			Message: fmt.Sprintf("%s aggregates %s records, and you may not read %s (%s:retrieve).", path, ns, ns, ns)}
	}
	hasField := func(m *schemas.Model, f string) bool { return f == schemas.FieldID || m.HasField(f) }
	var onField string
	for _, k := range sortedKeys(meta) {
		at := mp + "." + k
		switch k {
		case "namespace", "intent":
		case "schema":
			if meta[k] != jqlgate.SchemaModel {
				fail(at, "must be %q", jqlgate.SchemaModel)
			}
		case "onField":
			if s, ok := meta[k].(string); !ok || !hasField(a.rel, s) {
				fail(at, "must name a field of %s", ns)
			} else {
				onField = s
			}
		case "ordering":
			if s, ok := meta[k].(string); !ok || !hasField(a.rel, strings.TrimPrefix(s, "-")) {
				fail(at, "must name a field of %s (it does not change Count, Sum, Avg, Min or Max)", ns)
			}
		case "filter":
			f, ok := meta[k].(map[string]any)
			if !ok {
				fail(at, "must be an object")
				continue
			}
			conds, err := NewHandler(a.rel, h.deps).conditions(at, f)
			if err != nil {
				e := jqlgate.AsError(err)
				if len(e.Fields) > 0 {
					problems = append(problems, e.Fields...)
				} else {
					fail(at, "%s", e.Message)
				}
			}
			a.filter = conds
		case "outerRefMapping":
			list, ok := meta[k].([]any)
			if !ok || len(list) != 1 {
				fail(at, "must list one mapping {\"field\": …, \"referenceField\": …}")
				continue
			}
			m, _ := list[0].(map[string]any)
			a.field, _ = m["field"].(string)
			a.ref, _ = m["referenceField"].(string)
			if !hasField(model, a.field) || !mappable(model, a.field) {
				fail(at+"[0].field", "must name a string, reference, number or boolean field of %s", model.Namespace)
			}
			if !hasField(a.rel, a.ref) || !mappable(a.rel, a.ref) {
				fail(at+"[0].referenceField", "must name a string, reference, number or boolean field of %s", ns)
			}
			for mk := range m {
				if mk != "field" && mk != "referenceField" {
					fail(at+"[0]."+mk, "is not allowed; use field and referenceField")
				}
			}
		case "sequencedProcess":
			h.parseProcess(a, at, meta[k], &onField, fail)
		default:
			fail(at, "is not allowed in a subquery; use namespace, intent, onField, ordering, filter, outerRefMapping and sequencedProcess")
		}
	}
	if a.field == "" && !hasKey(meta, "outerRefMapping") {
		fail(mp+".outerRefMapping", "is required")
	}
	if a.fn == "" && !hasKey(meta, "sequencedProcess") {
		fail(mp+".sequencedProcess", "is required")
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}
	a.of = onField
	a.ofType = a.rel.FieldType(onField)
	if onField == schemas.FieldID {
		a.ofType = schemas.TypeString
	}
	switch {
	case a.fn != "count" && a.of == "":
		fail(mp+".sequencedProcess[0].onField", "is required: %s needs a field to aggregate", a.fn)
	case (a.fn == "sum" || a.fn == "avg") && a.ofType != schemas.TypeNumber && a.ofType != schemas.TypeInteger:
		fail(mp+".sequencedProcess[0].onField", "%s takes a number field, and %s is %s", a.fn, a.of, a.ofType)
	case (a.fn == "min" || a.fn == "max") && a.ofType != schemas.TypeNumber && a.ofType != schemas.TypeInteger && a.ofType != schemas.TypeDatetime:
		fail(mp+".sequencedProcess[0].onField", "%s takes a number or datetime field, and %s is %s", a.fn, a.of, a.ofType)
	case a.cast == "date" && a.ofType != schemas.TypeDatetime:
		fail(mp+".sequencedProcess", "castType date applies to Min and Max of a datetime field")
	}
	return a, problems, nil
}

// parseProcess reads sequencedProcess: one aggregating step, then casts.
func (h *Handler) parseProcess(a *aggSpec, at string, raw any, onField *string, fail func(string, string, ...any)) {
	steps, ok := raw.([]any)
	if !ok || len(steps) == 0 || len(steps) > maxTransforms {
		fail(at, "must list 1 to %d steps", maxTransforms)
		return
	}
	for i, s := range steps {
		sp := fmt.Sprintf("%s[%d]", at, i)
		m, ok := s.(map[string]any)
		if !ok {
			fail(sp, "must be an object with function, and castType or onField")
			continue
		}
		fn, _ := m["function"].(string)
		switch {
		case i == 0 && !containsFold(aggFunctions, fn):
			fail(sp+".function", "must be one of %s", strings.Join(aggFunctions, ", "))
		case i > 0 && !strings.EqualFold(fn, "Cast"):
			fail(sp+".function", "must be Cast: a step after the first only casts the value")
		case i == 0:
			a.fn = strings.ToLower(fn)
		}
		for k, v := range m {
			switch k {
			case "function":
			case "castType":
				c, _ := v.(string)
				if !containsFold(castTypes, c) {
					fail(sp+".castType", "must be one of %s", strings.Join(castTypes, ", "))
				} else {
					a.cast = strings.ToLower(c)
				}
			case "onField":
				f, _ := v.(string)
				switch {
				case i > 0:
					fail(sp+".onField", "is for the first step only")
				case f != schemas.FieldID && !a.rel.HasField(f):
					fail(sp+".onField", "must name a field of %s", a.rel.Namespace)
				default:
					*onField = f
				}
			default:
				fail(sp+"."+k, "is not allowed; use function, castType and onField")
			}
		}
	}
}

// mappable reports whether field f of m can correlate a subquery: its
// values compare as they are grouped (not objects, arrays or datetimes).
func mappable(m *schemas.Model, f string) bool {
	switch m.FieldType(f) {
	case schemas.TypeString, schemas.TypeReference, schemas.TypeNumber, schemas.TypeInteger, schemas.TypeBoolean:
		return true
	}
	return f == schemas.FieldID
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// aggregate sets aggregation field k of each record: one grouped store
// query for the page.
func (h *Handler) aggregate(ctx context.Context, recs []map[string]any, k string, a *aggSpec) error {
	ag, ok := h.deps.Store.(Aggregator)
	if !ok {
		return jqlgate.Invalid(a.fieldPath, "this store does not aggregate")
	}
	seen := map[string]bool{}
	var keys []any
	for _, r := range recs {
		v := r[a.field]
		if v == nil {
			continue
		}
		if t := textOf(v); !seen[t] {
			seen[t] = true
			keys = append(keys, v)
		}
	}
	var res map[string]float64
	if len(keys) > 0 {
		q := &jqlgate.Query{Filter: append([]jqlgate.Condition{{Field: a.ref, Op: jqlgate.OpIn, Value: keys}}, a.filter...)}
		var err error
		if res, err = ag.Aggregate(ctx, a.rel.Collection, q, a.ref, a.fn, a.of); err != nil {
			return err
		}
	}
	for _, r := range recs {
		v, ok := res[textOf(r[a.field])]
		switch {
		case r[a.field] == nil || !ok:
			if a.fn == "count" {
				r[k] = a.castValue(0)
			} else {
				r[k] = nil
			}
		default:
			r[k] = a.castValue(v)
		}
	}
	return nil
}

// castValue turns a computed number into the field's value: castType, or
// by default an int for Count, a date for Min and Max of a datetime, and
// a number otherwise.
func (a *aggSpec) castValue(v float64) any {
	cast := a.cast
	if cast == "" {
		switch {
		case a.fn == "count":
			cast = "int"
		case (a.fn == "min" || a.fn == "max") && a.ofType == schemas.TypeDatetime:
			cast = "date"
		default:
			cast = "float"
		}
	}
	switch cast {
	case "int":
		return int64(math.Trunc(v))
	case "string":
		if a.ofType == schemas.TypeDatetime && (a.fn == "min" || a.fn == "max") {
			return time.UnixMilli(int64(v)).UTC().Format(time.RFC3339Nano)
		}
		return textOf(v)
	case "date":
		return time.UnixMilli(int64(v)).UTC()
	}
	return v
}

// maxAggregateOrdering bounds how many records a retrieve ordered by an
// aggregation field may match: it computes the field for every one.
var maxAggregateOrdering = 10000

// orderByAggregates answers a retrieve whose ordering names aggregation
// fields: the matching records' aggregates are computed (one grouped query
// per field over all of them, at most maxAggregateOrdering), the records
// are ordered by them (then by the store's ordering), and the page is read
// and shaped as usual.
func (h *Handler) orderByAggregates(ctx context.Context, q *jqlgate.Query, spec *fieldSpec) (*jqlgate.Result, error) {
	total, err := h.deps.Store.Count(ctx, h.model.Collection, q)
	if err != nil {
		return nil, err
	}
	if total > maxAggregateOrdering {
		return nil, jqlgate.Invalid("__meta__.ordering", "Ordering by an aggregation field computes it for every matching record: at most %d may match, and %d do. Narrow the filter.", maxAggregateOrdering, total)
	}
	fields := []string{schemas.FieldID}
	for _, o := range spec.aggOrder {
		if a := spec.aggs[o.Field]; a != nil && !slices.Contains(fields, a.field) {
			fields = append(fields, a.field)
		}
	}
	all := *q
	all.Fields, all.Limit, all.Offset = fields, maxAggregateOrdering, 0
	light, err := h.deps.Store.Find(ctx, h.model.Collection, &all)
	if err != nil {
		return nil, err
	}
	for _, o := range spec.aggOrder {
		if err := h.aggregate(ctx, light, o.Field, spec.aggs[o.Field]); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(light, func(i, j int) bool {
		for _, o := range spec.aggOrder {
			if c := compareAgg(light[i][o.Field], light[j][o.Field]); c != 0 {
				return (c < 0) != o.Desc
			}
		}
		return false
	})
	end := min(len(light), q.Offset+q.Limit)
	var ids []any
	for _, r := range light[min(q.Offset, end):end] {
		ids = append(ids, r[schemas.FieldID])
	}
	page := []map[string]any{}
	if len(ids) > 0 {
		pq := &jqlgate.Query{Filter: []jqlgate.Condition{{Field: schemas.FieldID, Op: jqlgate.OpIn, Value: ids}}, Fields: q.Fields, Limit: len(ids)}
		if len(pq.Fields) > 0 && !slices.Contains(pq.Fields, schemas.FieldID) {
			pq.Fields = append(slices.Clone(pq.Fields), schemas.FieldID)
		}
		found, err := h.deps.Store.Find(ctx, h.model.Collection, pq)
		if err != nil {
			return nil, err
		}
		byID := make(map[any]map[string]any, len(found))
		for _, f := range found {
			byID[f[schemas.FieldID]] = f
		}
		for _, id := range ids {
			if r := byID[id]; r != nil {
				page = append(page, r)
			}
		}
	}
	if err := h.shape(ctx, page, spec); err != nil {
		return nil, err
	}
	return &jqlgate.Result{Data: page, Filtered: total, Display: len(page)}, nil
}

// compareAgg orders aggregate values: numbers and times by value, text
// by text, null before everything.
func compareAgg(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if x, ok := asFloat(a); ok {
		if y, ok := asFloat(b); ok {
			return cmp.Compare(x, y)
		}
	}
	if x, ok := a.(time.Time); ok {
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	}
	return strings.Compare(textOf(a), textOf(b))
}
