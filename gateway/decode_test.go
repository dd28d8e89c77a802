package gateway

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

// antlyExamples are the request examples of spec/antly-jql.md, with their
// // comments stripped and <placeholders> filled in.
var antlyExamples = []string{
	// prerequisites: authenticate
	`{ "__meta__": { "namespace": "system.User", "intent": "authenticate", "schema": "controller", "authenticationClass": "jwt", "return": { "id": null } }, "username": "{{username}}", "password": "{{password}}" }`,
	// create
	`{
"__meta__": {
"authenticationClass": "jwt",
"intent": "create",
"namespace": "fleet.Vehicle",
"schema": "model",
"return": { "id": null } // This will return the ID of the newly created vehicle
},
"gearbox": "automatic",
"model_colour": "Fleet_ModelColourType",
"purchase_type": "lease",
"vin": "1HGCM82633A004352",
"vrm": "AB12CDE",
"year": "2024"
}`,
	// retrieve, general structure
	`{
"__meta__": {
"authenticationClass": "<authentication_method>",
"intent": "retrieve",
"namespace": "<module_name>",
"schema": "<schema_type>",
"filter": { "<filter_criteria>": "<value>" }, // Optional: Filters to apply
"exclude": { "<field_to_exclude>": "<value>" }, // Optional: Fields to exclude
"search": {
"value": "<search_term>" // Optional: Search term
},
"ordering": [
"<field_name>", // Optional: Field to order by
"-<field_name>" // Optional: Field to order by in descending order
],
"cache": {
"enabled": <true_or_false> // Optional: Caching control
},
"limit": <number_of_results>, // Optional: Number of results to return
"offset": <number_of_results_to_skip>, // Optional: Number of results to skip for pagination
"draw": <draw_number> // Optional: Tracking number for the draw
},
"<field_name_1>": null,
"<field_name_2>": null
}`,
	// api keys: retrieve
	`{
"__meta__": {
"authenticationClass": "apiKey",
"intent": "retrieve",
"namespace": "tickets.Ticket",
"schema": "model",
"filter": {
"status": "open"
},
"limit": 10,
"offset": 0
},
"id": null,
"title": null,
"description": null,
"status": null
}`,
	// update
	`{
"__meta__": {
"authenticationClass": "jwt",
"intent": "update",
"namespace": "fleet.Vehicle",
"schema": "model",
"return": { "id": null }, // This will return the ID of the updated vehicle
"uniqueObject": {
"id": "67890" // The ID of the vehicle to be updated
}
},
"gearbox": "manual",
"model_colour": "Fleet_ModelColourType",
"purchase_type": "cash",
"vin": "1HGCM82633A004352",
"vrm": "XY34ZFG",
"year": "2025"
}`,
	// deleteOne
	`{
"__meta__": {
"authenticationClass": "jwt",
"intent": "deleteOne",
"namespace": "fleet.Vehicle",
"schema": "model",
"uniqueObject": {
"id": "67890" // The ID of the vehicle to be deleted
}
}
}`,
	// aggregation, general structure (nested subquery __meta__ is a field)
	`{
"__meta__": {
"authenticationClass": "<authentication_method>",
"intent": "retrieve",
"namespace": "<module_name>",
"schema": "<schema_type>",
"filter": { "<filter_criteria>": "<value>" },
"ordering": [
"<field_name>",
"-<field_name>"
],
"limit": <number_of_results>,
"offset": <number_of_results_to_skip>
},
"<field_name_1>": null,
"<aggregation_field>": {
"__meta__": {
"namespace": "<related_module_name>",
"intent": "subquery",
"ordering": "<field_to_order_by>",
"onField": "<related_field>",
"outerRefMapping": [
{
"field": "<field_to_map>",
"referenceField": "<related_field_to_map>"
}
],
"sequencedProcess": [
{
"function": "<db_function>",
"castType": "<data_type>",
"onField": "<target_field>"
}
]
}
}
}`,
	// complex query with __transform__
	`{
"__meta__": {
"authenticationClass": "<authentication_method>",
"intent": "retrieve",
"namespace": "<module_name>",
"schema": "<schema_type>",
"filter": { "<filter_criteria>": "<value>" },
"ordering": [
"<field_name>",
"-<field_name>"
],
"limit": <number_of_results>,
"offset": <number_of_results_to_skip>
},
"<field_name_1>": {
"__transform__": {
"<transform_type>": {
"<transform_options>": "<value>"
}
}
},
"<field_name_2>": {
}
}`,
	// subscribeToWebhook
	`{ "__meta__": { "namespace": "system.Webhook", "schema": "controller", "intent": "subscribeToWebhook", "authenticationClass": "oauth2", "authenticationToken": "your_oauth2_access_token" }, "prefix": "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": "https://yourapp.com/webhooks/handle" }`,
}

