package jqlgate

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name   string
		filter map[string]any
		want   []Condition
	}{
		{"empty", map[string]any{}, []Condition{}},
		{"equality", map[string]any{"status": "open"}, []Condition{{"status", OpEq, "open"}}},
		{"sorted lookups", map[string]any{"age__gte": "18", "age__lt": json.Number("65")},
			[]Condition{{"age", OpGte, "18"}, {"age", OpLt, json.Number("65")}}},
		{"in list", map[string]any{"status__in": []any{"a", "b"}}, []Condition{{"status", OpIn, []any{"a", "b"}}}},
		{"in csv", map[string]any{"status__in": "a, b"}, []Condition{{"status", OpIn, []any{"a", "b"}}}},
		{"isnull string", map[string]any{"phone__isnull": "true"}, []Condition{{"phone", OpIsNull, true}}},
		{"dotted", map[string]any{"address.city__icontains": "lon"}, []Condition{{"address.city", OpIContains, "lon"}}},
		{"null equality", map[string]any{"phone": nil}, []Condition{{"phone", OpEq, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter("__meta__.filter", tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFilterInvalid(t *testing.T) {
	tests := []struct {
		name   string
		filter map[string]any
		field  string
	}{
		{"unknown lookup", map[string]any{"age__foo": 1}, "__meta__.filter.age__foo"},
		{"operator object", map[string]any{"age": map[string]any{"$gt": 1}}, "__meta__.filter.age"},
		{"where object", map[string]any{"name": map[string]any{"$where": "sleep(1000)"}}, "__meta__.filter.name"},
		{"dollar field", map[string]any{"$where": "1"}, "__meta__.filter.$where"},
		{"empty name", map[string]any{"__gt": 1}, "__meta__.filter.__gt"},
		{"list for equality", map[string]any{"age": []any{1}}, "__meta__.filter.age"},
		{"object in list", map[string]any{"age__in": []any{map[string]any{"$gt": 1}}}, "__meta__.filter.age__in"},
		{"number for contains", map[string]any{"name__contains": 1}, "__meta__.filter.name__contains"},
		{"bad isnull", map[string]any{"name__isnull": "maybe"}, "__meta__.filter.name__isnull"},
		{"null for gt", map[string]any{"age__gt": nil}, "__meta__.filter.age__gt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFilter("__meta__.filter", tt.filter)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != EINVALID || e.Field != tt.field {
				t.Errorf("got code %q field %q, want %q %q", e.Code, e.Field, EINVALID, tt.field)
			}
		})
	}
}

func TestParseFilterReportsAll(t *testing.T) {
	_, err := ParseFilter("f", map[string]any{"a__x": 1, "b": map[string]any{}})
	e := AsError(err)
	if len(e.Fields) != 2 {
		t.Errorf("got %d field errors, want 2: %v", len(e.Fields), e.Fields)
	}
}

func TestMatchConditions(t *testing.T) {
	data := map[string]any{
		"name": "Ada Lovelace", "age": int64(36), "score": 4.5, "count": json.Number("7"),
		"active": true, "phone": nil, "tags": []any{"vip", "beta"},
		"created_at": "2024-03-01T10:00:00Z", "born": time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC),
		"address": map[string]any{"city": "London"},
	}
	tests := []struct {
		filter map[string]any
		want   bool
	}{
		{map[string]any{"name": "Ada Lovelace"}, true},
		{map[string]any{"name": "Ada"}, false},
		{map[string]any{"age": "36"}, true},
		{map[string]any{"age": json.Number("36")}, true},
		{map[string]any{"age": 36.0}, true},
		{map[string]any{"age__gt": "35", "age__lt": 37}, true},
		{map[string]any{"age__gte": "37"}, false},
		{map[string]any{"score__lte": "4.5"}, true},
		{map[string]any{"count__gt": 6}, true},
		{map[string]any{"active": "true"}, true},
		{map[string]any{"active": false}, false},
		{map[string]any{"phone__isnull": true}, true},
		{map[string]any{"missing__isnull": true}, true},
		{map[string]any{"name__isnull": "false"}, true},
		{map[string]any{"phone": nil}, true},
		{map[string]any{"name__ne": "Bob"}, true},
		{map[string]any{"name__in": []any{"Bob", "Ada Lovelace"}}, true},
		{map[string]any{"age__in": "1,36"}, true},
		{map[string]any{"name__contains": "Love"}, true},
		{map[string]any{"name__contains": "love"}, false},
		{map[string]any{"name__icontains": "LOVE"}, true},
		{map[string]any{"name__startswith": "Ada"}, true},
		{map[string]any{"name__endswith": "lace"}, true},
		{map[string]any{"tags__contains": "vip"}, true},
		{map[string]any{"created_at__gt": "2024-03-01T09:00:00+00:00"}, true},
		{map[string]any{"created_at__gt": "2024-03-01T11:00:00+02:00"}, true},
		{map[string]any{"created_at__lt": "2024-03-01T11:00:00+02:00"}, false},
		{map[string]any{"born__lt": "1900-01-01T00:00:00Z"}, true},
		{map[string]any{"address.city": "London"}, true},
		{map[string]any{"address.city__icontains": "paris"}, false},
		{map[string]any{"name__gt": 5}, false},
		{map[string]any{"missing": "x"}, false},
		{map[string]any{"missing__contains": "x"}, false},
	}
	for _, tt := range tests {
		conds, err := ParseFilter("f", tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%v): %v", tt.filter, err)
		}
		if got := MatchConditions(conds, data); got != tt.want {
			t.Errorf("MatchConditions(%v) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}
