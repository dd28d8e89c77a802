package webhook

import "github.com/jqlgate/jqlgate/namespaces"

var idField = namespaces.Field("id", "string", true, "the subscription id")

// optionFields are the options subscribeToWebhook and updateWebhook take.
var optionFields = []namespaces.FieldSpec{
	namespaces.Field("method", "string", false, "POST (default) or GET"),
	namespaces.Field("contentType", "string", false, "application/json (default) or application/x-www-form-urlencoded"),
	namespaces.Field("includeEntity", "boolean", false, "send the record in data (default true)"),
	namespaces.Field("enabled", "boolean", false, "deliver events (default true)"),
	namespaces.Field("headers", "object", false, "custom request headers, name to value (at most 50, values up to 4 KiB); values are sealed at rest, "+
		"and secret ones (Authorization, Cookie, X-Api-Key, names containing auth, key, token, secret, cookie, password or session, and those in secretHeaders) "+
		"are answered as [redacted]; give [redacted] back on update to keep the stored value"),
	namespaces.Field("secretHeaders", "list", false, "names of further custom headers whose values are secret (redacted in answers and logs)"),
	namespaces.Field("basicAuth", "object", false, "{username, password} for HTTP basic authentication towards the receiver"),
	namespaces.Field("oauth2", "object", false, "{tokenUrl, clientId, clientSecret, scopes, audience}: fetch a client-credentials token for the receiver"),
	namespaces.Field("trustedSite", "string", false, "id of your trusted site whose credentials authenticate the requests, instead of basicAuth or oauth2; webhookUrl must lie under its baseUrl"),
	namespaces.Field("metadata", "object", false, "free-form data kept with the subscription"),
	namespaces.Field("retryPolicy", "object", false, `{"schedule": [seconds before each retry]} or {"preset": "default" | "antavo"}`),
	namespaces.Field("timeoutSeconds", "integer", false, "request timeout, 1 to 30 (default 10)"),
	namespaces.Field("maxInFlight", "integer", false, "concurrent requests to the receiver, 1 to 50 (default 8)"),
	namespaces.Field("rateLimitPerSecond", "number", false, "most requests per second, 0.01 to 10000 (0 or absent: no limit)"),
	namespaces.Field("filter", "object", false, "deliver only events whose data matches, in __meta__.filter syntax"),
	namespaces.Field("ordered", "boolean", false, "deliver one event at a time, in order"),
	namespaces.Field("signatureScheme", "string", false, "v1 (default: HMAC-SHA256 with a whsec_ secret) or v1a (Ed25519: receivers verify with the whpk_ public key); updateWebhook can't change it, rotateWebhookSecret can"),
	namespaces.Field("bodySignature", "object", false, `{"header": "X-Webhook-Signature", "algorithm": "sha256" | "sha1"} (or true for these defaults): also send <algorithm>=<hex HMAC of the body> keyed with the secret, for receivers that check a plain body HMAC; v1 only`),
}

var subscribeFields = append([]namespaces.FieldSpec{
	namespaces.Field("prefix", "string", true, "a name for the subscription, such as your application's"),
	namespaces.Field("trigger", "string", false, "the event to receive: app.Model:action, app.Model:* or * (every event); see listEvents. Give trigger or triggers, not both"),
	namespaces.Field("triggers", "list", false, "instead of trigger: 1 to 50 distinct triggers, each like trigger; an event matching several is delivered once, "+
		"its X-Webhook-Trigger header and log row naming the most specific one"),
	namespaces.Field("webhookUrl", "string", true, "the http(s) URL events are sent to; a host that does not resolve yet is accepted with a warning (deliveries fail until it does)"),
	namespaces.Field("secret", "string", false, "your own signing secret: whsec_ and base64 of 24 to 64 random bytes (a whsk_ Ed25519 key with signatureScheme v1a); generated when absent"),
}, optionFields...)

var updateFields = append([]namespaces.FieldSpec{
	idField,
	namespaces.Field("prefix", "string", false, "a name for the subscription"),
	namespaces.Field("trigger", "string", false, "app.Model:action, app.Model:* or *: replaces the triggers with this one"),
	namespaces.Field("triggers", "list", false, "1 to 50 distinct triggers, replacing the current ones"),
	namespaces.Field("webhookUrl", "string", false, "the http(s) URL events are sent to"),
}, optionFields...)

// webhookSpecs describe each system.Webhook intent for system.Schema.
var webhookSpecs = map[string]namespaces.IntentSpec{
	"subscribeToWebhook": {Summary: "Subscribes a URL to a trigger, or to a list of triggers; returns the subscription (trigger is the first of triggers), its signing secret and any warnings. Subscribing again with the same prefix, trigger(s) (in any order) and URL returns the existing subscription.", Fields: subscribeFields},
	"unsubscribeFromWebhook": {Summary: "Removes a subscription, named by prefix, trigger (or triggers) and webhookUrl, or by id.", Fields: []namespaces.FieldSpec{
		namespaces.Field("prefix", "string", false, "with trigger and webhookUrl"), namespaces.Field("trigger", "string", false, "with prefix and webhookUrl"),
		namespaces.Field("triggers", "list", false, "instead of trigger, for a subscription made with triggers (any order)"),
		namespaces.Field("webhookUrl", "string", false, "with prefix and trigger"), namespaces.Field("id", "string", false, "instead of the three others"),
	}},
	"listWebhooks": {Summary: "Lists your subscriptions, paged by __meta__.limit and offset.", Fields: []namespaces.FieldSpec{
		namespaces.Field("prefix", "string", false, "only this prefix"), namespaces.Field("trigger", "string", false, "only subscriptions with this trigger among their triggers"),
		namespaces.Field("enabled", "boolean", false, "only enabled, or only disabled, subscriptions"),
		namespaces.Field("owner", "string", false, "operators (system.Webhook:operate or *) only: this owner's subscriptions (client:<id>, apiKey:<id>, user:<id>), or * for every owner's; each row names its owner"),
		namespaces.Field("health", "boolean", false, "true adds each row's health: last success, last failure and why, failures in a row, and the outcomes of its latest 100 attempts"),
	}},
	"getWebhook":       {Summary: "Returns one of your subscriptions, without secrets.", Fields: []namespaces.FieldSpec{idField}},
	"updateWebhook":    {Summary: "Changes any field of one of your subscriptions.", Fields: updateFields},
	"enableWebhook":    {Summary: "Switches a subscription on; deliveries held while it was off are queued again, the overdue ones at once.", Fields: []namespaces.FieldSpec{idField}},
	"disableWebhook":   {Summary: "Switches a subscription off: it gets no new events, and its pending deliveries are held until it is enabled again; an operator may switch off any owner's.", Fields: []namespaces.FieldSpec{idField}},
	"getWebhookSecret": {Summary: "Returns a subscription's signing secret, and any older one still signing during a rotation.", Fields: []namespaces.FieldSpec{idField}},
	"rotateWebhookSecret": {Summary: "Makes a new signing secret; the old one keeps signing beside it for expiresInSeconds.", Fields: []namespaces.FieldSpec{
		idField, namespaces.Field("expiresInSeconds", "integer", false, "how long the old secret keeps signing, 0 to 604800 (default 86400)"),
		namespaces.Field("secret", "string", false, "your own new secret, as for subscribeToWebhook; generated when absent"),
		namespaces.Field("signatureScheme", "string", false, "switch to v1 or v1a: the new key is of that kind, and the old one keeps signing for the grace period"),
	}},
	"listEvents": {Summary: "Lists the events a subscription can be triggered by, each with an example payload."},
}
