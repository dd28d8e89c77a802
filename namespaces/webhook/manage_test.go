package webhook_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jqlgate/jqlgate"
)

func TestUpdateWebhook(t *testing.T) {
	h := newHarness(t, loopback)
	sub := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/h",
		`"basicAuth":{"username":"u","password":"kept-password"},"headers":{"X-Tenant":"t1"},"retryPolicy":{"preset":"antavo"}`))
	id := sub["id"].(string)
	got := h.ok(clientA, "updateWebhook", `{"id":"`+id+`","timeoutSeconds":30,"headers":{"x-tenant":"t2"},"basicAuth":{"username":"u2"},"retryPolicy":{"schedule":[0.5,1,60]}}`)
	if got["timeoutSeconds"] != 30.0 || got["prefix"] != "App" || got["webhookUrl"] != "http://public.example.test/h" {
		t.Errorf("update changed or lost fields: %v", got)
	}
	if fmt.Sprint(got["headers"]) != "map[X-Tenant:t2]" || fmt.Sprint(got["retryPolicy"]) != "map[schedule:[0.5 1 60]]" {
		t.Errorf("headers %v, retryPolicy %v", got["headers"], got["retryPolicy"])
	}
	if h.notified.count(id) != 2 {
		t.Errorf("dispatcher told %d times, want 2", h.notified.count(id))
	}
	bad := []struct{ body, field string }{
		{`{"id":"` + id + `","webhookUrl":"http://internal.example.test/","basicAuth":{"username":"u2","password":"p2"}}`, "webhookUrl"},
		{`{"id":"` + id + `","trigger":"nope:x"}`, "trigger"},
		{`{"id":"` + id + `","prefix":""}`, "prefix"},
		{`{"id":"` + id + `","headers":{"Authorization":"x"}}`, "headers.Authorization"},
		{`{"id":"` + id + `","retryPolicy":{"schedule":[5,-1]}}`, "retryPolicy.schedule[1]"},
		{`{"prefix":"x"}`, "id"},
	}
	for _, b := range bad {
		if e := h.fails(clientA, "updateWebhook", b.body, jqlgate.EINVALID); e.Field != b.field {
			t.Errorf("update %s: error field %q (%s), want %s", b.body, e.Field, e.Message, b.field)
		}
	}
	h.fails(webhookOnly, "updateWebhook", `{"id":"`+id+`"}`, jqlgate.ENOTFOUND)

	other := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/other", ""))
	h.fails(clientA, "updateWebhook", `{"id":"`+other["id"].(string)+`","webhookUrl":"http://public.example.test/h"}`, jqlgate.ECONFLICT)
}

func TestEnableDisable(t *testing.T) {
	h := newHarness(t, loopback)
	id := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/h", ""))["id"].(string)
	if got := h.ok(clientA, "disableWebhook", `{"id":"`+id+`"}`); got["enabled"] != false || got["disabledReason"] == nil {
		t.Errorf("disable = %v", got)
	}
	res, _ := h.do(clientA, "listWebhooks", `{"enabled":true}`)
	if res.Filtered != 0 {
		t.Errorf("enabled list after disable: %d, want 0", res.Filtered)
	}
	if got := h.ok(clientA, "enableWebhook", `{"id":"`+id+`"}`); got["enabled"] != true || got["disabledReason"] != nil {
		t.Errorf("enable = %v", got)
	}
	if h.notified.count(id) != 3 {
		t.Errorf("dispatcher told %d times, want 3", h.notified.count(id))
	}
}

func TestRotateWebhookSecret(t *testing.T) {
	h := newHarness(t, loopback)
	sub := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/h", ""))
	id, first := sub["id"].(string), sub["secret"].(string)
	rot := h.ok(clientA, "rotateWebhookSecret", `{"id":"`+id+`"}`)
	if rot["secret"] == first || rot["previousExpiresAt"] == nil {
		t.Fatalf("rotate = %v, want a new secret and the old one's expiry", rot)
	}
	got := h.ok(clientA, "getWebhookSecret", `{"id":"`+id+`"}`)
	secrets, _ := got["secrets"].([]any)
	if got["secret"] != rot["secret"] || len(secrets) != 2 || secrets[1].(map[string]any)["secret"] != first {
		t.Errorf("getWebhookSecret after rotate = %v, want new then old", got)
	}
	h.ok(clientA, "rotateWebhookSecret", `{"id":"`+id+`","expiresInSeconds":0}`)
	got = h.ok(clientA, "getWebhookSecret", `{"id":"`+id+`"}`)
	if secrets, _ := got["secrets"].([]any); len(secrets) != 2 {
		t.Errorf("after an immediate rotation %d secrets sign, want 2 (new, and the first still in its 24 h)", len(secrets))
	}
	for _, body := range []string{`{"id":"` + id + `","expiresInSeconds":604801}`, `{"id":"` + id + `","expiresInSeconds":-1}`, `{"id":"` + id + `","expiresInSeconds":"1"}`} {
		if e := h.fails(clientA, "rotateWebhookSecret", body, jqlgate.EINVALID); e.Field != "expiresInSeconds" {
			t.Errorf("rotate %s: field %q, want expiresInSeconds", body, e.Field)
		}
	}
}

