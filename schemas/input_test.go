package schemas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jqlgate/jqlgate"
)

// fieldsOf decodes a request body as the gateway does (numbers as
// json.Number).
func fieldsOf(t *testing.T, body string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInputEveryProblemWithPath(t *testing.T) {
	body := `{
		"prefix": 1,
		"triggers": ["profile.Customer:create", 7, "profile.Customer", ""],
		"webhookUrl": "http://example.com/\n",
		"method": "PUT",
		"basicAuth": {"username": "a:b", "password": 5, "realm": "x"},
		"retryPolicy": {"schedule": [5, 10, "soon", -1]},
		"headers": {"X-Foo": 1, "Host": "x", "Bad Name": "v", "X-Ok": "a\r\nInjected: 1"},
		"secretHeaders": ["X-Token", "Bad Name"],
		"maxInFlight": 0,
		"timeoutSeconds": 1.5,
		"enabled": "yes",
		"bogus": true
	}`
	var in SubscribeInput
	got := Default().Input("", fieldsOf(t, body), &in)
	want := []jqlgate.FieldError{
		{Field: "basicAuth.password", Message: "must be a string"},
		{Field: "basicAuth.realm", Message: "is not a field of this intent; valid fields: basicAuth.password, basicAuth.username"},
		{Field: "bogus", Message: "is not a field of this intent; valid fields: basicAuth, bodySignature, contentType, enabled, filter, headers, includeEntity, maxInFlight, metadata, method, oauth2, ordered, prefix, rateLimitPerSecond, retryPolicy, secret, secretHeaders, signatureScheme, timeoutSeconds, trigger, triggers, trustedSite, webhookUrl"},
		{Field: "enabled", Message: "must be true or false"},
		{Field: "headers.X-Foo", Message: "must be a string"},
		{Field: "prefix", Message: "must be a string"},
		{Field: "retryPolicy.schedule[2]", Message: "must be a number"},
		{Field: "timeoutSeconds", Message: "must be a whole number"},
		{Field: "triggers[1]", Message: "must be a string"},
		// Then the problems of the validate tags.
		{Field: "triggers[2]", Message: "must be a trigger such as app.Model:action, app.Model:* or *"},
		{Field: "triggers[3]", Message: "is required"},
		{Field: "webhookUrl", Message: "must not contain control characters"},
		{Field: "method", Message: "must be one of: POST, GET"},
		{Field: "headers.Bad Name", Message: "is not a valid header name"},
		{Field: "headers.Host", Message: "Host is set by the dispatcher and may not be overridden"},
		{Field: "headers.X-Ok", Message: "must not contain line breaks"},
		{Field: "secretHeaders[1]", Message: "is not a valid header name"},
		{Field: "basicAuth.username", Message: "must not contain \":\""},
		{Field: "retryPolicy.schedule[3]", Message: "must be seconds between 0.001 and 2592000 (30 days)"},
		{Field: "maxInFlight", Message: "must be at least 1"},
	}
	// Map entries are validated in no fixed order: compare as sets.
	less := func(a, b jqlgate.FieldError) bool { return a.Field < b.Field }
	if diff := cmp.Diff(want, got, cmpSorted(less)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !in.Members.Given("prefix") || in.Members.Given("trigger") || in.Members.Null("prefix") {
		t.Errorf("members = %+v; want prefix given, trigger absent", in.Members)
	}
}

func TestInputAbsentNullValue(t *testing.T) {
	var in UpdateWebhookInput
	errs := Default().Input("", fieldsOf(t, `{"id":"sub_1","maxInFlight":null,"timeoutSeconds":20,"basicAuth":{"username":"u"}}`), &in)
	if errs != nil {
		t.Fatalf("problems %v, want none", errs)
	}
	m := in.Members
	switch {
	case !m.Null("maxInFlight") || in.MaxInFlight != nil:
		t.Error("maxInFlight: want given as null")
	case !m.Set("timeoutSeconds") || *in.TimeoutSeconds != 20:
		t.Error("timeoutSeconds: want 20")
	case m.Given("method"):
		t.Error("method: want absent")
	case in.BasicAuth.Members.Given("password"):
		t.Error("basicAuth.password: want absent (kept on update)")
	}
}

// One validator serves the model schemas, the envelope and the inputs: a
// rule registered once (trigger) checks a model field and a webhook input
// alike.
func TestOneValidatorForModelsAndInputs(t *testing.T) {
	if Default() != Default() {
		t.Fatal("Default() built two validators")
	}
	var model struct {
		Watch string `json:"watch" validate:"trigger"`
	}
	model.Watch = "nope"
	err := Default().Validate(&model)
	if e := jqlgate.AsError(err); len(e.Fields) != 1 || e.Fields[0].Message != "watch must be a trigger such as app.Model:action, app.Model:* or *" {
		t.Errorf("model field: %v", err)
	}
	var in SubscribeInput
	got := Default().Input("", map[string]any{"trigger": "nope"}, &in)
	want := []jqlgate.FieldError{{Field: "trigger", Message: "must be a trigger such as app.Model:action, app.Model:* or *"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	// The struct info is worked out once per type.
	if infoOf(typeOf[SubscribeInput]()) != infoOf(typeOf[SubscribeInput]()) {
		t.Error("struct info not cached")
	}
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func cmpSorted(less func(a, b jqlgate.FieldError) bool) cmp.Option {
	return cmpopts.SortSlices(less)
}

func TestDecodeHugeInteger(t *testing.T) {
	var in SubscribeInput
	got := Default().Input("", fieldsOf(t, `{"maxInFlight":1e300,"timeoutSeconds":-1e300}`), &in)
	want := []jqlgate.FieldError{{Field: "maxInFlight", Message: "must be at most 50"}, {Field: "timeoutSeconds", Message: "must be at least 1"}}
	if diff := cmp.Diff(want, got, cmpSorted(func(a, b jqlgate.FieldError) bool { return a.Field < b.Field })); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
