package system

import "github.com/jqlgate/jqlgate/namespaces"

// field is a short constructor for FieldSpec.
func field(name, typ string, required bool, desc string) namespaces.FieldSpec {
	return namespaces.FieldSpec{Name: name, Type: typ, Required: required, Description: desc}
}

var idField = field("id", "string", true, "the subscription id")

// optionFields are the options subscribeToWebhook and updateWebhook take.
var optionFields = []namespaces.FieldSpec{
	field("method", "string", false, "POST (default) or GET"),
	field("contentType", "string", false, "application/json (default) or application/x-www-form-urlencoded"),
	field("includeEntity", "boolean", false, "send the record in data (default true)"),
	field("enabled", "boolean", false, "deliver events (default true)"),
	field("headers", "object", false, "custom request headers, name to value (at most 50, values up to 4 KiB); values are sealed at rest, "+
		"and secret ones (Authorization, Cookie, X-Api-Key, names containing auth, key, token, secret, cookie, password or session, and those in secretHeaders) "+
		"are answered as [redacted]; give [redacted] back on update to keep the stored value"),
	field("secretHeaders", "list", false, "names of further custom headers whose values are secret (redacted in answers and logs)"),
	field("basicAuth", "object", false, "{username, password} for HTTP basic authentication towards the receiver"),
	field("oauth2", "object", false, "{tokenUrl, clientId, clientSecret, scopes, audience}: fetch a client-credentials token for the receiver"),
	field("trustedSite", "string", false, "id of your trusted site whose credentials authenticate the requests, instead of basicAuth or oauth2; webhookUrl must lie under its baseUrl"),
	field("metadata", "object", false, "free-form data kept with the subscription"),
	field("retryPolicy", "object", false, `{"schedule": [seconds before each retry]} or {"preset": "default" | "antavo"}`),
	field("timeoutSeconds", "integer", false, "request timeout, 1 to 30 (default 10)"),
	field("maxInFlight", "integer", false, "concurrent requests to the receiver, 1 to 50 (default 8)"),
	field("rateLimitPerSecond", "number", false, "most requests per second, 0.01 to 10000 (0 or absent: no limit)"),
	field("filter", "object", false, "deliver only events whose data matches, in __meta__.filter syntax"),
	field("ordered", "boolean", false, "deliver one event at a time, in order"),
	field("signatureScheme", "string", false, "v1 (default: HMAC-SHA256 with a whsec_ secret) or v1a (Ed25519: receivers verify with the whpk_ public key); updateWebhook can't change it, rotateWebhookSecret can"),
	field("bodySignature", "object", false, `{"header": "X-Webhook-Signature", "algorithm": "sha256" | "sha1"} (or true for these defaults): also send <algorithm>=<hex HMAC of the body> keyed with the secret, for receivers that check a plain body HMAC; v1 only`),
}

var subscribeFields = append([]namespaces.FieldSpec{
	field("prefix", "string", true, "a name for the subscription, such as your application's"),
	field("trigger", "string", false, "the event to receive: app.Model:action, app.Model:* or * (every event); see listEvents. Give trigger or triggers, not both"),
	field("triggers", "list", false, "instead of trigger: 1 to 50 distinct triggers, each like trigger; an event matching several is delivered once, "+
		"its X-Webhook-Trigger header and log row naming the most specific one"),
	field("webhookUrl", "string", true, "the http(s) URL events are sent to; a host that does not resolve yet is accepted with a warning (deliveries fail until it does)"),
	field("secret", "string", false, "your own signing secret: whsec_ and base64 of 24 to 64 random bytes (a whsk_ Ed25519 key with signatureScheme v1a); generated when absent"),
}, optionFields...)

var updateFields = append([]namespaces.FieldSpec{
	idField,
	field("prefix", "string", false, "a name for the subscription"),
	field("trigger", "string", false, "app.Model:action, app.Model:* or *: replaces the triggers with this one"),
	field("triggers", "list", false, "1 to 50 distinct triggers, replacing the current ones"),
	field("webhookUrl", "string", false, "the http(s) URL events are sent to"),
}, optionFields...)

// webhookSpecs describe each system.Webhook intent for system.Schema.
var webhookSpecs = map[string]namespaces.IntentSpec{
	"subscribeToWebhook": {Summary: "Subscribes a URL to a trigger, or to a list of triggers; returns the subscription (trigger is the first of triggers), its signing secret and any warnings. Subscribing again with the same prefix, trigger(s) (in any order) and URL returns the existing subscription.", Fields: subscribeFields},
	"unsubscribeFromWebhook": {Summary: "Removes a subscription, named by prefix, trigger (or triggers) and webhookUrl, or by id.", Fields: []namespaces.FieldSpec{
		field("prefix", "string", false, "with trigger and webhookUrl"), field("trigger", "string", false, "with prefix and webhookUrl"),
		field("triggers", "list", false, "instead of trigger, for a subscription made with triggers (any order)"),
		field("webhookUrl", "string", false, "with prefix and trigger"), field("id", "string", false, "instead of the three others"),
	}},
	"listWebhooks": {Summary: "Lists your subscriptions, paged by __meta__.limit and offset.", Fields: []namespaces.FieldSpec{
		field("prefix", "string", false, "only this prefix"), field("trigger", "string", false, "only subscriptions with this trigger among their triggers"),
		field("enabled", "boolean", false, "only enabled, or only disabled, subscriptions"),
		field("owner", "string", false, "operators (system.Webhook:operate or *) only: this owner's subscriptions (client:<id>, apiKey:<id>, user:<id>), or * for every owner's; each row names its owner"),
	}},
	"getWebhook":       {Summary: "Returns one of your subscriptions, without secrets.", Fields: []namespaces.FieldSpec{idField}},
	"updateWebhook":    {Summary: "Changes any field of one of your subscriptions.", Fields: updateFields},
	"enableWebhook":    {Summary: "Switches a subscription on; deliveries held while it was off are queued again, the overdue ones at once.", Fields: []namespaces.FieldSpec{idField}},
	"disableWebhook":   {Summary: "Switches a subscription off: it gets no new events, and its pending deliveries are held until it is enabled again; an operator may switch off any owner's.", Fields: []namespaces.FieldSpec{idField}},
	"getWebhookSecret": {Summary: "Returns a subscription's signing secret, and any older one still signing during a rotation.", Fields: []namespaces.FieldSpec{idField}},
	"rotateWebhookSecret": {Summary: "Makes a new signing secret; the old one keeps signing beside it for expiresInSeconds.", Fields: []namespaces.FieldSpec{
		idField, field("expiresInSeconds", "integer", false, "how long the old secret keeps signing, 0 to 604800 (default 86400)"),
		field("secret", "string", false, "your own new secret, as for subscribeToWebhook; generated when absent"),
		field("signatureScheme", "string", false, "switch to v1 or v1a: the new key is of that kind, and the old one keeps signing for the grace period"),
	}},
	"listEvents": {Summary: "Lists the events a subscription can be triggered by, each with an example payload."},
}
