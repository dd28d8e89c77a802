package test

import (
	"net/http"
	"slices"
	"testing"
)

// errorFields returns the fields an answer's errors name.
func errorFieldsOf(a answer) []string {
	var out []string
	for _, e := range a.Errors {
		out = append(out, e.Field)
	}
	return out
}

// wantEveryField fails unless a is a 400 naming every one of fields, each
// with a message.
func wantEveryField(t *testing.T, what string, a answer, fields ...string) {
	t.Helper()
	if a.HTTPStatus != http.StatusBadRequest {
		t.Fatalf("%s answered %d %s, want 400", what, a.HTTPStatus, a.Raw)
	}
	for _, e := range a.Errors {
		if e.ErrorMessage == "" {
			t.Errorf("%s: error on %s has no message", what, e.Field)
		}
	}
	got := errorFieldsOf(a)
	for _, f := range fields {
		if !slices.Contains(got, f) {
			t.Errorf("%s: errors %v lack %s", what, got, f)
		}
	}
}

// An update is checked as a whole: an unknown field no longer hides the
// other problems (each under its full path), and the update rules hold
// (absent keeps, null resets to the default, a redacted secret header
// keeps its stored value).
func TestSecurityValidateUpdateEveryProblem(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	a := webhookCall(p, "subscribeToWebhook", tok, map[string]any{
		"prefix": "V", "trigger": "profile.Customer:create", "webhookUrl": "https://example.com/hook",
		"headers": map[string]any{"X-Api-Key": "k1", "X-Plain": "v"}, "maxInFlight": 3, "timeoutSeconds": 20,
	}).must(t)
	var sub struct {
		ID             string
		MaxInFlight    int
		TimeoutSeconds int
		Headers        map[string]string
	}
	a.decode(t, &sub)

	bad := webhookCall(p, "updateWebhook", tok, map[string]any{
		"id": sub.ID, "bogus": 1, "maxInFlight": 0, "headers": map[string]any{"Host": "x", "X-Foo": 1},
		"retryPolicy":   map[string]any{"schedule": []any{5, "soon"}},
		"triggers":      []any{"profile.Customer:create", 7, "profile.Customer:create"},
		"basicAuth":     map[string]any{"username": "a:b", "password": 5},
		"secretHeaders": []any{"X-Ok", "Bad Name"},
	})
	wantEveryField(t, "updateWebhook", bad, "bogus", "maxInFlight", "headers.Host", "headers.X-Foo",
		"retryPolicy.schedule[1]", "triggers[1]", "triggers[2]", "basicAuth.username", "basicAuth.password", "secretHeaders[1]")

	up := webhookCall(p, "updateWebhook", tok, map[string]any{
		"id": sub.ID, "maxInFlight": nil, "headers": map[string]any{"X-Api-Key": "[redacted]", "X-Plain": "w"},
	}).must(t)
	var got struct {
		MaxInFlight    int
		TimeoutSeconds int
		Headers        map[string]string
	}
	up.decode(t, &got)
	if got.MaxInFlight != 8 || got.TimeoutSeconds != 20 || got.Headers["X-Plain"] != "w" || got.Headers["X-Api-Key"] != "[redacted]" {
		t.Errorf("updated to %+v; want maxInFlight reset to 8, timeoutSeconds kept at 20, headers changed", got)
	}
}

// A trusted-site update, too, lists every problem at once.
func TestSecurityValidateTrustedSiteUpdateEveryProblem(t *testing.T) {
	s := newSiteProc(t)
	id := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "CRM", "baseUrl": "http://127.0.0.1:9/hooks",
		"basicAuth": map[string]any{"username": "hook", "password": "first-pa55word"},
	}))
	a := s.site("updateTrustedSite", map[string]any{
		"id": id, "bogus": true, "name": 5, "basicAuth": map[string]any{"username": "a:b", "realm": "x"},
	})
	wantEveryField(t, "updateTrustedSite", a, "bogus", "name", "basicAuth.username", "basicAuth.realm")
}
