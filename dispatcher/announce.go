package dispatcher

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// System events about subscriptions, as the system.Webhook catalogue lists
// them.
const (
	EventWebhookDisabled = "system.Webhook:disabled"
	EventWebhookEnabled  = "system.Webhook:enabled"
)

// announce publishes sub's change of enabled state to the subscriptions of
// the same owner that subscribed to it (events of system.Webhook describe
// the owner's own subscriptions, so no other owner receives them). A
// failure is logged: the change itself is already durable.
func (d *Dispatcher) announce(ctx context.Context, sub *jqlgate.Subscription) {
	typ := EventWebhookDisabled
	if sub.Enabled {
		typ = EventWebhookEnabled
	}
	ev := &jqlgate.Event{Type: typ, EntityID: sub.ID, Data: subscriptionData(sub)}
	if err := d.publish(context.WithoutCancel(ctx), &sub.Owner, []*jqlgate.Event{ev}); err != nil {
		d.log.Warn("publish subscription change", "subscription", sub.ID, "event", typ, "error", err.Error())
	}
}

// subscriptionData is sub as the API shows it in these events, without
// secrets or credentials.
func subscriptionData(sub *jqlgate.Subscription) map[string]any {
	data := map[string]any{"id": sub.ID, "prefix": sub.Prefix, "trigger": sub.Trigger,
		"triggers": sub.TriggerList(), "webhookUrl": sub.WebhookURL, "enabled": sub.Enabled}
	if sub.DisabledReason != "" {
		data["disabledReason"] = sub.DisabledReason
	}
	return data
}
