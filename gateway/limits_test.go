package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	_, ts := newTestServer(t, Limits{Rate: 0.001, Burst: 2})
	body := []byte(meta(customer + `,"intent":"retrieve","authenticationToken":"good"`))
	var statuses []int
	for range 3 {
		resp, _ := post(t, ts.URL+"/jql", body, nil)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if want := []int{200, 200, 429}; !equalInts(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
	// Another principal has a bucket of its own.
	body = []byte(meta(customer + `,"intent":"retrieve"`))
	resp, _ := post(t, ts.URL+"/jql", body, http.Header{"Authorization": {"Bearer reader"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("other principal: status = %d, want 200", resp.StatusCode)
	}
}

func TestRateLimitBeforeAuthIsByIP(t *testing.T) {
	_, ts := newTestServer(t, Limits{Rate: 0.001, Burst: 1})
	body := []byte(meta(customer + `,"intent":"retrieve","authenticationToken":"wrong"`))
	first, _ := post(t, ts.URL+"/jql", body, nil)
	second, rb := post(t, ts.URL+"/jql", body, nil)
	if first.StatusCode != 401 || second.StatusCode != 429 {
		t.Errorf("statuses = %d, %d, want 401, 429\n%s", first.StatusCode, second.StatusCode, rb)
	}
	if !strings.Contains(string(rb), "JQL:RateLimitException") {
		t.Errorf("body %s, want JQL:RateLimitException", rb)
	}
}

func TestHandlerTimeout(t *testing.T) {
	_, ts := newTestServer(t, Limits{RequestTimeout: 50 * time.Millisecond})
	resp, body := post(t, ts.URL+"/jql", []byte(meta(customer+`,"intent":"slow","authenticationToken":"good"`)), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("status = %d, Retry-After %q, want 503 and 1\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	checkGolden(t, "timeout", body)
}

// TestSlowBody sends headers and half a body, then stalls: the server must
// answer within the request timeout rather than wait forever.
func TestSlowBody(t *testing.T) {
	_, ts := newTestServer(t, Limits{RequestTimeout: 100 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /jql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"__meta__\":")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503\n%s", resp.StatusCode, b)
	}
}

func TestMetrics(t *testing.T) {
	_, ts := newTestServer(t, Limits{})
	post(t, ts.URL+"/jql", []byte(meta(`"namespace":"system.Schema","schema":"controller","intent":"describe"`)), nil)
	post(t, ts.URL+"/jql", []byte(meta(`"namespace":"made.Up","schema":"model","intent":"x1"`)), nil)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
	_, body := do(t, req)
	for _, want := range []string{
		`jqlgate_requests_total{intent="describe",namespace="system.Schema",status="200"} 1`,
		`jqlgate_requests_total{intent="unknown",namespace="unknown",status="401"} 1`,
		`jqlgate_request_duration_seconds_bucket{intent="describe",namespace="system.Schema"`,
		`jqlgate_requests_in_flight 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMount(t *testing.T) {
	s, ts := newTestServer(t, Limits{})
	s.Mount(http.MethodPost, "/oauth2/token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "mounted")
	}))
	resp, body := post(t, ts.URL+"/oauth2/token", nil, nil)
	if resp.StatusCode != 200 || string(body) != "mounted" {
		t.Errorf("mounted route = %d %q, want 200 mounted", resp.StatusCode, body)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
