package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

func TestOpsLogsFailTwiceThenDone(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 500, 503, 200)
	sub := e.subscribe(rcv.URL, 0.1, 0.1)
	evID := e.publish("cus_1")
	entries := e.waitLogs(sub, "Done", latestIs(jqlgate.StatusDone, 3))
	if got, want := summary(entries), []string{"Done/3/200", "Resent/2/503", "Resent/1/500"}; !cmp.Equal(got, want) {
		t.Fatalf("log = %v, want %v", got, want)
	}
	delivery := dispatcher.DeliveryID(evID, sub)
	for _, en := range entries {
		req := en["request"].(map[string]any)
		headers := req["headers"].(map[string]any)
		if en["deliveryId"] != delivery || headers["Webhook-Id"] != delivery && headers["webhook-id"] != delivery {
			t.Errorf("entry %v: deliveryId %v, webhook-id header %v; want %s", en["attempt"], en["deliveryId"], headers, delivery)
		}
		if !strings.Contains(req["body"].(string), evID) {
			t.Errorf("attempt %v request body = %q, want the event", en["attempt"], req["body"])
		}
		if en["eventId"] != evID || en["event"] != "profile.Customer:create" {
			t.Errorf("entry event = %v %v", en["eventId"], en["event"])
		}
	}
	if resp := entries[0]["response"].(map[string]any); resp["body"] != "answer 200" || resp["headers"].(map[string]any)["X-Reply"] != "yes" {
		t.Errorf("response = %v, want the receiver's body and headers", resp)
	}
	if entries[1]["nextAttemptAt"] == nil || entries[0]["nextAttemptAt"] != nil {
		t.Errorf("nextAttemptAt: Resent %v, Done %v; want only the Resent one set", entries[1]["nextAttemptAt"], entries[0]["nextAttemptAt"])
	}
	filtered := []struct {
		name   string
		fields map[string]any
		want   []string
	}{
		{"status", map[string]any{"status": "Resent"}, []string{"Resent/2/503", "Resent/1/500"}},
		{"statuses", map[string]any{"status": []string{"Done", "Queued"}}, []string{"Done/3/200"}},
		{"other event", map[string]any{"event": "profile.Customer:update"}, nil},
		{"event id", map[string]any{"eventId": evID, "limit": 1, "offset": 1}, []string{"Resent/2/503"}},
		{"until before", map[string]any{"until": "2000-01-01T00:00:00Z"}, nil},
		{"since after", map[string]any{"since": time.Now().Add(time.Hour).Format(time.RFC3339)}, nil},
	}
	for _, tt := range filtered {
		t.Run(tt.name, func(t *testing.T) {
			tt.fields["id"] = sub
			if got := summary(e.logs(tt.fields)); !cmp.Equal(got, tt.want) {
				t.Errorf("log = %v, want %v", got, tt.want)
			}
		})
	}
	res, err := e.do(opsA, "getWebhookLogs", map[string]any{"id": sub, "limit": 2})
	if err != nil || res.Filtered != 3 || res.Display != 2 {
		t.Errorf("paged log: filtered %v, display %v, %v; want 3, 2", res.Filtered, res.Display, err)
	}
	if q := e.ok("getWebhookQueue", map[string]any{"id": sub}).([]any); len(q) != 0 {
		t.Errorf("queue after Done = %v, want empty", q)
	}
}

func TestOpsRetryFailedDeliveries(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 500)
	sub := e.subscribe(rcv.URL, 0.05)
	ev1 := e.publish("cus_1")
	delivery := dispatcher.DeliveryID(ev1, sub)
	e.waitLogs(sub, "Failed", latestIs(jqlgate.StatusFailed, 2))

	rcv.setPlan(200)
	data := e.ok("retryDelivery", map[string]any{"deliveryId": delivery}).(map[string]any)
	if data["queued"] != float64(1) {
		t.Fatalf("retryDelivery = %v, want queued 1", data)
	}
	entries := e.waitLogs(sub, "Done after retry", latestIs(jqlgate.StatusDone, 3))
	if entries[0]["deliveryId"] != delivery {
		t.Errorf("retry delivery id = %v, want %s", entries[0]["deliveryId"], delivery)
	}
	if got := rcv.requests[2].Header.Get("webhook-id"); got != delivery {
		t.Errorf("retry webhook-id = %q, want %q", got, delivery)
	}

	// Two more fail; one call retries both.
	since := time.Now().UTC().Add(-time.Second)
	rcv.setPlan(500)
	ev2, ev3 := e.publish("cus_2"), e.publish("cus_3")
	failed := func(entries []map[string]any) bool {
		n := 0
		for _, en := range entries {
			if en["status"] == jqlgate.StatusFailed && (en["eventId"] == ev2 || en["eventId"] == ev3) {
				n++
			}
		}
		return n == 2
	}
	e.waitLogs(sub, "two Failed", failed)
	rcv.setPlan(200)
	data = e.ok("retryDelivery", map[string]any{"id": sub, "since": since.Format(time.RFC3339Nano)}).(map[string]any)
	if data["queued"] != float64(2) {
		t.Fatalf("retryDelivery since = %v, want queued 2", data)
	}
	e.waitLogs(sub, "both Done", func(entries []map[string]any) bool {
		done := e.logs(map[string]any{"id": sub, "status": "Done"})
		return len(done) == 3
	})
}

