package gateway

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func meta(fields string) string {
	return `{"__meta__":{` + fields + `}}`
}

const customer = `"namespace":"profile.Customer","schema":"model"`

// TestJQL runs every documented case against the running server; response
// bodies are golden files (regenerate with go test -update).
func TestJQL(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	tests := []struct {
		name   string
		body   string
		header http.Header
		status int
	}{
		{"describe", meta(`"namespace":"system.Schema","schema":"controller","intent":"describe"`), nil, 200},
		{"malformed_json", `{"__meta__": {"namespace": }`, nil, 400},
		{"array_body", `[{"__meta__":{}}]`, nil, 400},
		{"string_body", `"hello"`, nil, 400},
		{"empty_body", ``, nil, 400},
		{"whitespace_body", " \n\t ", nil, 400},
		{"missing_meta", `{"name":"Ada"}`, nil, 400},
		{"meta_not_object", `{"__meta__":"profile.Customer"}`, nil, 400},
		{"meta_wrong_types", meta(`"namespace":5,"schema":true,"intent":["create"],"limit":"ten","ordering":7,"search":"x"`), nil, 400},
		{"meta_rules", meta(`"namespace":"Customer","schema":"table","intent":"","authenticationClass":"basic","limit":-1,"offset":5000000000`), nil, 400},
		{"meta_unknown_keys", meta(customer + `,"intent":"retrieve","zeta":1,"alpha":2`), nil, 400},
		{"limit_string_coerced", meta(customer + `,"intent":"retrieve","authenticationToken":"good","limit":"10","offset":0,"ordering":"-name","draw":3`), nil, 200},
		{"ordering_array", meta(customer + `,"intent":"retrieve","authenticationToken":"good","ordering":["pk","-name"],"filter":{"age":"18"},"search":{"value":"ada"},"cache":{"enabled":true}`), nil, 200},
		{"fields_numbers", `{"__meta__":{` + customer + `,"intent":"create","authenticationToken":"good","return":{"id":null}},"age":12345678901234567890,"ratio":0.5,"tags":["a"],"address":{"city":"Leeds"}}`, nil, 200},
		{"unknown_namespace", meta(`"namespace":"fleet.Vehicle","schema":"model","intent":"create","authenticationToken":"good"`), nil, 404},
		{"unknown_intent", meta(customer + `,"intent":"explode","authenticationToken":"good"`), nil, 400},
		{"schema_mismatch", meta(`"namespace":"profile.Customer","schema":"controller","intent":"create","authenticationToken":"good"`), nil, 400},
		{"body_2mib", `{"__meta__":{},"blob":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413},
		{"deep_nesting", deep, nil, 400},
		{"invalid_utf8", "{\"__meta__\":{\"namespace\":\"profile.Cust\xff\xfeomer\"}}", nil, 400},
		{"duplicate_keys", `{"__meta__":{` + customer + `,"intent":"create","intent":"retrieve"}}`, nil, 400},
		{"duplicate_top_keys", `{"__meta__":{` + customer + `,"intent":"create"},"name":"a","name":"b"}`, nil, 400},
		{"trailing_garbage", meta(customer+`,"intent":"create"`) + ` xyz`, nil, 400},
		{"two_objects", meta(customer+`,"intent":"create"`) + meta(customer+`,"intent":"create"`), nil, 400},
		{"long_string", `{"__meta__":{},"bio":"` + strings.Repeat("x", 300<<10) + `"}`, nil, 400},
		{"too_many_fields", `{"__meta__":{}` + manyFields(1001) + `}`, nil, 400},
		{"wrong_content_type", meta(customer + `,"intent":"create"`), http.Header{"Content-Type": {"text/plain"}}, 415},
		{"no_token", meta(customer + `,"intent":"create"`), nil, 401},
		{"bad_token", meta(customer + `,"intent":"create","authenticationToken":"nope"`), nil, 401},
		{"forbidden", meta(customer + `,"intent":"create"`), http.Header{"Authorization": {"Bearer reader"}}, 403},
		{"bearer_header", meta(customer + `,"intent":"create","authenticationClass":"apiKey"`), http.Header{"Authorization": {"Bearer good"}}, 200},
		{"jwt_cookie", meta(customer + `,"intent":"create","authenticationClass":"jwt"`), http.Header{"Cookie": {"jwt=good"}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"jwt_cookie_cross_site", meta(customer + `,"intent":"create","authenticationClass":"jwt"`), http.Header{"Cookie": {"jwt=good"}, "Sec-Fetch-Site": {"same-site"}, "Origin": {"http://evil.example"}}, 403},
		{"jwt_cookie_no_origin", meta(customer + `,"intent":"create","authenticationClass":"jwt"`), http.Header{"Cookie": {"jwt=good"}}, 403},
		{"missing_content_type", meta(customer + `,"intent":"create"`), http.Header{"Content-Type": nil}, 415},
		{"cookie_ignored_for_oauth2", meta(customer + `,"intent":"create"`), http.Header{"Cookie": {"jwt=good"}}, 401},
		{"handler_panic", meta(customer + `,"intent":"boom","authenticationToken":"good"`), nil, 500},
		{"internal_error_hidden", meta(customer + `,"intent":"leak","authenticationToken":"good"`), nil, 500},
		{"public_sets_cookie", meta(`"namespace":"system.User","schema":"controller","intent":"authenticate","authenticationClass":"jwt"`), nil, 200},
	}
	_, ts := newTestServer(t, Limits{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, ts.URL+"/jql", []byte(tt.body), tt.header)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			checkGolden(t, tt.name, body)
		})
	}
}

func manyFields(n int) string {
	var b strings.Builder
	b.WriteString(`,"many":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString("}")
	return b.String()
}

// TestRoutes checks that the router's own answers use the envelope too.
func TestRoutes(t *testing.T) {
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"get_jql", http.MethodGet, "/jql", 405},
		{"unknown_route", http.MethodGet, "/nope", 404},
		{"put_jql", http.MethodPut, "/jql", 405},
	}
	_, ts := newTestServer(t, Limits{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			resp, body := do(t, req)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			checkGolden(t, tt.name, body)
		})
	}
}

func TestCookiesAndDefaultClass(t *testing.T) {
	s, ts := newTestServer(t, Limits{})
	resp, _ := post(t, ts.URL+"/jql", []byte(meta(`"namespace":"system.User","schema":"controller","intent":"authenticate"`)), nil)
	if ck := resp.Cookies(); len(ck) != 1 || ck[0].Name != "jwt" || ck[0].Value != "tok" || !ck[0].HttpOnly {
		t.Errorf("cookies = %v, want one HttpOnly jwt=tok", ck)
	}
	post(t, ts.URL+"/jql", []byte(meta(customer+`,"intent":"create"`)), http.Header{"Authorization": {"Bearer good"}})
	fa := s.Authenticator.(*fakeAuth)
	if len(fa.classes) != 1 || fa.classes[0] != "oauth2" {
		t.Errorf("Authenticate classes = %v, want [oauth2]", fa.classes)
	}
}

func TestNilAuthenticator(t *testing.T) {
	s, ts := newTestServer(t, Limits{})
	s.Authenticator = nil
	resp, body := post(t, ts.URL+"/jql", []byte(meta(customer+`,"intent":"create","authenticationToken":"good"`)), nil)
	if resp.StatusCode != 401 || !bytes.Contains(body, []byte("JQL:AuthenticationException")) {
		t.Errorf("status = %d, body %s; want 401 AuthenticationException", resp.StatusCode, body)
	}
}
