package test

import (
	"strings"
	"testing"
)

// An operator sees and acts on every owner's subscriptions, but never
// reads or changes another owner's signing secret or options: those
// intents answer 403, and nothing it gets carries the secret or a custom
// header's value.
func TestSecuritySeedLogsOperatorNeverGetsSecrets(t *testing.T) {
	e := newLogsEnv(t)
	for _, c := range []struct {
		intent string
		fields map[string]any
	}{
		{"getWebhookSecret", map[string]any{"id": e.subB}},
		{"rotateWebhookSecret", map[string]any{"id": e.subB}},
		{"updateWebhook", map[string]any{"id": e.subB, "webhookUrl": e.srvA.URL}},
	} {
		a := e.call(e.op, c.intent, c.fields)
		if a.HTTPStatus != 403 || strings.Contains(a.Raw, e.secretB) {
			t.Errorf("operator %s on B's subscription answered %d %s, want 403 without the secret", c.intent, a.HTTPStatus, a.Raw)
		}
	}
	for _, a := range []answer{
		e.call(e.op, "getWebhook", map[string]any{"id": e.subB}),
		e.call(e.op, "listWebhooks", map[string]any{"owner": "*"}),
		e.call(e.op, "getWebhookLogs", map[string]any{"owner": "*"}),
		e.call(e.op, "getWebhookQueue", map[string]any{"owner": "*"}),
	} {
		a.must(t)
		if strings.Contains(a.Raw, e.secretB) || strings.Contains(a.Raw, "whsec_") || strings.Contains(a.Raw, "b-receiver-credential") {
			t.Errorf("operator view reveals B's secret or header: %s", a.Raw)
		}
	}
	// The secret still works for its owner, and was not rotated.
	var s struct{ Secret string }
	e.call(e.b, "getWebhookSecret", map[string]any{"id": e.subB}).must(t).decode(t, &s)
	if s.Secret != e.secretB {
		t.Errorf("B's secret changed after the operator's attempts")
	}
}

// A plain client's account-wide logs and queue are its own: another
// owner's rows, subscription or owner key are out of its reach.
func TestSecuritySeedLogsClientSeesOnlyItsOwn(t *testing.T) {
	e := newLogsEnv(t)
	for _, intent := range []string{"getWebhookLogs", "getWebhookQueue"} {
		a := e.call(e.a, intent, nil).must(t)
		if strings.Contains(a.Raw, e.subB) || strings.Contains(a.Raw, e.ownerB) {
			t.Errorf("A's %s shows B's subscription: %s", intent, a.Raw)
		}
		if a := e.call(e.a, intent, map[string]any{"owner": e.ownerB}); a.HTTPStatus != 403 {
			t.Errorf("A's %s of owner B answered %d, want 403", intent, a.HTTPStatus)
		}
		if a := e.call(e.a, intent, map[string]any{"id": e.subB}); a.HTTPStatus != 404 {
			t.Errorf("A's %s of B's subscription answered %d, want 404", intent, a.HTTPStatus)
		}
	}
}
