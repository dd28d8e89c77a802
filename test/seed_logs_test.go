package test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// logsEnv is two subscribers (A answered 200, B answered 500 so its
// deliveries stay queued for retries), an operator, and two customers
// whose events both subscribers got.
type logsEnv struct {
	p                   *proc
	a, b, op            string
	ownerA, ownerB      string
	subA, subB          string
	secretB             string
	ada, grace          string
	srvA, srvB          *httptest.Server
	rcvA, rcvB          *receiver
	started, afterwards time.Time
}

func newLogsEnv(t *testing.T) *logsEnv {
	t.Helper()
	dataDir := t.TempDir()
	ca := createClient(t, dataDir, "a", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	cb := createClient(t, dataDir, "b", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	co := createClient(t, dataDir, "operator", "system.Webhook:operate system.Webhook:privateTargets")
	e := &logsEnv{p: serveWithAdmin(t, dataDir), ownerA: "client:" + ca.ClientID, ownerB: "client:" + cb.ClientID}
	e.a, e.b, e.op = e.p.token(ca.ClientID, ca.ClientSecret), e.p.token(cb.ClientID, cb.ClientSecret), e.p.token(co.ClientID, co.ClientSecret)
	e.rcvA, e.rcvB = newReceiver(), newReceiver()
	e.rcvB.status = http.StatusInternalServerError
	e.srvA, e.srvB = httptest.NewServer(e.rcvA), httptest.NewServer(e.rcvB)
	t.Cleanup(e.srvA.Close)
	t.Cleanup(e.srvB.Close)
	e.subA, _ = subscribeCustomers(t, e.p, e.a, e.srvA.URL)
	var s struct{ ID, Secret string }
	e.p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", e.b),
		"prefix": "Logs", "trigger": "profile.Customer:*", "webhookUrl": e.srvB.URL,
		"headers": map[string]string{"X-Api-Key": "b-receiver-credential"}}).must(t).decode(t, &s)
	e.subB, e.secretB = s.ID, s.Secret
	e.started = time.Now().UTC().Add(-time.Second)
	admin := e.p.token(adminID, adminSecret)
	e.ada, e.grace = createCustomerAs(t, e.p, admin, "Ada"), createCustomerAs(t, e.p, admin, "Grace")
	e.rcvA.waitFor(t, 2, 30*time.Second)
	e.rcvB.waitFor(t, 2, 30*time.Second)
	// Wait until both of A's attempts are recorded.
	deadline := time.Now().Add(30 * time.Second)
	for len(e.logs(t, e.a, map[string]any{"status": "Done"})) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("A's two Done attempts never showed in its logs")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.afterwards = time.Now().UTC().Add(time.Second)
	return e
}

type logRow struct {
	Owner, Event, EntityID, EntityURL, SubscriptionID, WebhookURL, Status, DeliveryID, EventID string
	ResponseCode, Attempt, Retries                                                             int
	Withheld                                                                                   bool
	CreatedAt, NextAttemptAt                                                                   time.Time
}

func (e *logsEnv) call(tok, intent string, fields map[string]any) answer {
	body := map[string]any{"__meta__": meta("system.Webhook", "controller", intent, tok)}
	for k, v := range fields {
		body[k] = v
	}
	return e.p.jql(body)
}

func (e *logsEnv) logs(t *testing.T, tok string, fields map[string]any) []logRow {
	t.Helper()
	var rows []logRow
	e.call(tok, "getWebhookLogs", fields).must(t).decode(t, &rows)
	return rows
}

