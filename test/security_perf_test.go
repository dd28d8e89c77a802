package test

import (
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serveSync starts serve on the embedded store in dataDir with
// --embedded-sync sync, a bootstrap admin and loopback receivers allowed.
func serveSync(t *testing.T, dataDir, sync string) *proc {
	t.Helper()
	p := startProc(t, []string{"JQLGATE_ADDR=127.0.0.1:0", "JQLGATE_DATA_DIR=" + dataDir,
		"JQLGATE_BOOTSTRAP_CLIENT_ID=" + adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET=" + adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_RATE_LIMIT=-1"}, "serve", "--embedded-sync", sync)
	p.waitReady()
	return p
}

// With the faster --embedded-sync normal and the write gate, a 200 still
// means durable across a process crash: serve is killed with SIGKILL under
// concurrent creates, restarted on the same files, and every acknowledged
// create is there and delivered (at least once, one webhook-id per entity).
func TestSecurityPerfKill9LosesNoAcknowledgedCreate(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("checks the embedded store's settings")
	}
	if testing.Short() {
		t.Skip("runs serve under load and kills it")
	}
	dir := t.TempDir()
	l := newLedger()
	rcv := httptest.NewServer(l)
	defer rcv.Close()
	p := serveSync(t, dir, "normal")
	tok := p.token(adminID, adminSecret)
	subscribeAll(t, p, tok, rcv.URL)

	const creates, clients, killAt = 3000, 16, 800
	var (
		next, acks atomic.Int64
		mu         sync.Mutex
		acked      []string
		kill       sync.Once
		wg         sync.WaitGroup
	)
	for range clients {
		wg.Go(func() {
			for n := int(next.Add(1)); n <= creates; n = int(next.Add(1)) {
				c := createCustomer(p.URL, tok, n)
				if c.Status != 200 || c.ID == "" {
					continue
				}
				mu.Lock()
				acked = append(acked, c.ID)
				mu.Unlock()
				if acks.Add(1) == killAt {
					kill.Do(func() { _ = p.cmd.Process.Kill() })
				}
			}
		})
	}
	wg.Wait()
	if acks.Load() < killAt {
		t.Fatalf("only %d creates acknowledged, serve was never killed", acks.Load())
	}
	p.wait(30 * time.Second)

	q := serveSync(t, dir, "normal")
	tok = q.token(adminID, adminSecret)
	for _, id := range acked {
		m := meta("profile.Customer", "model", "retrieve", tok)
		m["uniqueObject"] = map[string]any{"id": id}
		if a := q.jql(map[string]any{"__meta__": m}); a.HTTPStatus != 200 {
			t.Fatalf("acknowledged customer %s lost after SIGKILL: %d %.300s", id, a.HTTPStatus, a.Raw)
		}
	}
	if miss := l.waitAll(acked, 60*time.Second); len(miss) > 0 {
		t.Fatalf("%d of %d acknowledged creates never delivered, e.g. %v", len(miss), len(acked), miss[:min(5, len(miss))])
	}
	if _, mixed := l.duplicates(acked); len(mixed) > 0 {
		t.Errorf("%d entities delivered under different webhook-ids, e.g. %v", len(mixed), mixed[:min(5, len(mixed))])
	}
	t.Logf("%d creates acknowledged, serve killed after %d; all retrievable and delivered after restart", len(acked), killAt)
}
