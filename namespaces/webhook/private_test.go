package webhook_test

import (
	"testing"

	"github.com/jqlgate/jqlgate"
)

// A receiver reachable only because the address policy allows it (here
// 127.0.0.1, as hooks.example.test resolves) takes the permission
// system.Webhook:privateTargets, which system.Webhook:* does not grant; a
// public receiver does not. Updating another field of such a subscription
// without the permission is refused too, and the caps on maxInFlight and
// timeoutSeconds answer 400 on the field.
func TestPrivateTargetsPermission(t *testing.T) {
	h := newHarness(t, loopback)
	plain := &jqlgate.Principal{ID: "p", Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", "profile.Customer:*"}}
	for _, url := range []string{"http://hooks.example.test/h", "http://127.0.0.1:9/h"} {
		e := h.fails(plain, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"`+url+`"}`, jqlgate.EFORBIDDEN)
		if e.Field != "webhookUrl" {
			t.Errorf("%s: field %q, want webhookUrl", url, e.Field)
		}
	}
	pub := h.ok(plain, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://public.example.test/h"}`)
	h.fails(plain, "updateWebhook", `{"id":"`+pub["id"].(string)+`","webhookUrl":"http://hooks.example.test/h"}`, jqlgate.EFORBIDDEN)

	priv := h.ok(clientB, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/h"}`)
	h.ok(admin, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/h"}`)
	narrowed := &jqlgate.Principal{ID: clientB.ID, Kind: clientB.Kind, Permissions: []string{"system.Webhook:*", "profile.Customer:*"}}
	h.fails(narrowed, "updateWebhook", `{"id":"`+priv["id"].(string)+`","timeoutSeconds":5}`, jqlgate.EFORBIDDEN)

	for field, v := range map[string]string{"maxInFlight": "51", "timeoutSeconds": "31"} {
		e := h.fails(admin, "subscribeToWebhook", `{"prefix":"Cap","trigger":"profile.Customer:create","webhookUrl":"http://public.example.test/c","`+field+`":`+v+`}`, jqlgate.EINVALID)
		if len(e.Fields) == 0 || e.Fields[0].Field != field {
			t.Errorf("%s %s: %v, want 400 on %s", field, v, e, field)
		}
	}
	h.ok(admin, "subscribeToWebhook", `{"prefix":"Cap","trigger":"profile.Customer:create","webhookUrl":"http://public.example.test/c","maxInFlight":50,"timeoutSeconds":30}`)
}
