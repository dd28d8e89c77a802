package webhook_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

// subscribeWith returns a valid subscribe body with extra fields merged in
// (extra is JSON object members, without braces).
func subscribeWith(url, extra string) string {
	body := `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"` + url + `"`
	if extra != "" {
		body += "," + extra
	}
	return body + "}"
}

func TestSubscribeBadInput(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	tests := []struct {
		name   string
		body   string
		fields []string // every field the error must name
	}{
		{"all required missing", `{}`, []string{"prefix", "trigger", "webhookUrl"}},
		{"all required empty", `{"prefix":"","trigger":"","webhookUrl":""}`, []string{"prefix", "trigger", "webhookUrl"}},
		{"required wrong type", `{"prefix":1,"trigger":null,"webhookUrl":true}`, []string{"prefix", "trigger", "webhookUrl"}},
		{"relative url", subscribeWith("/webhooks/handle", ""), []string{"webhookUrl"}},
		{"ftp url", subscribeWith("ftp://public.example.test/x", ""), []string{"webhookUrl"}},
		{"javascript url", subscribeWith("javascript:alert(1)", ""), []string{"webhookUrl"}},
		{"user info", subscribeWith("http://u:p@public.example.test/", ""), []string{"webhookUrl"}},
		{"fragment", subscribeWith("http://public.example.test/#x", ""), []string{"webhookUrl"}},
		{"loopback", subscribeWith("http://127.0.0.1/", ""), []string{"webhookUrl"}},
		{"cloud metadata", subscribeWith("http://169.254.169.254/latest/meta-data", ""), []string{"webhookUrl"}},
		{"ipv6 loopback", subscribeWith("http://[::1]/", ""), []string{"webhookUrl"}},
		{"ipv6 link-local with zone", subscribeWith("http://[fe80::1%25eth0]/", ""), []string{"webhookUrl"}},
		{"decimal ip", subscribeWith("http://2130706433/", ""), []string{"webhookUrl"}},
		{"host resolving to 10.x", subscribeWith("http://internal.example.test/", ""), []string{"webhookUrl"}},
		{"unknown trigger", `{"prefix":"App","trigger":"profile.Order:create","webhookUrl":"http://public.example.test/"}`, []string{"trigger"}},
		{"malformed trigger", `{"prefix":"App","trigger":"profile.Customer","webhookUrl":"http://public.example.test/"}`, []string{"trigger"}},
		{"100 KB header value", subscribeWith("http://public.example.test/", `"headers":{"X-Big":"`+big+`"}`), []string{"headers.X-Big"}},
		{"forbidden headers", subscribeWith("http://public.example.test/", `"headers":{"host":"x","Content-Length":"1","content-type":"a","Transfer-Encoding":"x","Connection":"x","webhook-signature":"v1,x","X-Webhook-Event":"x"}`),
			[]string{"headers.host", "headers.Content-Length", "headers.content-type", "headers.Transfer-Encoding", "headers.Connection", "headers.webhook-signature", "headers.X-Webhook-Event"}},
		{"authorization with basic auth", subscribeWith("http://public.example.test/", `"headers":{"Authorization":"Bearer x"},"basicAuth":{"username":"u","password":"p"}`), []string{"headers.Authorization"}},
		{"invalid header name", subscribeWith("http://public.example.test/", `"headers":{"Bad Name":"x","X-Ok":"a\r\nInjected: 1"}`), []string{"headers.Bad Name", "headers.X-Ok"}},
		{"too many headers", subscribeWith("http://public.example.test/", `"headers":{`+manyHeaders(51)+`}`), []string{"headers"}},
		{"negative retry", subscribeWith("http://public.example.test/", `"retryPolicy":{"schedule":[-5]}`), []string{"retryPolicy.schedule[0]"}},
		{"unsorted retry", subscribeWith("http://public.example.test/", `"retryPolicy":{"schedule":[300,5]}`), []string{"retryPolicy.schedule[1]"}},
		{"retry over 30 days", subscribeWith("http://public.example.test/", `"retryPolicy":{"schedule":[5,2592001]}`), []string{"retryPolicy.schedule[1]"}},
		{"retry too long", subscribeWith("http://public.example.test/", `"retryPolicy":{"schedule":[`+strings.TrimSuffix(strings.Repeat("1,", 21), ",")+`]}`), []string{"retryPolicy.schedule"}},
		{"unknown preset", subscribeWith("http://public.example.test/", `"retryPolicy":{"preset":"forever"}`), []string{"retryPolicy.preset"}},
		{"options out of range", subscribeWith("http://public.example.test/", `"method":"PUT","contentType":"text/xml","timeoutSeconds":61,"maxInFlight":0,"rateLimitPerSecond":-1`),
			[]string{"method", "contentType", "timeoutSeconds", "maxInFlight", "rateLimitPerSecond"}},
		{"bad filter", subscribeWith("http://public.example.test/", `"filter":{"age__between":1}`), []string{"filter.age__between"}},
		{"basic auth and oauth2", subscribeWith("http://public.example.test/", `"basicAuth":{"username":"u"},"oauth2":{"tokenUrl":"https://public.example.test/t","clientId":"c","clientSecret":"s"}`), []string{"oauth2"}},
		{"oauth2 incomplete", subscribeWith("http://public.example.test/", `"oauth2":{"tokenUrl":"ftp://x"}`), []string{"oauth2.clientId", "oauth2.clientSecret", "oauth2.tokenUrl"}},
		{"unknown field", subscribeWith("http://public.example.test/", `"webhookURL":"x"`), []string{"webhookURL"}},
		{"port 0", subscribeWith("http://public.example.test:0/", ""), []string{"webhookUrl"}},
		{"port 65536", subscribeWith("http://public.example.test:65536/", ""), []string{"webhookUrl"}},
		{"oauth2 token port 99999", subscribeWith("http://public.example.test/", `"oauth2":{"tokenUrl":"https://public.example.test:99999/t","clientId":"c","clientSecret":"s"}`), []string{"oauth2.tokenUrl"}},
		{"tiny rate", subscribeWith("http://public.example.test/", `"rateLimitPerSecond":1e-300`), []string{"rateLimitPerSecond"}},
		{"huge rate", subscribeWith("http://public.example.test/", `"rateLimitPerSecond":10001`), []string{"rateLimitPerSecond"}},
		{"bad secret header names", subscribeWith("http://public.example.test/", `"secretHeaders":["Bad Name"]`), []string{"secretHeaders[0]"}},
		{"trigger and triggers", subscribeWith("http://public.example.test/", `"triggers":["profile.Customer:update"]`), []string{"triggers"}},
		{"triggers empty", `{"prefix":"App","triggers":[],"webhookUrl":"http://public.example.test/"}`, []string{"triggers"}},
		{"triggers not a list", `{"prefix":"App","triggers":"profile.Customer:create","webhookUrl":"http://public.example.test/"}`, []string{"triggers"}},
		{"triggers too many", `{"prefix":"App","triggers":[` + strings.Repeat(`"profile.Customer:create",`, 50) + `"*"],"webhookUrl":"http://public.example.test/"}`, []string{"triggers"}},
		{"triggers entries", `{"prefix":"App","triggers":["profile.Customer:create",1,"nope.Thing:create","profile.Customer:create",""],"webhookUrl":"http://public.example.test/"}`,
			[]string{"triggers[1]", "triggers[2]", "triggers[3]", "triggers[4]"}},
		{"secret headers not a list", subscribeWith("http://public.example.test/", `"secretHeaders":"X-Token"`), []string{"secretHeaders"}},
	}
	h := newHarness(t, jqlgate.AddrPolicy{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			e := h.fails(clientA, "subscribeToWebhook", tt.body, jqlgate.EINVALID)
			got := errorFields(e)
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("error fields %v (%s), want %s among them", got, e.Message, f)
				}
			}
		})
	}
}