var (
	lineComment = regexp.MustCompile(`(?m)\s//[^\n"]*$`)
	placeholder = map[string]string{
		`"<authentication_method>"`: `"jwt"`, `"<module_name>"`: `"tickets.Category"`, `"<schema_type>"`: `"model"`,
		`"<related_module_name>"`: `"tickets.Category"`, `<true_or_false>`: `true`, `<number_of_results>`: `10`,
		`<number_of_results_to_skip>`: `0`, `<draw_number>`: `1`, `"<field_name_1>"`: `"name"`, `"<field_name_2>"`: `"created"`,
		`"<aggregation_field>"`: `"subcategoriesCount"`, `"<filter_criteria>"`: `"status"`, `"<field_to_exclude>"`: `"archived"`,
	}
)

// antlyJSON turns a documented example into valid JSON.
func antlyJSON(s string) string {
	s = lineComment.ReplaceAllString(s, "")
	for k, v := range placeholder {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

func TestDecodeAntlyExamples(t *testing.T) {
	for i, ex := range antlyExamples {
		body := antlyJSON(ex)
		env, err := Decode([]byte(body), Limits{})
		if err != nil {
			t.Errorf("example %d: %v\n%s", i, err, body)
			continue
		}
		if env.Meta.Intent == "" || env.Meta.Namespace == "" {
			t.Errorf("example %d: meta %+v lacks namespace or intent", i, env.Meta)
		}
		if _, ok := env.Fields["__meta__"]; ok {
			t.Errorf("example %d: __meta__ left among the fields", i)
		}
	}
}

func TestDecodeNumbers(t *testing.T) {
	env, err := Decode([]byte(`{"__meta__":{"namespace":"a.B","schema":"model","intent":"create","limit":"10","offset":5},"n":12345678901234567890}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Fields["n"]; got != json.Number("12345678901234567890") {
		t.Errorf("n = %#v, want json.Number 12345678901234567890", got)
	}
	if *env.Meta.Limit != 10 || *env.Meta.Offset != 5 {
		t.Errorf("limit, offset = %d, %d, want 10, 5", *env.Meta.Limit, *env.Meta.Offset)
	}
}

// FuzzDecode checks that no input panics Decode, and that every failure is
// an EINVALID error with a message.
func FuzzDecode(f *testing.F) {
	for _, ex := range antlyExamples {
		f.Add([]byte(antlyJSON(ex)))
	}
	for _, s := range []string{``, `[]`, `"x"`, `{"__meta__":null}`, `{"__meta__":{"limit":"ten"}}`, `{"a":1,"a":2}`, `{} x`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := Decode(body, Limits{MaxDepth: 8, MaxFields: 50, MaxItems: 50, MaxStringBytes: 64})
		if err == nil {
			if env == nil {
				t.Fatal("nil envelope without error")
			}
			return
		}
		e := jqlgate.AsError(err)
		if e.Code != jqlgate.EINVALID || e.Message == "" {
			t.Fatalf("error %v: code %q, want %q with a message", err, e.Code, jqlgate.EINVALID)
		}
	})
}
