package gateway

import (
	"net/http"
	"strings"
	"testing"
)

func TestCookieRequestsMustBeSameOrigin(t *testing.T) {
	s, ts := newTestServer(t, Limits{})
	s.AllowedOrigins = []string{"https://console.example.com"}
	host := strings.TrimPrefix(ts.URL, "http://")
	cookie := meta(customer + `,"intent":"create","authenticationClass":"jwt"`)
	tests := []struct {
		name   string
		body   string
		header http.Header
		status int
	}{
		{"origin same host", cookie, http.Header{"Origin": {ts.URL}}, 200},
		{"origin allowed", cookie, http.Header{"Origin": {"https://console.example.com"}, "Sec-Fetch-Site": {"cross-site"}}, 200},
		{"origin other host", cookie, http.Header{"Origin": {"http://evil.example"}}, 403},
		{"origin other port", cookie, http.Header{"Origin": {"http://" + strings.Split(host, ":")[0] + ":1"}}, 403},
		{"origin null", cookie, http.Header{"Origin": {"null"}}, 403},
		{"sec-fetch same-origin", cookie, http.Header{"Sec-Fetch-Site": {"same-origin"}}, 200},
		{"sec-fetch same-site", cookie, http.Header{"Sec-Fetch-Site": {"same-site"}}, 403},
		{"sec-fetch cross-site", cookie, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {ts.URL}}, 403},
		{"referer same host", cookie, http.Header{"Referer": {ts.URL + "/console/page"}}, 200},
		{"referer allowed", cookie, http.Header{"Referer": {"https://console.example.com/x"}}, 200},
		{"referer other host", cookie, http.Header{"Referer": {"http://evil.example/x"}}, 403},
		{"no evidence", cookie, nil, 403},
		{"bearer unaffected", meta(customer + `,"intent":"create","authenticationClass":"jwt"`), http.Header{"Authorization": {"Bearer good"}, "Origin": {"http://evil.example"}}, 200},
		{"meta token unaffected", meta(customer + `,"intent":"create","authenticationClass":"jwt","authenticationToken":"good"`), http.Header{"Origin": {"http://evil.example"}}, 200},
		{"public intent unaffected", meta(`"namespace":"system.User","schema":"controller","intent":"authenticate","authenticationClass":"jwt"`), http.Header{"Origin": {"http://evil.example"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": {"jwt=good"}}
			for k, v := range tt.header {
				h[k] = v
			}
			resp, body := post(t, ts.URL+"/jql", []byte(tt.body), h)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 403 && !strings.Contains(string(body), "JQL:AuthorizationException") {
				t.Errorf("body = %s, want JQL:AuthorizationException", body)
			}
		})
	}
}

func TestCheckOrigins(t *testing.T) {
	if err := CheckOrigins([]string{"https://a.example", " http://b.example:8080 ", ""}); err != nil {
		t.Errorf("valid origins refused: %v", err)
	}
	for _, bad := range []string{"a.example", "https://a.example/path", "https://a.example?q=1"} {
		if err := CheckOrigins([]string{bad}); err == nil {
			t.Errorf("CheckOrigins(%q) = nil, want an error", bad)
		}
	}
}
