package webhook

import "github.com/jqlgate/jqlgate/namespaces"

var pageFields = []namespaces.FieldSpec{
	namespaces.Field("limit", "integer", false, "entries per page, 1 to 1000 (default 100; __meta__.limit works too)"),
	namespaces.Field("offset", "integer", false, "entries to skip (__meta__.offset works too)"),
}

// opsSpecs describe the operator intents for system.Schema.
var opsSpecs = map[string]namespaces.IntentSpec{
	"getWebhookLogs": {Summary: "Lists delivery attempts, newest first (deliveries still waiting for their first attempt come first, as Queued): " +
		"one subscription's (id), or without id every subscription of yours (an operator, holding system.Webhook:operate, may name owner). " +
		"Each row has the request as sent (credentials redacted), the response as received (bodies capped at 16 KiB), responseCode, duration, error, attempt, retries, " +
		"next attempt time, entityId and entityUrl (the record, when you may read it), subscriptionId, webhookUrl, trustedSiteName, and owner in operator views.",
		Fields: append([]namespaces.FieldSpec{
			namespaces.Field("id", "string", false, "one subscription's log; without it, account-wide"),
			namespaces.Field("subscriptionId", "string", false, "account-wide: only this subscription"),
			namespaces.Field("owner", "string", false, "operators only: another owner's key, or * for every owner"),
			namespaces.Field("entityId", "string", false, "only events about this record (the customer)"),
			namespaces.Field("status", "string or list", false, "only these statuses: Queued, Resent, Failed, Done"),
			namespaces.Field("event", "string", false, "only this event type, such as profile.Customer:create"),
			namespaces.Field("eventId", "string", false, "only this event"),
			namespaces.Field("deliveryId", "string", false, "only this delivery (its webhook-id, msg_…)"),
			namespaces.Field("since", "string", false, "only attempts at or after this RFC 3339 time"),
			namespaces.Field("until", "string", false, "only attempts before this RFC 3339 time"),
		}, pageFields...)},
	"getWebhookQueue": {Summary: "Lists unfinished deliveries (Queued or Resent), newest event first, with the attempts and retries made so far, the last responseCode and when the next falls due: " +
		"one subscription's (id), or without id every subscription of yours (operators may name owner); rows carry entityId, entityUrl, webhookUrl, trustedSiteName and, for operators, owner.",
		Fields: append([]namespaces.FieldSpec{
			namespaces.Field("id", "string", false, "one subscription's queue; without it, account-wide"),
			namespaces.Field("subscriptionId", "string", false, "account-wide: only this subscription"),
			namespaces.Field("owner", "string", false, "operators only: another owner's key, or * for every owner"),
			namespaces.Field("status", "string or list", false, "only these statuses: Queued, Resent"),
			namespaces.Field("event", "string", false, "only this event type"),
			namespaces.Field("entityId", "string", false, "only events about this record"),
			namespaces.Field("since", "string", false, "only events accepted at or after this RFC 3339 time"),
			namespaces.Field("until", "string", false, "only events accepted before this RFC 3339 time"),
		}, pageFields...)},
	"retryDelivery": {Summary: "Sends a delivery again now, as its next attempt under the same webhook-id: one by deliveryId, " +
		"or every delivery of subscription id that ended Failed since a time. Returns how many were queued.",
		Fields: []namespaces.FieldSpec{
			namespaces.Field("deliveryId", "string", false, "the delivery's webhook-id (msg_…), as getWebhookLogs shows it"),
			namespaces.Field("id", "string", false, "a subscription id, with since"),
			namespaces.Field("since", "string", false, "with id: retry deliveries that ended Failed at or after this RFC 3339 time"),
		}},
	"replayEvent": {Summary: "Sends a stored event again now to each of your enabled subscriptions it went to, as the next attempt of the same delivery (same webhook-id).",
		Fields: []namespaces.FieldSpec{namespaces.Field("eventId", "string", true, "the event's id (the payload's id)"),
			namespaces.Field("id", "string", false, "only to this subscription (operators: any owner's; without id they replay to every owner's)")}},
	"testWebhook": {Summary: "Sends an example event, signed like a real delivery and marked with X-Webhook-Test: true, to a subscription now, " +
		"and returns the receiver's answer (statusCode, headers, body, durationMs, error). The attempt is logged, marked test.",
		Fields: []namespaces.FieldSpec{idField,
			namespaces.Field("trigger", "string", false, "the event to send (default: the subscription's trigger, or the first event it matches)")}},
}