func manyHeaders(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, `"X-H`+string(rune('a'+i%26))+strings.Repeat("z", i/26)+`":"v"`)
	}
	return strings.Join(parts, ",")
}

func errorFields(e *jqlgate.Error) []string {
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	if len(out) == 0 {
		out = append(out, e.Field)
	}
	return out
}

func TestRequireHTTPS(t *testing.T) {
	h := newHarness(t, jqlgate.AddrPolicy{RequireHTTPS: true})
	h.fails(clientA, "subscribeToWebhook", subscribeWith("http://public.example.test/", ""), jqlgate.EINVALID)
	h.ok(clientA, "subscribeToWebhook", subscribeWith("https://public.example.test/", ""))
}

func TestUnknownTriggerListsValidOnes(t *testing.T) {
	h := newHarness(t, loopback)
	e := h.fails(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"nope.Thing:create","webhookUrl":"http://public.example.test/"}`, jqlgate.EINVALID)
	for _, want := range []string{"*", "profile.Customer:*", "profile.Customer:create", "system.Webhook:disabled"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not list %s", e.Message, want)
		}
	}
}

func TestTriggerNeedsReadPermission(t *testing.T) {
	h := newHarness(t, loopback)
	tests := []struct {
		name    string
		p       *jqlgate.Principal
		trigger string
		code    string
	}{
		{"webhook-only client, model event", webhookOnly, "profile.Customer:create", jqlgate.EFORBIDDEN},
		{"webhook-only client, namespace wildcard", webhookOnly, "profile.Customer:*", jqlgate.EFORBIDDEN},
		{"reader of another namespace", clientA, "fleet.Vehicle:create", jqlgate.EFORBIDDEN},
		{"every event without *", clientB, "*", jqlgate.EFORBIDDEN},
		{"reader", clientA, "profile.Customer:*", ""},
		{"namespace wildcard permission", clientB, "profile.Customer:delete", ""},
		{"every event with *", admin, "*", ""},
		{"own webhook events", webhookOnly, "system.Webhook:disabled", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			body := `{"prefix":"App","trigger":"` + tt.trigger + `","webhookUrl":"http://public.example.test/"}`
			if tt.code == "" {
				h.ok(tt.p, "subscribeToWebhook", body)
				return
			}
			if e := h.fails(tt.p, "subscribeToWebhook", body, tt.code); e.Field != "trigger" {
				t.Errorf("error field = %q, want trigger", e.Field)
			}
		})
	}
}

func TestUnsubscribeBadInput(t *testing.T) {
	h := newHarness(t, loopback)
	e := h.fails(clientA, "unsubscribeFromWebhook", `{}`, jqlgate.EINVALID)
	if got := errorFields(e); !slices.Equal(got, []string{"prefix", "trigger", "webhookUrl"}) {
		t.Errorf("error fields = %v, want prefix, trigger, webhookUrl", got)
	}
	h.fails(clientA, "unsubscribeFromWebhook", `{"id":"sub_nope"}`, jqlgate.ENOTFOUND)
	h.fails(clientA, "unsubscribeFromWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://public.example.test/"}`, jqlgate.ENOTFOUND)
	h.fails(nil, "unsubscribeFromWebhook", `{"id":"sub_nope"}`, jqlgate.EUNAUTHORIZED)
}

