package jqlgate

import "testing"

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
