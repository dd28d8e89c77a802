package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// answer is a decoded JQL response envelope.
type answer struct {
	HTTPStatus int               `json:"-"`
	Status     string            `json:"status"`
	Data       json.RawMessage   `json:"data"`
	Errors     []answerError     `json:"errors"`
	Extras     map[string]int    `json:"extras"`
	Intent     string            `json:"intent"`
	Message    string            `json:"message"`
	Raw        string            `json:"-"`
	Header     http.Header       `json:"-"`
	Il8n       string            `json:"il8n"`
	SystemInfo any               `json:"system_info"`
	Extra      map[string]string `json:"-"`
}

type answerError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Field        string `json:"field"`
}

// jql posts an envelope to the gateway and decodes the answer.
func (p *proc) jql(body any) answer {
	p.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/jql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("POST /jql: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		p.t.Fatalf("POST /jql answered %d with a body that is not an envelope: %s", resp.StatusCode, raw)
	}
	a.HTTPStatus, a.Raw, a.Header = resp.StatusCode, string(raw), resp.Header
	return a
}

// must fails the test unless the answer is OK.
func (a answer) must(t testing.TB) answer {
	t.Helper()
	if a.HTTPStatus != 200 || a.Status != "OK" {
		t.Fatalf("got %d %s, want 200 OK", a.HTTPStatus, a.Raw)
	}
	return a
}

// decode decodes the answer's data into v.
func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Data, v); err != nil {
		t.Fatalf("data %s: %v", a.Data, err)
	}
}

// token gets an access token with golang.org/x/oauth2's client-credentials
// client, as a client app would.
func (p *proc) token(clientID, secret string, scopes ...string) string {
	p.t.Helper()
	cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: p.URL + "/oauth2/token", Scopes: scopes}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		p.t.Fatalf("getting a token: %v", err)
	}
	return tok.AccessToken
}

// meta builds a __meta__ block.
func meta(namespace, schema, intent, token string) map[string]any {
	return map[string]any{"namespace": namespace, "schema": schema, "intent": intent, "authenticationClass": "oauth2", "authenticationToken": token}
}

// received is one webhook request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	Method string
	Query  string
}

// receiver is a real HTTP server that records the webhooks it gets.
type receiver struct {
	mu     sync.Mutex
	got    []received
	status int
	notify chan struct{}
}

func newReceiver() *receiver { return &receiver{status: 200, notify: make(chan struct{}, 1<<16)} }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, received{Header: req.Header.Clone(), Body: body, Method: req.Method, Query: req.URL.RawQuery})
	status := r.status
	r.mu.Unlock()
	w.WriteHeader(status)
	r.notify <- struct{}{}
}

// waitFor waits until the receiver has at least n requests.
func (r *receiver) waitFor(t testing.TB, n int, timeout time.Duration) []received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]received(nil), r.got...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("receiver got %d requests after %s, want %d", r.count(), timeout, n)
		}
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}