func TestOpsQueueAndExpedite(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 500, 200)
	// 60 s keeps the retry in the dispatcher's memory (within its retry
	// horizon), where it can be made due now.
	sub := e.subscribe(rcv.URL, 60)
	ev := e.publish("cus_1")
	e.waitLogs(sub, "Resent", latestIs(jqlgate.StatusResent, 1))
	q := e.ok("getWebhookQueue", map[string]any{"id": sub}).([]any)
	if len(q) != 1 {
		t.Fatalf("queue = %v, want one delivery", q)
	}
	p := q[0].(map[string]any)
	next, _ := time.Parse(time.RFC3339Nano, p["nextAttemptAt"].(string))
	if p["status"] != "Resent" || p["attempts"] != float64(1) || p["retries"] != float64(0) || p["eventId"] != ev ||
		time.Until(next) < 30*time.Second || p["lastResponseCode"] != float64(500) {
		t.Errorf("pending = %v, want Resent after 1 attempt, next in about a minute", p)
	}
	data := e.ok("retryDelivery", map[string]any{"deliveryId": p["deliveryId"]}).(map[string]any)
	if data["queued"] != float64(1) {
		t.Fatalf("retryDelivery of a waiting delivery = %v, want queued 1", data)
	}
	e.waitLogs(sub, "Done now", latestIs(jqlgate.StatusDone, 2))
}

func TestOpsQueuedInFlight(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 200)
	rcv.block = make(chan struct{})
	sub := e.subscribe(rcv.URL, 1)
	ev := e.publish("cus_1")
	for rcv.count() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	q := e.ok("getWebhookQueue", map[string]any{"id": sub}).([]any)
	logs := e.logs(map[string]any{"id": sub, "status": "Queued"})
	close(rcv.block)
	if len(q) != 1 || q[0].(map[string]any)["status"] != "Queued" || q[0].(map[string]any)["deliveryId"] != dispatcher.DeliveryID(ev, sub) {
		t.Errorf("queue during the first attempt = %v, want it Queued", q)
	}
	if got := summary(logs); !cmp.Equal(got, []string{"Queued/0/0"}) {
		t.Errorf("Queued log = %v", got)
	}
	e.waitLogs(sub, "Done", latestIs(jqlgate.StatusDone, 1))
}

func TestOpsReplayEvent(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 200)
	sub := e.subscribe(rcv.URL, 1)
	ev := e.publish("cus_1")
	e.waitLogs(sub, "Done", latestIs(jqlgate.StatusDone, 1))
	data := e.ok("replayEvent", map[string]any{"eventId": ev}).(map[string]any)
	delivery := dispatcher.DeliveryID(ev, sub)
	if data["queued"] != float64(1) || data["deliveryIds"].([]any)[0] != delivery {
		t.Fatalf("replayEvent = %v, want one delivery %s", data, delivery)
	}
	e.waitLogs(sub, "replayed", latestIs(jqlgate.StatusDone, 2))
	if rcv.count() != 2 || rcv.bodies[0] != rcv.bodies[1] || rcv.requests[1].Header.Get("webhook-id") != delivery {
		t.Errorf("receiver got %d requests; want the same delivery twice", rcv.count())
	}
	if got := rcv.requests[1].Header.Get("X-Webhook-Attempt"); got != "2" {
		t.Errorf("replay X-Webhook-Attempt = %q, want 2", got)
	}
}

func TestOpsTestWebhook(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 418)
	sub := e.subscribe(rcv.URL, 1)
	data := e.ok("testWebhook", map[string]any{"id": sub}).(map[string]any)
	if data["statusCode"] != float64(418) || data["body"] != "answer 418" || data["status"] != "Failed" ||
		data["headers"].(map[string]any)["X-Reply"] != "yes" {
		t.Fatalf("testWebhook = %v, want the receiver's 418 answer", data)
	}
	if rcv.count() != 1 {
		t.Fatalf("receiver got %d requests, want 1", rcv.count())
	}
	req := rcv.requests[0]
	secret := e.ok("getWebhookSecret", map[string]any{"id": sub}).(map[string]any)["secret"].(string)
	ts := req.Header.Get("webhook-timestamp")
	var tsn int64
	_ = json.Unmarshal([]byte(ts), &tsn)
	want := dispatcher.Sign([]string{secret}, req.Header.Get("webhook-id"), tsn, []byte(rcv.bodies[0]))
	if req.Header.Get("webhook-signature") != want || req.Header.Get(dispatcher.TestHeader) != "true" {
		t.Errorf("test request headers = %v, want a valid signature and the test marker", req.Header)
	}
	var payload map[string]any
	_ = json.Unmarshal([]byte(rcv.bodies[0]), &payload)
	if payload["event"] != "profile.Customer:create" || payload["data"].(map[string]any)["id"] != "cus_example" {
		t.Errorf("test payload = %v, want the catalogue's example", payload)
	}
	rcv.setPlan(204)
	data = e.ok("testWebhook", map[string]any{"id": sub, "trigger": "profile.Customer:update"}).(map[string]any)
	if data["statusCode"] != float64(204) || data["status"] != "Done" || data["event"] != "profile.Customer:update" {
		t.Errorf("testWebhook with trigger = %v", data)
	}
	entries := e.logs(map[string]any{"id": sub})
	if len(entries) != 2 || entries[0]["test"] != true || entries[1]["test"] != true {
		t.Errorf("log = %v, want two test attempts", entries)
	}
}
