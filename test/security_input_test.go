package test

import (
	"net/http"
	"testing"
)

// Every trigger of a triggers list needs read permission on the events it
// covers, as Antly's single trigger does: a list can't smuggle in "*" or a
// namespace the client may not read beside one it may.
func TestSecurityInputEveryTriggerNeedsRead(t *testing.T) {
	dataDir := t.TempDir()
	c := createClient(t, dataDir, "reader", "system.Webhook:* profile.Customer:retrieve")
	p := serveWithAdmin(t, dataDir)
	tok := p.token(c.ClientID, c.ClientSecret)
	a := webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "P",
		"triggers": []string{"profile.Customer:create", "*"}, "webhookUrl": "http://receiver.invalid/hook"})
	wantFieldError(t, "triggers with *", a, http.StatusForbidden, "triggers[1]")
	webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "P",
		"triggers": []string{"profile.Customer:create", "system.Webhook:disabled"}, "webhookUrl": "http://receiver.invalid/hook"}).must(t)
}
