package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/jqlgate/jqlgate/gateway"
)

const describeBody = `{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"}}`

func newWiredServer(t testing.TB, lim gateway.Limits) *httptest.Server {
	t.Helper()
	a := &app{server: gateway.NewServer("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)), nil)}
	wireGateway(a, serveConfig{Limits: lim})
	ts := httptest.NewServer(a.server)
	t.Cleanup(ts.Close)
	return ts
}

func TestWireGatewayDescribe(t *testing.T) {
	ts := newWiredServer(t, gateway.DefaultLimits())
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"describe is public", describeBody, 200, `"namespace":"system.Schema"`},
		{"no authenticator means 401", `{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe2","authenticationToken":"x"}}`, 401, "JQL:AuthenticationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+"/jql", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !bytes.Contains(b, []byte(tt.want)) {
				t.Errorf("status %d body %s, want %d containing %s", resp.StatusCode, b, tt.status, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1MiB", 1 << 20, true}, {"512KiB", 512 << 10, true}, {"2048", 2048, true}, {"1MB", 1e6, true},
		{"ten", 0, false}, {"-1", 0, false}, {"0", 0, false}, {"1TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize("body-limit", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v, want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// BenchmarkDescribe measures POST /jql system.Schema describe through the
// whole gateway (decode, validate, route, render) over loopback HTTP.
// Rate limiting is off: every request comes from one IP.
func BenchmarkDescribe(b *testing.B) {
	lim := gateway.DefaultLimits()
	lim.Rate = -1
	benchmarkPost(b, newWiredServer(b, lim).URL+"/jql")
}

// BenchmarkBareEcho is the baseline: an echo handler answering {}.
func BenchmarkBareEcho(b *testing.B) {
	e := echo.New()
	e.POST("/jql", func(c echo.Context) error { return c.JSON(http.StatusOK, struct{}{}) })
	ts := httptest.NewServer(e)
	b.Cleanup(ts.Close)
	benchmarkPost(b, ts.URL+"/jql")
}

func benchmarkPost(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", strings.NewReader(describeBody))
			if err != nil {
				b.Error(err)
				return
			}
			var v any
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
				b.Errorf("status %d, decode %v", resp.StatusCode, err)
			}
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
