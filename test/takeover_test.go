package test

import (
	"bufio"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/test/mongotest"
)

// Load settings of TestTakeoverKill9: creates in all, concurrent clients,
// and the acknowledgements after which process A is killed.
const (
	takeoverCreates = 5000
	takeoverClients = 16
	takeoverKillAt  = 2000
)

// Two serve processes share one store; process A is killed with SIGKILL
// mid-load. Process B adopts A's node once its heartbeat is older than
// --takeover-after and delivers what A acknowledged but had not delivered:
// every acknowledged create reaches the receiver at least once, a
// duplicate always with the same webhook-id.
func TestTakeoverKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two serve processes under load")
	}
	uri, db, key := mongotest.URI(t), mongotest.New(t).Name(), newSecretKey(t)
	// A slow receiver and one worker on A leave A a backlog to adopt.
	l := newLedger()
	l.delay = 5 * time.Millisecond
	rcv := httptest.NewServer(l)
	defer rcv.Close()
	env := "JQLGATE_TAKEOVER_AFTER=2s"
	a := serveOn(t, uri, db, "node-a", key, env, "JQLGATE_DISPATCHER_WORKERS=1")
	b := serveOn(t, uri, db, "node-b", key, env)
	tok := a.token(adminID, adminSecret)
	subscribeAll(t, a, tok, rcv.URL)
	awaitSubscribed(t, a, tok, l)
	awaitSubscribed(t, b, tok, l)

	began := time.Now()
	res := runTakeoverLoad(t, a, b, tok)
	t.Logf("%d creates in %s: %d acknowledged (%d by A, %d by B), %d failed (A gone)",
		takeoverCreates, time.Since(began).Round(time.Millisecond), len(res.acked), res.byA, len(res.acked)-res.byA, res.failed)

	logged := waitLog(t, b, "took over node", 20*time.Second)
	var rec struct{ Took string }
	_ = json.Unmarshal([]byte(lastLogLine(b, "took over node")), &rec)
	adopting, _ := time.ParseDuration(rec.Took)
	t.Logf("B claimed A's node %s after SIGKILL (--takeover-after 2s) and had adopted its deliveries %s after: %s",
		logged.Add(-adopting).Sub(res.killed).Round(time.Millisecond), logged.Sub(res.killed).Round(time.Millisecond), lastLogLine(b, "took over node"))
	if miss := l.waitAll(res.acked, 60*time.Second); len(miss) > 0 {
		t.Fatalf("%d of %d acknowledged creates never delivered, e.g. %v", len(miss), len(res.acked), miss[:min(5, len(miss))])
	}
	t.Logf("all %d acknowledged creates delivered %s after SIGKILL", len(res.acked), time.Since(res.killed).Round(time.Millisecond))
	extra, mixed := l.duplicates(res.acked)
	t.Logf("%d duplicate deliveries (same webhook-id)", extra)
	if len(mixed) > 0 {
		t.Errorf("%d entities delivered under different webhook-ids, e.g. %v", len(mixed), mixed[:min(5, len(mixed))])
	}
}

// takeoverResult is what the load of TestTakeoverKill9 did.
type takeoverResult struct {
	acked  []string // ids of the acknowledged creates
	byA    int      // how many of them A acknowledged
	failed int
	killed time.Time
}

// runTakeoverLoad creates takeoverCreates customers, alternately through a
// and b, from takeoverClients goroutines, and kills a with SIGKILL once
// takeoverKillAt are acknowledged.
func runTakeoverLoad(t *testing.T, a, b *proc, tok string) takeoverResult {
	var (
		next, acks atomic.Int64
		mu         sync.Mutex
		res        takeoverResult
		kill       sync.Once
		wg         sync.WaitGroup
	)
	for range takeoverClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := int(next.Add(1)); n <= takeoverCreates; n = int(next.Add(1)) {
				p := [2]*proc{a, b}[n%2]
				c := createCustomer(p.URL, tok, n)
				mu.Lock()
				if c.Status == 200 && c.ID != "" {
					res.acked = append(res.acked, c.ID)
					if p == a {
						res.byA++
					}
				} else {
					res.failed++
				}
				mu.Unlock()
				if c.Status == 200 && acks.Add(1) == takeoverKillAt {
					kill.Do(func() {
						_ = a.cmd.Process.Kill()
						mu.Lock()
						res.killed = time.Now()
						mu.Unlock()
					})
				}
			}
		}()
	}
	wg.Wait()
	if res.killed.IsZero() {
		t.Fatalf("only %d creates acknowledged, A was never killed", acks.Load())
	}
	return res
}

// waitLog waits until p logs a line whose msg is msg and returns the time
// the line carries.
func waitLog(t *testing.T, p *proc, msg string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if line := lastLogLine(p, msg); line != "" {
			var rec struct{ Time time.Time }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %s: %v", line, err)
			}
			return rec.Time
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not log %q within %s", p.URL, msg, timeout)
	return time.Time{}
}

// lastLogLine returns p's last JSON log line whose msg is msg, or "".
func lastLogLine(p *proc, msg string) string {
	var found string
	sc := bufio.NewScanner(strings.NewReader(p.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct{ Msg string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == msg {
			found = sc.Text()
		}
	}
	return found
}
