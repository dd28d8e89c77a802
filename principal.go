package jqlgate

import (
	"net/url"
	"slices"
	"strings"
)

// Principal kinds.
const (
	PrincipalClient = "client" // an OAuth2 client (built-in or external issuer)
	PrincipalAPIKey = "apiKey" // an API key
	PrincipalUser   = "user"   // a system.User logged in with a jwt
)

// Principal is the authenticated caller of a request.
type Principal struct {
	// ID is the client id, API key id or user id.
	ID   string
	Kind string
	Name string
	// Issuer is the external authorization server that vouched for the
	// principal (its iss); empty for jqlgate's own clients, API keys and
	// users.
	Issuer string
	// Permissions are Antly permission strings: "app.Model:intent",
	// "app.Model:*" or "*".
	Permissions []string
}

// PermPrivateTargets lets a principal point webhooks at, and test,
// receivers that are reachable only because the address policy's Allow list
// (--webhook-allow-cidrs) lets them be: loopback, private and other special
// addresses. Unlike other permissions, "system.Webhook:*" does not grant it;
// only itself and "*" do.
const PermPrivateTargets = "system.Webhook:privateTargets"

// PermOperate makes a principal a webhook operator: it sees and acts on
// every owner's subscriptions, logs and queue, never their secrets. Every
// subscriber holds "system.Webhook:*", so that does not grant it either.
const PermOperate = "system.Webhook:operate"

// explicitOnly reports whether namespace:intent is a permission that an
// "app.Model:*" wildcard does not grant.
func explicitOnly(namespace, intent string) bool {
	perm := namespace + ":" + intent
	return perm == PermPrivateTargets || perm == PermOperate
}

// ExplicitOnly reports whether perm is granted only by itself and "*", not
// by its namespace's wildcard.
func ExplicitOnly(perm string) bool {
	ns, in, _ := strings.Cut(perm, ":")
	return explicitOnly(ns, in)
}

// Owner is the key that data created by this principal is stored under:
// "client:<id>", "apiKey:<id>" or "user:<id>" for jqlgate's own
// principals, "ext:<issuer>:<sub>" (the issuer query-escaped, so it holds
// no ":") for one an external issuer vouched for. Two principals of
// different kinds or from different issuers never share an owner.
func (p *Principal) Owner() string {
	if p.Issuer != "" {
		return "ext:" + url.QueryEscape(p.Issuer) + ":" + p.ID
	}
	return p.Kind + ":" + p.ID
}

// Can reports whether p may run intent on namespace.
func (p *Principal) Can(namespace, intent string) bool {
	if p == nil {
		return false
	}
	for _, perm := range p.Permissions {
		if PermissionAllows(perm, namespace, intent) {
			return true
		}
	}
	return false
}

// WebhookNamespace is the namespace of webhook subscriptions, whose own
// events (system.Webhook:disabled, …) describe the caller's subscriptions.
const WebhookNamespace = "system.Webhook"

// ReadIntent is the intent whose permission lets a principal see the
// records of namespace, and so receive its events: "retrieve", or
// "listWebhooks" for system.Webhook.
func ReadIntent(namespace string) string {
	if namespace == WebhookNamespace {
		return "listWebhooks"
	}
	return "retrieve"
}

// CanReceive reports whether p may receive the events of trigger: a
// webhook carries the records, so receiving is reading. The trigger "*"
// needs the permission "*"; any other needs the read intent of its
// namespace. Subscribing checks it, and the dispatcher checks it again
// against the owner's current permissions before it delivers.
func (p *Principal) CanReceive(trigger string) bool {
	if p == nil {
		return false
	}
	if trigger == "*" {
		return slices.Contains(p.Permissions, "*")
	}
	ns, _, _ := strings.Cut(trigger, ":")
	return p.Can(ns, ReadIntent(ns))
}

// CanOperate reports whether p is a webhook operator: it holds "*" or
// PermOperate itself (an ExplicitOnly permission). An operator sees and
// disables every owner's subscriptions, never their secrets.
func (p *Principal) CanOperate() bool { return p.Has(PermOperate) }

// Has reports whether p holds permission perm ("app.Model:intent").
func (p *Principal) Has(perm string) bool {
	ns, in, _ := strings.Cut(perm, ":")
	return p.Can(ns, in)
}

// operatorIntents are the intents PermOperate grants by itself, so a
// back-office principal needs no other permission to run them.
var operatorIntents = map[string][]string{
	WebhookNamespace: {"listWebhooks", "getWebhook", "getWebhookLogs", "getWebhookQueue", "retryDelivery",
		"replayEvent", "testWebhook", "enableWebhook", "disableWebhook", "listEvents"},
	"system.TrustedSite": {"listTrustedSites", "getTrustedSite"},
}

// PermissionAllows reports whether one permission string grants intent on
// namespace. Matching is exact on whole parts: "profile.Cust:*" does not
// grant "profile.Customer:create". "app.Model:*" does not grant an
// ExplicitOnly permission such as PermPrivateTargets. PermOperate grants
// the operatorIntents.
func PermissionAllows(perm, namespace, intent string) bool {
	if perm == "*" {
		return true
	}
	if perm == PermOperate && slices.Contains(operatorIntents[namespace], intent) {
		return true
	}
	ns, in, ok := strings.Cut(perm, ":")
	if !ok || ns != namespace {
		return false
	}
	return in == intent || in == "*" && !explicitOnly(namespace, intent)
}

// ValidPermission reports whether s is a well-formed permission string.
func ValidPermission(s string) bool {
	if s == "*" {
		return true
	}
	ns, in, ok := strings.Cut(s, ":")
	return ok && ValidNamespace(ns) && (in == "*" || validName(in))
}

// ValidNamespace reports whether s has the form app.Model: a lower-case app
// name and a model name, each a letter followed by letters, digits or _.
func ValidNamespace(s string) bool {
	app, model, ok := strings.Cut(s, ".")
	if !ok || !validName(app) || !validName(model) {
		return false
	}
	return app[0] >= 'a' && app[0] <= 'z'
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return false
		}
	}
	return true
}
