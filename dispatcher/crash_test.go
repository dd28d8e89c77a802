package dispatcher_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// The crash child is this test binary run again with these variables set.
const (
	envChild    = "JQLGATE_DISPATCHER_CRASH_CHILD"
	envURI      = "JQLGATE_DISPATCHER_CRASH_URI"
	envDB       = "JQLGATE_DISPATCHER_CRASH_DB"
	envReceiver = "JQLGATE_DISPATCHER_CRASH_RECEIVER"
)

// TestCrashChild is the child process of TestCrashRecovery: it publishes
// events as fast as it can and prints each acknowledged id ("publish"), or
// only recovers and delivers ("recover"), until it is killed.
func TestCrashChild(t *testing.T) {
	mode := os.Getenv(envChild)
	if mode == "" {
		t.Skip("run by TestCrashRecovery")
	}
	ctx := context.Background()
	db, err := mongodb.Open(ctx, mongodb.Config{URI: os.Getenv(envURI), Database: os.Getenv(envDB)})
	if err != nil {
		fmt.Println("FATAL", err)
		os.Exit(2)
	}
	store := mongodb.NewDeliveryStore(db.Database)
	s := sub("sub_crash", "*", os.Getenv(envReceiver))
	d := dispatcher.New(dispatcher.Config{Store: store, Source: newSource(s), Node: "crash-node", Policy: loopback,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 16, Tick: 200 * time.Millisecond})
	if err := d.Start(ctx); err != nil {
		fmt.Println("FATAL", err)
		os.Exit(2)
	}
	if mode == "publish" {
		publishForever(ctx, d)
	}
	select {}
}

func publishForever(ctx context.Context, d *dispatcher.Dispatcher) {
	var mu sync.Mutex
	for range 16 {
		go func() {
			for {
				ev := event("crash.Test:create", "e", map[string]any{"n": 1})
				if err := d.Publish(ctx, ev); err != nil {
					continue
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, "ACK", ev.ID)
				mu.Unlock()
			}
		}()
	}
}

// TestCrashRecovery kills a publishing process with SIGKILL mid-load,
// restarts it, and checks that every acknowledged event reached the
// receiver at least once.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	// A slow receiver while the first child runs leaves a backlog for
	// the restarted one.
	var slow atomic.Bool
	slow.Store(true)
	rc := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			time.Sleep(5 * time.Millisecond)
		}
	})
	got := collectIDs(rc)
	store, env := childEnv(t, rc)
	_ = store.Close(context.Background())

	acked := runUntilAcked(t, env, 2000)
	time.Sleep(200 * time.Millisecond) // let the receiver drain what the first child sent
	t.Logf("child acknowledged %d events before SIGKILL; %d delivered before the restart", len(acked), got.count())
	slow.Store(false)
	child := startChild(t, env, "recover")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer kill(child)
	missing := got.waitAll(acked, 60*time.Second)
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged events never delivered, e.g. %v", len(missing), len(acked), missing[:min(5, len(missing))])
	}
}

func startChild(t *testing.T, env []string, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), env...), envChild+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

func kill(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
}

// runUntilAcked runs a publishing child, SIGKILLs it once it has
// acknowledged n events, and returns every id it acknowledged.
func runUntilAcked(t *testing.T, env []string, n int) []string {
	t.Helper()
	cmd := startChild(t, env, "publish")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "FATAL") {
			kill(cmd)
			t.Fatal(line)
		}
		if id, ok := strings.CutPrefix(line, "ACK "); ok {
			acked = append(acked, id)
			if len(acked) == n {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		}
	}
	_ = cmd.Wait()
	if len(acked) < n {
		t.Fatalf("child acknowledged only %d events", len(acked))
	}
	return acked
}

// deliveredIDs records the ids of the events a receiver gets.
type deliveredIDs struct {
	mu  sync.Mutex
	got map[string]bool
}

// collectIDs records every event id rc receives, until rc closes.
func collectIDs(rc *receiver) *deliveredIDs {
	d := &deliveredIDs{got: map[string]bool{}}
	go func() {
		for r := range rc.reqs {
			var p struct{ ID string }
			_ = json.Unmarshal(r.Body, &p)
			d.mu.Lock()
			d.got[p.ID] = true
			d.mu.Unlock()
		}
	}()
	return d
}

func (d *deliveredIDs) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.got)
}

// waitAll waits until every id in want was received and returns those
// still missing at the timeout.
func (d *deliveredIDs) waitAll(want []string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var missing []string
		d.mu.Lock()
		for _, id := range want {
			if !d.got[id] {
				missing = append(missing, id)
			}
		}
		d.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// childEnv makes a fresh database with the delivery indexes for a child
// process delivering to rc, and returns its store and the child's
// environment.
func childEnv(t *testing.T, rc *receiver) (*mongodb.DeliveryStore, []string) {
	t.Helper()
	db := mongotest.New(t)
	store := mongodb.NewDeliveryStore(db)
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store, []string{envURI + "=" + mongotest.URI(t), envDB + "=" + db.Name(), envReceiver + "=" + rc.URL}
}
