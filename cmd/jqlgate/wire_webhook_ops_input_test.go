package main

import (
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

func TestOpsIsolation(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 500)
	sub := e.subscribe(rcv.URL, 0.05)
	ev := e.publish("cus_1")
	e.waitLogs(sub, "Failed", latestIs(jqlgate.StatusFailed, 2))
	tests := []struct {
		intent string
		fields map[string]any
		field  string
	}{
		{"getWebhookLogs", map[string]any{"id": sub}, "id"},
		{"getWebhookQueue", map[string]any{"id": sub}, "id"},
		{"retryDelivery", map[string]any{"deliveryId": dispatcher.DeliveryID(ev, sub)}, "deliveryId"},
		{"retryDelivery", map[string]any{"id": sub, "since": "2000-01-01T00:00:00Z"}, "id"},
		{"replayEvent", map[string]any{"eventId": ev}, "eventId"},
		{"testWebhook", map[string]any{"id": sub}, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.intent+"/"+tt.field, func(t *testing.T) {
			_, err := e.do(opsB, tt.intent, tt.fields)
			if got := jqlgate.AsError(err); err == nil || got.Code != jqlgate.ENOTFOUND || got.Field != tt.field {
				t.Fatalf("another client's %s: %v, want ENOTFOUND on %s", tt.intent, err, tt.field)
			}
		})
	}
	if n := rcv.count(); n != 2 {
		t.Errorf("receiver got %d requests, want only the 2 real attempts", n)
	}
}

func TestOpsBadInput(t *testing.T) {
	e := newOpsEnv(t)
	rcv := newOpsReceiver(t, 200)
	sub := e.subscribe(rcv.URL, 1)
	tests := []struct {
		name   string
		intent string
		fields map[string]any
		field  string
	}{
		{"logs id and owner", "getWebhookLogs", map[string]any{"id": sub, "owner": "*"}, "id"},
		{"logs bad entityId", "getWebhookLogs", map[string]any{"entityId": 7}, "entityId"},
		{"logs bad status", "getWebhookLogs", map[string]any{"id": sub, "status": "Lost"}, "status"},
		{"logs bad status in list", "getWebhookLogs", map[string]any{"id": sub, "status": []string{"Done", "nope"}}, "status"},
		{"logs bad since", "getWebhookLogs", map[string]any{"id": sub, "since": "yesterday"}, "since"},
		{"logs until not a string", "getWebhookLogs", map[string]any{"id": sub, "until": 5}, "until"},
		{"logs limit too big", "getWebhookLogs", map[string]any{"id": sub, "limit": 1001}, "limit"},
		{"logs unknown field", "getWebhookLogs", map[string]any{"id": sub, "colour": "red"}, "colour"},
		{"queue id and subscriptionId", "getWebhookQueue", map[string]any{"id": sub, "subscriptionId": sub}, "id"},
		{"queue bad status", "getWebhookQueue", map[string]any{"status": "Lost"}, "status"},
		{"queue bad offset", "getWebhookQueue", map[string]any{"id": sub, "offset": -1}, "offset"},
		{"retry nothing", "retryDelivery", map[string]any{}, "id"},
		{"retry id without since", "retryDelivery", map[string]any{"id": sub}, "since"},
		{"retry bad since", "retryDelivery", map[string]any{"id": sub, "since": "2024-13-01"}, "since"},
		{"retry empty delivery", "retryDelivery", map[string]any{"deliveryId": ""}, "deliveryId"},
		{"retry both", "retryDelivery", map[string]any{"deliveryId": "msg_x", "id": sub}, "id"},
		{"replay without event", "replayEvent", map[string]any{}, "eventId"},
		{"test without id", "testWebhook", map[string]any{}, "id"},
		{"test unknown trigger", "testWebhook", map[string]any{"id": sub, "trigger": "profile.Customer:explode"}, "trigger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.do(opsA, tt.intent, tt.fields)
			if got := jqlgate.AsError(err); err == nil || got.Code != jqlgate.EINVALID || got.Field != tt.field {
				t.Fatalf("%s %v: %v, want EINVALID on %s", tt.intent, tt.fields, err, tt.field)
			}
		})
	}
	missing := []struct {
		intent string
		fields map[string]any
		field  string
	}{
		{"retryDelivery", map[string]any{"deliveryId": "msg_unknown"}, "deliveryId"},
		{"replayEvent", map[string]any{"eventId": "evt_unknown"}, "eventId"},
		{"getWebhookLogs", map[string]any{"id": "sub_unknown"}, "id"},
	}
	for _, tt := range missing {
		_, err := e.do(opsA, tt.intent, tt.fields)
		if got := jqlgate.AsError(err); err == nil || got.Code != jqlgate.ENOTFOUND || got.Field != tt.field {
			t.Errorf("%s %v: %v, want ENOTFOUND on %s", tt.intent, tt.fields, err, tt.field)
		}
	}
	e.ok("disableWebhook", map[string]any{"id": sub})
	_, err := e.do(opsA, "retryDelivery", map[string]any{"id": sub, "since": "2000-01-01T00:00:00Z"})
	if got := jqlgate.AsError(err); err == nil || got.Code != jqlgate.ECONFLICT {
		t.Errorf("retry on a disabled subscription: %v, want ECONFLICT", err)
	}
}
