package dispatcher_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/dispatcher"
)

// TestTakeover runs a publishing process and a second dispatcher on one
// store, SIGKILLs the first mid-load, and checks that the second claims
// its node and delivers every event the first acknowledged.
func TestTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rc := newReceiver(t, func(_ int, _ http.ResponseWriter, _ *http.Request) { time.Sleep(2 * time.Millisecond) })
	got := collectIDs(rc)
	store, env := childEnv(t, rc)
	survivor := startOn(t, store, newSource(sub("sub_crash", "*", rc.URL)), dispatcher.Config{Node: "survivor", TakeoverAfter: time.Second})

	acked := runUntilAcked(t, env, 2000)
	killed := time.Now()
	deadline := killed.Add(20 * time.Second)
	for {
		st, err := store.NodeState(context.Background(), "crash-node")
		if err != nil {
			t.Fatal(err)
		}
		if st != nil && st.Owner == survivor.d.Node() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("crash-node never taken over: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("crash-node taken over %s after SIGKILL (takeover after 1s)", time.Since(killed).Round(time.Millisecond))
	missing := got.waitAll(acked, 60*time.Second)
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged events never delivered, e.g. %v", len(missing), len(acked), missing[:min(5, len(missing))])
	}
}