func TestSeedLogsAccountWide(t *testing.T) {
	e := newLogsEnv(t)

	// A plain client sees only its own subscriptions' attempts.
	rows := e.logs(t, e.a, nil)
	if len(rows) != 2 {
		t.Fatalf("A's account-wide logs = %+v, want its 2 attempts", rows)
	}
	for _, r := range rows {
		if r.SubscriptionID != e.subA || r.Owner != "" || r.WebhookURL != e.srvA.URL || r.Status != "Done" || r.ResponseCode != 200 ||
			r.Event != "profile.Customer:create" || r.Attempt != 1 || r.Retries != 0 || r.CreatedAt.IsZero() {
			t.Errorf("A's row %+v, want a Done attempt of %s at %s without owner", r, e.subA, e.srvA.URL)
		}
	}
	if rows[0].EntityID != e.grace || rows[1].EntityID != e.ada {
		t.Errorf("rows about %s, %s; want newest first: %s then %s", rows[0].EntityID, rows[1].EntityID, e.grace, e.ada)
	}

	// The operator sees both owners, each row naming its owner.
	all := e.logs(t, e.op, map[string]any{"owner": "*"})
	owners := map[string]string{}
	for _, r := range all {
		owners[r.SubscriptionID] = r.Owner
		if !r.Withheld || r.EntityID != "" {
			t.Errorf("operator without read permission got row %+v, want the records withheld", r)
		}
	}
	if owners[e.subA] != e.ownerA || owners[e.subB] != e.ownerB {
		t.Errorf("operator rows name owners %v, want %s: %s and %s: %s", owners, e.subA, e.ownerA, e.subB, e.ownerB)
	}
	onlyB := e.logs(t, e.op, map[string]any{"owner": e.ownerB})
	for _, r := range onlyB {
		if r.SubscriptionID != e.subB || r.Owner != e.ownerB {
			t.Errorf("operator's logs of owner B include %+v", r)
		}
	}
	if len(onlyB) == 0 {
		t.Error("operator's logs of owner B are empty")
	}

	// Filters and paging.
	filters := []struct {
		name   string
		fields map[string]any
		want   int
	}{
		{"status Done", map[string]any{"status": "Done"}, 2},
		{"status list", map[string]any{"status": []string{"Failed", "Resent"}}, 0},
		{"event", map[string]any{"event": "profile.Customer:create"}, 2},
		{"other event", map[string]any{"event": "profile.Customer:update"}, 0},
		{"subscriptionId", map[string]any{"subscriptionId": e.subA}, 2},
		{"entityId", map[string]any{"entityId": e.ada}, 1},
		{"since", map[string]any{"since": e.afterwards.Format(time.RFC3339Nano)}, 0},
		{"until", map[string]any{"until": e.started.Format(time.RFC3339Nano)}, 0},
		{"range", map[string]any{"since": e.started.Format(time.RFC3339Nano), "until": e.afterwards.Format(time.RFC3339Nano)}, 2},
	}
	for _, f := range filters {
		a := e.call(e.a, "getWebhookLogs", f.fields).must(t)
		if a.Extras["filtered"] != f.want {
			t.Errorf("%s: filtered %d, want %d: %s", f.name, a.Extras["filtered"], f.want, a.Data)
		}
	}
	first := e.call(e.a, "getWebhookLogs", map[string]any{"limit": 1}).must(t)
	second := e.call(e.a, "getWebhookLogs", map[string]any{"limit": 1, "offset": 1}).must(t)
	if first.Extras["filtered"] != 2 || first.Extras["display"] != 1 || second.Extras["display"] != 1 || string(first.Data) == string(second.Data) {
		t.Errorf("pages %s (%v) and %s (%v), want two different rows of 2", first.Data, first.Extras, second.Data, second.Extras)
	}
	if a := e.call(e.a, "getWebhookLogs", map[string]any{"subscriptionId": e.subB}); a.HTTPStatus != 404 {
		t.Errorf("A's logs of B's subscription answered %d %s, want 404", a.HTTPStatus, a.Raw)
	}
	if a := e.call(e.a, "getWebhookLogs", map[string]any{"owner": "*"}); a.HTTPStatus != 403 {
		t.Errorf("A's logs of every owner answered %d %s, want 403", a.HTTPStatus, a.Raw)
	}

	// The queue, account-wide: B's deliveries wait for their retries.
	var queue []logRow
	e.call(e.b, "getWebhookQueue", nil).must(t).decode(t, &queue)
	if len(queue) == 0 {
		t.Fatal("B's account-wide queue is empty, want its failing deliveries")
	}
	for _, r := range queue {
		if r.SubscriptionID != e.subB || r.WebhookURL != e.srvB.URL || r.NextAttemptAt.IsZero() || r.EntityID == "" || r.Owner != "" {
			t.Errorf("B's queue row %+v", r)
		}
		if r.Status == "Resent" && (r.ResponseCode != 500 || r.Retries != r.Attempt-1) {
			t.Errorf("B's Resent queue row %+v, want response 500 and retries = attempt-1", r)
		}
	}
	var aQueue, opQueue []logRow
	e.call(e.a, "getWebhookQueue", nil).must(t).decode(t, &aQueue)
	if len(aQueue) != 0 {
		t.Errorf("A's queue = %+v, want empty (all Done)", aQueue)
	}
	e.call(e.op, "getWebhookQueue", map[string]any{"owner": "*", "subscriptionId": e.subB}).must(t).decode(t, &opQueue)
	if len(opQueue) == 0 || opQueue[0].Owner != e.ownerB {
		t.Errorf("operator's queue of B's subscription = %+v, want rows owned by %s", opQueue, e.ownerB)
	}
}

func TestSeedLogsOperatorActs(t *testing.T) {
	e := newLogsEnv(t)
	var rowsB []logRow
	e.call(e.op, "getWebhookLogs", map[string]any{"id": e.subB}).must(t).decode(t, &rowsB)
	if len(rowsB) == 0 || rowsB[0].Owner != e.ownerB {
		t.Fatalf("operator's logs of B's subscription = %+v, want rows naming %s", rowsB, e.ownerB)
	}
	before := e.rcvB.count()
	for _, c := range []struct {
		intent string
		fields map[string]any
	}{
		{"getWebhook", map[string]any{"id": e.subB}},
		{"testWebhook", map[string]any{"id": e.subB}},
		{"retryDelivery", map[string]any{"deliveryId": rowsB[0].DeliveryID}},
		{"replayEvent", map[string]any{"eventId": rowsB[0].EventID}},
		{"disableWebhook", map[string]any{"id": e.subB}},
		{"enableWebhook", map[string]any{"id": e.subB}},
	} {
		a := e.call(e.op, c.intent, c.fields)
		if a.HTTPStatus != 200 {
			t.Errorf("operator %s on B's subscription: %d %s", c.intent, a.HTTPStatus, a.Raw)
		}
		if strings.Contains(a.Raw, e.secretB) || strings.Contains(a.Raw, "b-receiver-credential") {
			t.Errorf("operator %s reveals B's secret: %s", c.intent, a.Raw)
		}
	}
	e.rcvB.waitFor(t, before+1, 30*time.Second)
	// A plain client can do none of it.
	if a := e.call(e.a, "testWebhook", map[string]any{"id": e.subB}); a.HTTPStatus != 404 {
		t.Errorf("A testing B's subscription answered %d, want 404", a.HTTPStatus)
	}
	if a := e.call(e.a, "enableWebhook", map[string]any{"id": e.subB}); a.HTTPStatus != 404 {
		t.Errorf("A enabling B's subscription answered %d, want 404", a.HTTPStatus)
	}
}