func TestListWebhooksPaging(t *testing.T) {
	h := newHarness(t, loopback)
	for i := range 5 {
		h.ok(clientA, "subscribeToWebhook", subscribeWith(fmt.Sprintf("http://public.example.test/%d", i), ""))
	}
	h.ok(clientA, "subscribeToWebhook", `{"prefix":"Other","trigger":"profile.Customer:update","webhookUrl":"http://public.example.test/x"}`)
	tests := []struct {
		body              string
		filtered, display int
	}{
		{`{}`, 6, 6},
		{`{"__meta__":{"limit":2,"offset":4}}`, 6, 2},
		{`{"__meta__":{"filter":{"prefix":"App"},"limit":3}}`, 5, 3},
		{`{"trigger":"profile.Customer:update"}`, 1, 1},
		{`{"enabled":false}`, 0, 0},
	}
	for _, tt := range tests {
		res, err := h.do(clientA, "listWebhooks", tt.body)
		if err != nil || res.Filtered != tt.filtered || res.Display != tt.display {
			t.Errorf("list %s = %d/%d (err %v), want %d/%d", tt.body, res.Display, res.Filtered, err, tt.display, tt.filtered)
		}
	}
	for _, body := range []string{`{"__meta__":{"limit":501}}`, `{"__meta__":{"filter":{"url":"x"}}}`, `{"enabled":"yes"}`} {
		h.fails(clientA, "listWebhooks", body, jqlgate.EINVALID)
	}
}

func TestListEvents(t *testing.T) {
	h := newHarness(t, loopback)
	res, err := h.do(webhookOnly, "listEvents", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var events []jqlgate.EventType
	if err := json.Unmarshal(mustJSON(t, res.Data), &events); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range events {
		names[e.Name] = true
		if e.Example == nil {
			t.Errorf("event %s has no example", e.Name)
		}
	}
	for _, want := range []string{"profile.Customer:create", "fleet.Vehicle:create", "system.Webhook:disabled", "system.Webhook:enabled"} {
		if !names[want] {
			t.Errorf("catalogue lacks %s", want)
		}
	}
	if res.Filtered != len(events) {
		t.Errorf("filtered = %d, want %d", res.Filtered, len(events))
	}
}

func TestUpdateRechecksReadPermission(t *testing.T) {
	h := newHarness(t, loopback)
	id := h.ok(admin, "subscribeToWebhook", subscribeWith("http://public.example.test/h", ""))["id"].(string)
	h.ok(admin, "updateWebhook", `{"id":"`+id+`","trigger":"fleet.Vehicle:create"}`)
	a := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/h", ""))["id"].(string)
	h.fails(clientA, "updateWebhook", `{"id":"`+a+`","trigger":"fleet.Vehicle:create"}`, jqlgate.EFORBIDDEN)
	h.fails(clientA, "updateWebhook", `{"id":"`+a+`","trigger":"*"}`, jqlgate.EFORBIDDEN)
}

// A stored credential never follows a changed destination unless it is
// given again, and the placeholder that answers show is never stored as a
// value.
func TestUpdateWebhookCredentialsStayWithTheirDestination(t *testing.T) {
	h := newHarness(t, loopback)
	sub := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/h",
		`"basicAuth":{"username":"u","password":"pw-1"},"headers":{"X-Priv":"sealed-1","X-Plain":"p"},"secretHeaders":["X-Priv"]`))
	id := sub["id"].(string)
	bad := []struct{ body, field string }{
		// Another host: the password and the secret header must come again.
		{`{"id":"` + id + `","webhookUrl":"http://other.example.test/h","headers":{"X-Priv":"sealed-2","X-Plain":"p"}}`, "basicAuth.password"},
		{`{"id":"` + id + `","webhookUrl":"http://other.example.test/h","basicAuth":{"username":"u","password":"pw-2"}}`, "headers.X-Priv"},
		{`{"id":"` + id + `","webhookUrl":"https://public.example.test/h","basicAuth":{"username":"u","password":"pw-2"},"headers":{"X-Priv":"[redacted]","X-Plain":"p"}}`, "headers.X-Priv"},
		// Unmarking a secret header sent as the placeholder would show it.
		{`{"id":"` + id + `","headers":{"X-Priv":"[redacted]","X-Plain":"p"},"secretHeaders":[]}`, "headers.X-Priv"},
		// The placeholder for a header that has no stored value.
		{`{"id":"` + id + `","headers":{"X-New":"[redacted]"}}`, "headers.X-New"},
	}
	for _, b := range bad {
		if e := h.fails(clientA, "updateWebhook", b.body, jqlgate.EINVALID); e.Field != b.field {
			t.Errorf("update %s: error field %q (%s), want %s", b.body, e.Field, e.Message, b.field)
		}
	}
	// The same host on another path keeps them; so does sending them again.
	h.ok(clientA, "updateWebhook", `{"id":"`+id+`","webhookUrl":"http://public.example.test/other"}`)
	h.ok(clientA, "updateWebhook", `{"id":"`+id+`","webhookUrl":"http://other.example.test/h","basicAuth":{"username":"u","password":"pw-2"},"headers":{"X-Priv":"sealed-2","X-Plain":"p"}}`)

	oauth := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/o",
		`"oauth2":{"tokenUrl":"http://public.example.test/token","clientId":"c","clientSecret":"cs-1"}`))
	oid := oauth["id"].(string)
	if e := h.fails(clientA, "updateWebhook", `{"id":"`+oid+`","oauth2":{"tokenUrl":"http://other.example.test/token","clientId":"c"}}`, jqlgate.EINVALID); e.Field != "oauth2.clientSecret" {
		t.Errorf("a new tokenUrl without the client secret: error field %q (%s), want oauth2.clientSecret", e.Field, e.Message)
	}
	h.ok(clientA, "updateWebhook", `{"id":"`+oid+`","oauth2":{"tokenUrl":"http://other.example.test/token","clientId":"c","clientSecret":"cs-2"}}`)
}
