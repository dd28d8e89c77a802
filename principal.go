package jqlgate

import "strings"

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

// explicitOnly reports whether namespace:intent is a permission that an
// "app.Model:*" wildcard does not grant.
func explicitOnly(namespace, intent string) bool {
	return namespace+":"+intent == PermPrivateTargets
}

// ExplicitOnly reports whether perm is granted only by itself and "*", not
// by its namespace's wildcard.
func ExplicitOnly(perm string) bool {
	ns, in, _ := strings.Cut(perm, ":")
	return explicitOnly(ns, in)
}

// Owner is the key that data created by this principal is stored under.
// Two principals of different kinds never share an owner.
func (p *Principal) Owner() string { return p.Kind + ":" + p.ID }

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

// Has reports whether p holds permission perm ("app.Model:intent").
func (p *Principal) Has(perm string) bool {
	ns, in, _ := strings.Cut(perm, ":")
	return p.Can(ns, in)
}

// PermissionAllows reports whether one permission string grants intent on
// namespace. Matching is exact on whole parts: "profile.Cust:*" does not
// grant "profile.Customer:create". "app.Model:*" does not grant an
// ExplicitOnly permission such as PermPrivateTargets.
func PermissionAllows(perm, namespace, intent string) bool {
	if perm == "*" {
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