func TestSubscribeTriggers(t *testing.T) {
	h := newHarness(t, loopback)
	body := `{"prefix":"App","triggers":["profile.Customer:update","profile.Customer:create"],"webhookUrl":"http://public.example.test/"}`
	data := h.ok(clientB, "subscribeToWebhook", body)
	if data["trigger"] != "profile.Customer:update" || !reflect.DeepEqual(data["triggers"], []any{"profile.Customer:update", "profile.Customer:create"}) {
		t.Fatalf("trigger %v, triggers %v; want the first and the list as given", data["trigger"], data["triggers"])
	}
	// The same triggers in another order are the same subscription.
	again := h.ok(clientB, "subscribeToWebhook", `{"prefix":"App","triggers":["profile.Customer:create","profile.Customer:update"],"webhookUrl":"http://public.example.test/"}`)
	if again["id"] != data["id"] {
		t.Errorf("resubscribing in another order made %v, want %v", again["id"], data["id"])
	}
	// Antly's single trigger at the same URL is another subscription, and
	// always shows triggers as a list.
	single := h.ok(clientB, "subscribeToWebhook", subscribeWith("http://public.example.test/", ""))
	if single["id"] == data["id"] || !reflect.DeepEqual(single["triggers"], []any{"profile.Customer:create"}) {
		t.Errorf("single-trigger subscription %v", single)
	}
	// The list filter matches any trigger of the list.
	res, err := h.do(clientB, "listWebhooks", `{"trigger":"profile.Customer:update"}`)
	if err != nil || res.Filtered != 1 {
		t.Fatalf("list by the second trigger: %v, %v; want the multi-trigger subscription", res, err)
	}
	// Every trigger needs read permission, named by its index.
	if e := h.fails(clientA, "subscribeToWebhook", `{"prefix":"App","triggers":["profile.Customer:create","fleet.Vehicle:create"],"webhookUrl":"http://public.example.test/"}`, jqlgate.EFORBIDDEN); e.Field != "triggers[1]" {
		t.Errorf("forbidden field %q, want triggers[1]", e.Field)
	}
	// Unsubscribe by the list, in any order.
	h.ok(clientB, "unsubscribeFromWebhook", `{"prefix":"App","triggers":["profile.Customer:create","profile.Customer:update"],"webhookUrl":"http://public.example.test/"}`)
	h.fails(clientB, "getWebhook", `{"id":"`+data["id"].(string)+`"}`, jqlgate.ENOTFOUND)
	// Update switches between a list and a single trigger.
	id := single["id"].(string)
	up := h.ok(clientB, "updateWebhook", `{"id":"`+id+`","triggers":["profile.Customer:*","profile.Customer:delete"]}`)
	if !reflect.DeepEqual(up["triggers"], []any{"profile.Customer:*", "profile.Customer:delete"}) || up["trigger"] != "profile.Customer:*" {
		t.Errorf("updated to a list: %v", up)
	}
	up = h.ok(clientB, "updateWebhook", `{"id":"`+id+`","trigger":"profile.Customer:delete"}`)
	if !reflect.DeepEqual(up["triggers"], []any{"profile.Customer:delete"}) {
		t.Errorf("updated to one trigger: %v", up)
	}
	h.fails(clientB, "updateWebhook", `{"id":"`+id+`","trigger":"profile.Customer:delete","triggers":["*"]}`, jqlgate.EINVALID)
}

func TestSubscribeHostNotResolvingWarns(t *testing.T) {
	h := newHarness(t, jqlgate.AddrPolicy{})
	res, err := h.do(clientA, "subscribeToWebhook", subscribeWith("http://nowhere.example.test/", ""))
	if err != nil {
		t.Fatalf("subscribe to a host that does not resolve yet: %v", err)
	}
	data := h.ok(clientA, "subscribeToWebhook", subscribeWith("http://nowhere.example.test/", ""))
	if w, _ := data["warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "nowhere.example.test does not resolve") {
		t.Errorf("warnings = %v", data["warnings"])
	}
	if !strings.Contains(res.Message, "does not resolve yet") {
		t.Errorf("message %q does not warn", res.Message)
	}
	// A host that resolves to a private address is still refused.
	h.fails(clientA, "subscribeToWebhook", subscribeWith("http://internal.example.test/", ""), jqlgate.EINVALID)
}
