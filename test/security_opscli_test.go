package test

import (
	"strings"
	"testing"
)

// The credential admin intents are for admins only, and an admin of
// credentials can hand out, or take over, no more than it holds.

// apiClient creates a client through system.Client createClient.
func apiClient(t *testing.T, p *proc, adminTok, name, scope string) clientCreds {
	t.Helper()
	var c struct{ ID, ClientSecret string }
	p.admin(adminTok, "system.Client", "createClient", map[string]any{"name": name, "scope": scope}).must(t).decode(t, &c)
	return clientCreds{ClientID: c.ID, ClientSecret: c.ClientSecret}
}

func TestSecurityAdminIntentsForbiddenWithoutPermission(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	admin := p.token(adminID, adminSecret)
	c := apiClient(t, p, admin, "subscriber", "system.Webhook:* profile.Customer:*")
	tok := p.token(c.ClientID, c.ClientSecret)
	for ns, intents := range map[string][]string{
		"system.Client": {"createClient", "listClients", "deleteClient", "rotateClientSecret", "updateClient"},
		"system.ApiKey": {"createApiKey", "listApiKeys", "deleteApiKey", "rotateApiKey", "updateApiKey"},
		"system.User":   {"createUser", "listUsers", "deleteUser", "rotateUserPassword", "updateUser"},
	} {
		for _, intent := range intents {
			a := p.admin(tok, ns, intent, map[string]any{"id": adminID, "name": "x", "username": "x", "scope": "*"})
			if a.HTTPStatus != 403 || len(a.Errors) == 0 || a.Errors[0].ErrorCode != "JQL:AuthorizationException" {
				t.Errorf("%s %s by a non-admin: %d %s, want 403", ns, intent, a.HTTPStatus, a.Raw)
			}
		}
	}
}

func TestSecurityAdminCannotEscalate(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	admin := p.token(adminID, adminSecret)
	clerk := apiClient(t, p, admin, "clerk", "system.Client:* system.ApiKey:createApiKey")
	tok := p.token(clerk.ClientID, clerk.ClientSecret)

	// It may not grant what it does not hold, to a new or existing
	// principal, nor touch a principal holding more than it does (rotating
	// the admin's secret would make it the admin).
	for _, tt := range []struct {
		ns, intent string
		fields     map[string]any
	}{
		{"system.Client", "createClient", map[string]any{"name": "root", "scope": "*"}},
		{"system.Client", "createClient", map[string]any{"name": "w", "scope": "system.Webhook:*"}},
		{"system.ApiKey", "createApiKey", map[string]any{"name": "k", "scope": "system.ApiKey:*"}},
		{"system.Client", "rotateClientSecret", map[string]any{"id": adminID}},
		{"system.Client", "deleteClient", map[string]any{"id": adminID}},
		{"system.Client", "updateClient", map[string]any{"id": adminID, "scope": "system.Client:*"}},
		{"system.Client", "updateClient", map[string]any{"id": clerk.ClientID, "scope": "*"}},
	} {
		a := p.admin(tok, tt.ns, tt.intent, tt.fields)
		if a.HTTPStatus != 403 {
			t.Errorf("%s %v by a system.Client:* holder: %d %s, want 403", tt.intent, tt.fields, a.HTTPStatus, a.Raw)
		}
		if strings.Contains(a.Raw, "clientSecret") {
			t.Errorf("%s answered a secret: %s", tt.intent, a.Raw)
		}
	}
	p.token(adminID, adminSecret) // the admin's secret is unchanged

	// Within what it holds, it works.
	small := apiClient(t, p, tok, "reader", "system.Client:listClients")
	p.admin(p.token(small.ClientID, small.ClientSecret), "system.Client", "listClients", nil).must(t)
}
