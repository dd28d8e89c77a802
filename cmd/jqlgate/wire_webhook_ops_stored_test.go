package main

import (
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// TestOpsRetryStoredRetry: retryDelivery of a delivery whose retry waits
// in the store (due beyond the retry horizon) sends it now, as the next
// attempt under the same webhook-id, and the stale retry is not sent
// again when it falls due.
func TestOpsRetryStoredRetry(t *testing.T) {
	e := newOpsEnvWith(t, dispatcher.Config{RetryHorizon: 100 * time.Millisecond, LoadEvery: 20 * time.Millisecond})
	rcv := newOpsReceiver(t, 500, 200)
	sub := e.subscribe(rcv.URL, 2)
	e.publish("cus_1")
	e.waitLogs(sub, "Resent", latestIs(jqlgate.StatusResent, 1))
	q := e.ok("getWebhookQueue", map[string]any{"id": sub}).([]any)
	if len(q) != 1 {
		t.Fatalf("queue = %v, want one delivery", q)
	}
	p := q[0].(map[string]any)
	next, err := time.Parse(time.RFC3339Nano, p["nextAttemptAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	data := e.ok("retryDelivery", map[string]any{"deliveryId": p["deliveryId"]}).(map[string]any)
	if data["queued"] != float64(1) {
		t.Fatalf("retryDelivery of a stored retry = %v, want queued 1", data)
	}
	e.waitLogs(sub, "Done now", latestIs(jqlgate.StatusDone, 2))
	if time.Now().After(next) {
		t.Fatalf("Done only after the stored retry was due (%s)", next)
	}
	time.Sleep(time.Until(next) + 500*time.Millisecond)
	if got := summary(e.logs(map[string]any{"id": sub})); len(got) != 2 || rcv.count() != 2 {
		t.Fatalf("after the stored retry's due time: log %v, %d requests; want Done/2 and Resent/1, 2 requests", got, rcv.count())
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if a, b := rcv.requests[0].Header.Get("webhook-id"), rcv.requests[1].Header.Get("webhook-id"); a == "" || a != b {
		t.Errorf("webhook-id: first %q, retried %q; want the same", a, b)
	}
}
