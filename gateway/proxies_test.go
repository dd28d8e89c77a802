package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range got {
		names = append(names, n.String())
	}
	if want := "10.0.0.0/8 192.0.2.7/32 2001:db8::/32 ::1/128"; strings.Join(names, " ") != want {
		t.Errorf("got %v, want %s", names, want)
	}
	if none, err := ParseTrustedProxies(""); err != nil || len(none) != 0 {
		t.Errorf("empty: %v %v, want none", none, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1/8/8"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The client address every route sees (and per-IP limits and login
// lock-outs key on): the peer, unless the peer is a trusted proxy; then
// the right-most X-Forwarded-For address that is not a trusted proxy.
// With no trusted proxies (the default) the header is ignored, so a client
// can't pick its own address; loopback and private peers are not trusted
// by default either.
func TestTrustedProxiesClientAddr(t *testing.T) {
	proxies, _ := ParseTrustedProxies("10.0.0.0/8")
	tests := []struct {
		name    string
		trusted bool
		peer    string
		xff     string
		want    string
	}{
		{"no proxies trusted: the header is ignored", false, "10.1.1.1", "203.0.113.5", "10.1.1.1"},
		{"no proxies trusted: loopback is no proxy", false, "127.0.0.1", "203.0.113.5", "127.0.0.1"},
		{"through a trusted proxy", true, "10.1.1.1", "203.0.113.5", "203.0.113.5"},
		{"spoofed hops before the real one", true, "10.1.1.1", "198.51.100.66, 203.0.113.5", "203.0.113.5"},
		{"a chain of trusted proxies", true, "10.1.1.1", "203.0.113.5, 10.2.2.2", "203.0.113.5"},
		{"an untrusted peer's header is ignored", true, "192.0.2.9", "203.0.113.5", "192.0.2.9"},
		{"a loopback peer is not trusted unless listed", true, "127.0.0.1", "203.0.113.5", "127.0.0.1"},
		{"a trusted proxy without the header", true, "10.1.1.1", "", "10.1.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if tt.trusted {
				s.TrustedProxies = proxies
			}
			s.Mount(http.MethodGet, "/whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, jqlgate.ClientAddrFromContext(r.Context()))
			}))
			req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
			req.RemoteAddr = tt.peer + ":40000"
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("client address %q, want %q", got, tt.want)
			}
		})
	}
}

// Behind a trusted proxy each client has its own pre-authentication rate
// limit; without the setting they all shared the proxy's.
func TestTrustedProxiesRateLimitPerClient(t *testing.T) {
	proxies, _ := ParseTrustedProxies("10.0.0.0/8")
	body := `{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"}}`
	send := func(s *Server, client string) int {
		req := httptest.NewRequest(http.MethodPost, "/jql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		req.RemoteAddr = "10.1.1.1:40000"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, trusted := range []bool{false, true} {
		s, _ := newTestServer(t, Limits{Rate: 0.001, Burst: 1})
		if trusted {
			s.TrustedProxies = proxies
		}
		if code := send(s, "203.0.113.5"); code != 200 {
			t.Fatalf("trusted=%v: first request %d", trusted, code)
		}
		if code := send(s, "203.0.113.5"); code != 429 {
			t.Errorf("trusted=%v: the same client again: %d, want 429", trusted, code)
		}
		want := 429 // everyone is the proxy
		if trusted {
			want = 200
		}
		if code := send(s, "198.51.100.7"); code != want {
			t.Errorf("trusted=%v: another client behind the proxy: %d, want %d", trusted, code, want)
		}
	}
}
