package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestIDOnlyShortSafeTokens(t *testing.T) {
	_, ts := newTestServer(t, Limits{})
	tests := []struct {
		sent string
		keep bool
	}{
		{"abc-123_X.y", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{strings.Repeat("a", 1<<16), false},
		{"has space", false},
		{`quote"`, false},
		{"ünïcode", false},
		{"", false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", tt.sent)
		resp, _ := do(t, req)
		got := resp.Header.Get("X-Request-Id")
		switch {
		case tt.keep && got != tt.sent:
			t.Errorf("sent %.20q: answer id %q, want it kept", tt.sent, got)
		case !tt.keep && !requestIDs.MatchString(got):
			t.Errorf("sent %.20q: answer id %.80q, want a generated req_ id", tt.sent, got)
		}
	}
}

func TestProbesLogAtDebug(t *testing.T) {
	var buf bytes.Buffer
	s := NewServer("127.0.0.1:0", slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, _ := do(t, mustRequest(t, http.MethodGet, ts.URL+p)); resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", p, resp.StatusCode)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("probes logged at info:\n%s", buf.String())
	}
	do(t, mustRequest(t, http.MethodGet, ts.URL+"/nope/"+strings.Repeat("x", 10000)))
	line := buf.String()
	if !strings.Contains(line, `"msg":"request"`) || len(line) > 1000 {
		t.Errorf("other requests: got a %d-byte log line, want one short info line:\n%.300s", len(line), line)
	}
}

func TestSecurityHeaders(t *testing.T) {
	_, ts := newTestServer(t, Limits{})
	s := ts.Config.Handler.(*Server)
	s.Mount(http.MethodPost, "/oauth2/token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"t"}`))
	}))
	tests := []struct {
		method, path string
		noStore      bool
	}{
		{http.MethodGet, "/healthz", false},
		{http.MethodGet, "/nope", false},
		{http.MethodPost, "/jql", true},
		{http.MethodGet, "/jql", true},
		{http.MethodPost, "/oauth2/token", true},
	}
	for _, tt := range tests {
		resp, _ := do(t, mustRequest(t, tt.method, ts.URL+tt.path))
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options = %q, want nosniff", tt.method, tt.path, got)
		}
		if got := resp.Header.Get("Cache-Control"); (got == "no-store") != tt.noStore {
			t.Errorf("%s %s: Cache-Control = %q, want no-store: %v", tt.method, tt.path, got, tt.noStore)
		}
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
