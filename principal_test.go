package jqlgate

import "testing"

func TestOwnerNamesWhereThePrincipalComesFrom(t *testing.T) {
	tests := []struct {
		p    Principal
		want string
	}{
		{Principal{ID: "cl_1", Kind: PrincipalClient}, "client:cl_1"},
		{Principal{ID: "ak_1", Kind: PrincipalAPIKey}, "apiKey:ak_1"},
		{Principal{ID: "usr_1", Kind: PrincipalUser}, "user:usr_1"},
		{Principal{ID: "cl_1", Kind: PrincipalClient, Issuer: "https://idp.example.com/"}, "ext:https%3A%2F%2Fidp.example.com%2F:cl_1"},
		// The issuer is escaped, so a ":" in it or in sub can't make two
		// principals meet.
		{Principal{ID: "b:c", Kind: PrincipalClient, Issuer: "https://a"}, "ext:https%3A%2F%2Fa:b:c"},
		{Principal{ID: "c", Kind: PrincipalClient, Issuer: "https://a:b"}, "ext:https%3A%2F%2Fa%3Ab:c"},
	}
	for _, tt := range tests {
		if got := tt.p.Owner(); got != tt.want {
			t.Errorf("%+v: Owner() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// system.Webhook:privateTargets is granted by itself and by *, never by
// the namespace wildcard.
func TestPrivateTargetsIsExplicitOnly(t *testing.T) {
	for perms, want := range map[string]bool{"*": true, PermPrivateTargets: true, "system.Webhook:*": false, "system.Webhook:testWebhook": false} {
		p := &Principal{Permissions: []string{perms}}
		if got := p.Has(PermPrivateTargets); got != want {
			t.Errorf("%s: Has(privateTargets) = %v, want %v", perms, got, want)
		}
	}
	if !(&Principal{Permissions: []string{"system.Webhook:*"}}).Can("system.Webhook", "testWebhook") {
		t.Error("system.Webhook:* no longer grants the webhook intents")
	}
}
