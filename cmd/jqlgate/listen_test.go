package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/webhook"
)

const listenSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func startListener(t *testing.T, args ...string) (*httptest.Server, *lockedBuffer) {
	t.Helper()
	opts := newOptionSet("listen", "", listenOptions, func(string) string { return "" })
	if err := opts.parse(args, io.Discard); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	l, err := newListener(opts, out)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return srv, out
}

func send(t *testing.T, url, body string, ts time.Time, signBody, secret string) *http.Response {
	t.Helper()
	sig, err := webhook.Sign("evt_1", ts, []byte(signBody), secret)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", "evt_1")
	req.Header.Set("webhook-timestamp", fmt.Sprint(ts.Unix()))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestListenVerifies(t *testing.T) {
	body := `{"id":"evt_1","event":"profile.Customer:create","timestamp":"2026-01-01T00:00:00Z","data":{"name":"Ada"}}`
	other := "whsec_aGVsbG8gd29ybGQgdGhpcyBpcyBhIGtleQ=="
	tests := []struct {
		name       string
		body, sign string
		ts         time.Time
		secret     string
		wantStatus int
		wantText   string
	}{
		{"valid", body, body, time.Now(), listenSecret, 200, "signature OK"},
		{"tampered body", strings.Replace(body, "Ada", "Eve", 1), body, time.Now(), listenSecret, 401, "body was changed or the secret is wrong"},
		{"stale timestamp", body, body, time.Now().Add(-time.Hour), listenSecret, 401, "outside the tolerance"},
		{"wrong secret", body, body, time.Now(), other, 401, "no signature matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, out := startListener(t, "--secret", listenSecret)
			resp := send(t, srv.URL, tt.body, tt.ts, tt.sign, tt.secret)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if !strings.Contains(out.String(), tt.wantText) {
				t.Errorf("output does not say %q:\n%s", tt.wantText, out)
			}
		})
	}
}

func TestListenAnswersChosenStatusAndForwards(t *testing.T) {
	var got []byte
	fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
	}))
	defer fwd.Close()
	srv, out := startListener(t, "--forward-to", fwd.URL, "--status", "202")
	resp := send(t, srv.URL, `{"a":1}`, time.Now(), `{"a":1}`, listenSecret)
	if resp.StatusCode != 202 {
		t.Errorf("status = %d, want 202", resp.StatusCode)
	}
	if string(got) != `{"a":1}` {
		t.Errorf("forwarded body = %q", got)
	}
	if !strings.Contains(out.String(), "forwarded to") {
		t.Errorf("output does not report the forward:\n%s", out)
	}
}
