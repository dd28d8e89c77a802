package jqlgate

import (
	"net/url"
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

// PermissionAllows reports whether one permission string grants intent on
// namespace. Matching is exact on whole parts: "profile.Cust:*" does not
// grant "profile.Customer:create".
func PermissionAllows(perm, namespace, intent string) bool {
	if perm == "*" {
		return true
	}
	ns, in, ok := strings.Cut(perm, ":")
	if !ok || ns != namespace {
		return false
	}
	return in == "*" || in == intent
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
