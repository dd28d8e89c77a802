package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// sharedIssuer is the token issuer every process on one store shares, so a
// token one issues is accepted by the others.
const sharedIssuer = "http://jqlgate.e2e.test"

// newSecretKey returns a fresh base64 master key for JQLGATE_SECRET_KEY.
func newSecretKey(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// serveOn starts `jqlgate serve` as node on the store at uri, database db,
// with the admin bootstrap client, loopback receivers allowed, a raised
// rate limit and the given key; env adds or overrides settings. Unlike
// serve, it names the database itself, so several processes share it.
func serveOn(t testing.TB, uri, db, node, key string, env ...string) *proc {
	t.Helper()
	base := []string{
		"JQLGATE_ADDR=127.0.0.1:0", "JQLGATE_DATA_DIR=" + t.TempDir(),
		"MONGODB_URI=" + uri, "JQLGATE_DATABASE=" + db, "JQLGATE_SECRET_KEY=" + key,
		"JQLGATE_OAUTH2_ISSUER=" + sharedIssuer, "JQLGATE_NODE_ID=" + node,
		"JQLGATE_BOOTSTRAP_CLIENT_ID=" + adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET=" + adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_RATE_LIMIT=100000", "JQLGATE_RATE_BURST=100000",
	}
	p := startProc(t, append(base, env...), "serve")
	p.waitReady()
	return p
}

// ledger is a webhook receiver that records, per entity id, the webhook-id
// of every delivery it got.
type ledger struct {
	// delay is how long each answer takes.
	delay  time.Duration
	mu     sync.Mutex
	byID   map[string][]string
	notify chan struct{}
}

func newLedger() *ledger {
	return &ledger{byID: map[string][]string{}, notify: make(chan struct{}, 1)}
}

func (l *ledger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	time.Sleep(l.delay)
	l.mu.Lock()
	id := r.Header.Get("X-Webhook-Entity-Id")
	l.byID[id] = append(l.byID[id], r.Header.Get("webhook-id"))
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
}

// total returns how many deliveries the ledger got.
func (l *ledger) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ids := range l.byID {
		n += len(ids)
	}
	return n
}

// missing returns the ids in want not delivered yet.
func (l *ledger) missing(want []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range want {
		if len(l.byID[id]) == 0 {
			out = append(out, id)
		}
	}
	return out
}

// waitAll waits until every id in want was delivered and returns those
// still missing when timeout ends.
func (l *ledger) waitAll(want []string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		miss := l.missing(want)
		if len(miss) == 0 || time.Now().After(deadline) {
			return miss
		}
		select {
		case <-l.notify:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// duplicates counts the extra deliveries of the ids in want and returns
// the ids delivered under more than one webhook-id.
func (l *ledger) duplicates(want []string) (extra int, mixed []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range want {
		got := l.byID[id]
		if len(got) > 1 {
			extra += len(got) - 1
		}
		for _, wid := range got {
			if wid != got[0] {
				mixed = append(mixed, id)
				break
			}
		}
	}
	return extra, mixed
}

// loadClient posts creates under load: many connections, bounded time.
var loadClient = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	Timeout:   40 * time.Second,
}

// created is the outcome of one create under load.
type created struct {
	Status int
	ID     string
	Answer answer
	Took   time.Duration
	Err    error
}

// createCustomer creates customer n through POST /jql at url, without
// failing the test: under load a process may be gone or the store cut.
func createCustomer(url, tok string, n int) created {
	body, _ := json.Marshal(map[string]any{
		"__meta__": meta("profile.Customer", "model", "create", tok),
		"name":     fmt.Sprintf("Load %d", n), "email": fmt.Sprintf("load%d@example.com", n),
	})
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/jql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := loadClient.Do(req)
	if err != nil {
		return created{Err: err, Took: time.Since(began)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	c := created{Status: resp.StatusCode, Took: time.Since(began), Err: err}
	if err != nil {
		return c
	}
	if err := json.Unmarshal(raw, &c.Answer); err != nil {
		c.Err = fmt.Errorf("answer %d is not an envelope: %s", resp.StatusCode, raw)
		return c
	}
	c.Answer.HTTPStatus, c.Answer.Raw, c.Answer.Header = resp.StatusCode, string(raw), resp.Header
	var data struct{ ID string }
	if c.Status == http.StatusOK && json.Unmarshal(c.Answer.Data, &data) == nil {
		c.ID = data.ID
	}
	return c
}

// subscribeAll subscribes url to every customer create through p.
func subscribeAll(t testing.TB, p *proc, tok, url string) {
	t.Helper()
	p.jql(map[string]any{
		"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix":   "Load", "trigger": "profile.Customer:create", "webhookUrl": url,
	}).must(t)
}

// awaitSubscribed creates customers through p until one is delivered to l:
// p then knows the subscription (it may have been made on another process).
func awaitSubscribed(t testing.TB, p *proc, tok string, l *ledger) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		c := createCustomer(p.URL, tok, -1-n)
		if c.ID != "" && l.waitAll([]string{c.ID}, 500*time.Millisecond) == nil {
			return
		}
	}
	t.Fatalf("%s never delivered to the subscription", p.URL)
}
