package test

import (
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/test/mongotest"
)

// outageRequestTimeout is the serve process's --request-timeout in
// TestStoreOutage: no request may take much longer.
const outageRequestTimeout = 5 * time.Second

// The store goes away for a few seconds under load and comes back. While
// it is away, creates are refused with 503 JQL:ServerException (never a
// 500, never a hang) and /readyz is 503; afterwards /readyz is 200 again
// and every create that was acknowledged has its webhook delivered. A slow
// receiver keeps deliveries going during the outage, whose attempt records
// wait for the store: a restart afterwards finds them all recorded and
// sends nothing again.
func TestStoreOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a serve process under load")
	}
	uri := mongotest.URI(t)
	proxy := newStoreProxy(t, targetOf(uri))
	proxied := proxy.proxiedURI(uri)
	if proxied == "" {
		t.Skipf("store URI %s cannot be proxied", uri)
	}
	l := newLedger()
	l.delay = 10 * time.Millisecond
	rcv := httptest.NewServer(l)
	defer rcv.Close()
	db, key := mongotest.New(t).Name(), newSecretKey(t)
	env := []string{"JQLGATE_CONNECT_TIMEOUT=2s", "JQLGATE_DISPATCHER_WORKERS=2", "JQLGATE_REQUEST_TIMEOUT=" + outageRequestTimeout.String()}
	p := serveOn(t, proxied, db, "node-outage", key, env...)
	tok := p.token(adminID, adminSecret)
	subscribeAll(t, p, tok, rcv.URL)

	ld := startOutageLoad(p, tok, 8)
	ld.waitAcks(t, 300)
	proxy.Cut()
	cutAt, ackedAtCut := time.Now(), ld.acks.Load()
	waitStatus(t, p, "/readyz", 503, 5*time.Second)
	time.Sleep(time.Until(cutAt.Add(3 * time.Second)))
	proxy.Restore()
	waitStatus(t, p, "/readyz", 200, 20*time.Second)
	ackedAtRestore := ld.acks.Load()
	ld.waitAcks(t, ackedAtRestore+200)
	res := ld.stop()

	t.Logf("%d acknowledged (%d before the cut, %d until /readyz was 200 again, %d after); refused: %v; slowest request %s",
		len(res.acked), ackedAtCut, ackedAtRestore-ackedAtCut, int64(len(res.acked))-ackedAtRestore, res.refused, res.slowest.Round(time.Millisecond))
	for _, bad := range res.bad {
		t.Errorf("during the outage: %s", bad)
	}
	if res.slowest > outageRequestTimeout+3*time.Second {
		t.Errorf("slowest request took %s, want about the request timeout %s at most", res.slowest, outageRequestTimeout)
	}
	if miss := l.waitAll(res.acked, 60*time.Second); len(miss) > 0 {
		t.Fatalf("%d of %d acknowledged creates never delivered, e.g. %v", len(miss), len(res.acked), miss[:min(5, len(miss))])
	}
	extra, mixed := l.duplicates(res.acked)
	t.Logf("all delivered; %d duplicate deliveries (same webhook-id)", extra)
	if len(mixed) > 0 {
		t.Errorf("%d entities delivered under different webhook-ids, e.g. %v", len(mixed), mixed[:min(5, len(mixed))])
	}
	checkRecorded(t, p, l, func() *proc { return serveOn(t, proxied, db, "node-outage", key, env...) })
}

// checkRecorded stops p gracefully, starts it again with restart, and
// checks that the restarted process sends nothing again: every attempt was
// recorded.
func checkRecorded(t *testing.T, p *proc, l *ledger, restart func() *proc) {
	t.Helper()
	before := l.total()
	t.Logf("attempt records retried while the store was away: %d", strings.Count(p.logs.String(), `"msg":"record attempt; retrying"`))
	p.signal(syscall.SIGTERM)
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	restart()
	time.Sleep(time.Second)
	if again := l.total() - before; again > 0 {
		t.Errorf("the restarted process sent %d deliveries again, want 0: their attempts were not recorded", again)
	}
}

// outageLoad creates customers from several goroutines until stopped.
type outageLoad struct {
	acks atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup

	mu  sync.Mutex
	res outageResult
}

// outageResult is what the load saw: the acknowledged ids, the refusals
// by status and exception, the answers that were neither, and the slowest
// request.
type outageResult struct {
	acked   []string
	refused map[string]int
	bad     []string
	slowest time.Duration
}

func startOutageLoad(p *proc, tok string, clients int) *outageLoad {
	ld := &outageLoad{done: make(chan struct{}), res: outageResult{refused: map[string]int{}}}
	var next atomic.Int64
	for range clients {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for {
				select {
				case <-ld.done:
					return
				default:
				}
				ld.note(createCustomer(p.URL, tok, int(next.Add(1))))
			}
		}()
	}
	return ld
}

// note records one create's outcome.
func (ld *outageLoad) note(c created) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.res.slowest = max(ld.res.slowest, c.Took)
	switch {
	case c.Err != nil:
		ld.res.bad = append(ld.res.bad, c.Err.Error())
	case c.Status == 200 && c.ID != "":
		ld.res.acked = append(ld.res.acked, c.ID)
		ld.acks.Add(1)
	case c.Status == 503 && len(c.Answer.Errors) == 1 && c.Answer.Errors[0].ErrorCode == "JQL:ServerException" && c.Answer.Header.Get("Retry-After") != "":
		ld.res.refused[fmt.Sprintf("%d %s: %s", c.Status, c.Answer.Errors[0].ErrorCode, c.Answer.Message)]++
	default:
		ld.res.bad = append(ld.res.bad, fmt.Sprintf("got %d %s, want 200 or 503 JQL:ServerException with Retry-After", c.Status, c.Answer.Raw))
	}
}

// waitAcks waits until n creates are acknowledged.
func (ld *outageLoad) waitAcks(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for ld.acks.Load() < n {
		if time.Now().After(deadline) {
			ld.stop()
			t.Fatalf("%d creates acknowledged after 30s, want %d", ld.acks.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the load and returns what it saw.
func (ld *outageLoad) stop() outageResult {
	select {
	case <-ld.done:
	default:
		close(ld.done)
	}
	ld.wg.Wait()
	ld.mu.Lock()
	defer ld.mu.Unlock()
	sort.Strings(ld.res.bad)
	return ld.res
}

// waitStatus polls path until it answers want.
func waitStatus(t *testing.T, p *proc, path string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := p.get(path)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %s after %s, want %d", path, code, body, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
