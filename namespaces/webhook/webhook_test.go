package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/webhook"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// Principals of the tests.
var (
	clientA     = &jqlgate.Principal{ID: "a", Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", "system.Webhook:privateTargets", "profile.Customer:retrieve"}}
	clientB     = &jqlgate.Principal{ID: "b", Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", "system.Webhook:privateTargets", "profile.Customer:*"}}
	webhookOnly = &jqlgate.Principal{ID: "w", Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", "system.Webhook:privateTargets"}}
	admin       = &jqlgate.Principal{ID: "root", Kind: jqlgate.PrincipalClient, Permissions: []string{"*"}}
)

// catalogue is a fixed trigger catalogue.
type catalogue []string

func (c catalogue) EventTypes() []jqlgate.EventType {
	out := make([]jqlgate.EventType, len(c))
	for i, n := range c {
		out[i] = jqlgate.EventType{Name: n, Description: n, Example: map[string]any{"id": "1"}}
	}
	return out
}

// resolver answers from a fixed table.
type resolver map[string][]netip.Addr

func (r resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

// notifier records the ids it is told about.
type notifier struct {
	mu  sync.Mutex
	ids []string
}

func (n *notifier) SubscriptionChanged(ctx context.Context, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids = append(n.ids, id)
}

func (n *notifier) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, x := range n.ids {
		if x == id {
			c++
		}
	}
	return c
}

type harness struct {
	t        *testing.T
	mux      *namespaces.Mux
	db       *mongo.Database
	store    *mongodb.SubscriptionStore
	notified *notifier
	deps     webhook.Deps
}

// maxPerOwner registers the handlers again with a cap per owner.
func (h *harness) maxPerOwner(n int) {
	h.deps.MaxPerOwner = n
	h.mux = namespaces.NewMux()
	webhook.Register(h.mux, h.deps)
}

// loopback allows 127.0.0.1 only, as the receivers of the tests live there.
var loopback = jqlgate.AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

func newHarness(t *testing.T, policy jqlgate.AddrPolicy) *harness {
	t.Helper()
	db := mongotest.New(t)
	key, _ := jqlgate.GenerateKey()
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	store := mongodb.NewSubscriptionStore(db, sealer)
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, mux: namespaces.NewMux(), db: db, store: store, notified: &notifier{}}
	h.deps = webhook.Deps{
		Store:     store,
		Catalogue: catalogue{"profile.Customer:create", "profile.Customer:update", "profile.Customer:delete", "fleet.Vehicle:create"},
		Notifier:  h.notified,
		Policy:    policy,
		Resolver: resolver{
			"hooks.example.test":    {netip.MustParseAddr("127.0.0.1")},
			"internal.example.test": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.1.2.3")},
			"public.example.test":   {netip.MustParseAddr("93.184.216.34")},
		},
	}
	webhook.Register(h.mux, h.deps)
	return h
}

// do runs intent as p with the JSON fields body. A "__meta__" key in body is
// decoded into the command's Meta, so Antly's envelopes can be used as is.
func (h *harness) do(p *jqlgate.Principal, intent, body string) (*jqlgate.Result, error) {
	h.t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	fields := map[string]any{}
	if err := dec.Decode(&fields); err != nil {
		h.t.Fatalf("bad test body %s: %v", body, err)
	}
	cmd := &jqlgate.Command{Principal: p, Fields: fields}
	if m, ok := fields["__meta__"]; ok {
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, &cmd.Meta); err != nil {
			h.t.Fatalf("bad __meta__: %v", err)
		}
		delete(fields, "__meta__")
	}
	if cmd.Meta.Intent == "" {
		cmd.Meta.Intent = intent
	}
	cmd.Meta.Namespace, cmd.Meta.Schema = webhook.Namespace, jqlgate.SchemaController
	return h.mux.Serve(context.Background(), cmd)
}

// ok runs intent and fails the test unless it succeeds; it returns the
// result's data as decoded JSON.
func (h *harness) ok(p *jqlgate.Principal, intent, body string) map[string]any {
	h.t.Helper()
	res, err := h.do(p, intent, body)
	if err != nil {
		h.t.Fatalf("%s %s: %v", intent, body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(mustJSON(h.t, res.Data), &m); err != nil {
		h.t.Fatalf("%s data is not an object: %v", intent, err)
	}
	return m
}

// fails runs intent and fails the test unless it fails with code.
func (h *harness) fails(p *jqlgate.Principal, intent, body, code string) *jqlgate.Error {
	h.t.Helper()
	_, err := h.do(p, intent, body)
	if got := jqlgate.ErrorCode(err); got != code {
		h.t.Fatalf("%s %s: got %v, want code %s", intent, body, err, code)
	}
	return jqlgate.AsError(err)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// raw returns the stored document of subscription id, as bytes.
func (h *harness) raw(id string) []byte {
	h.t.Helper()
	r, err := h.db.Collection(mongodb.SubscriptionCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		h.t.Fatalf("raw %s: %v", id, err)
	}
	return r
}

func TestAntlyExamples(t *testing.T) {
	h := newHarness(t, loopback)
	subscribe := `{ "__meta__": { "namespace": "system.Webhook", "schema": "controller", "intent": "subscribeToWebhook", "authenticationClass": "oauth2", "authenticationToken": "your_oauth2_access_token" }, "prefix": "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": "http://127.0.0.1:9/webhooks/handle" }`
	data := h.ok(clientA, "", subscribe)
	id, _ := data["id"].(string)
	if !strings.HasPrefix(id, "sub_") || data["prefix"] != "YourAppPrefix" || data["trigger"] != "profile.Customer:create" || data["webhookUrl"] != "http://127.0.0.1:9/webhooks/handle" {
		t.Fatalf("subscribe data = %v, want the subscription", data)
	}
	secret, _ := data["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+44 {
		t.Errorf("secret = %q, want whsec_ and 32 bytes in base64", secret)
	}
	if data["method"] != "POST" || data["includeEntity"] != true || data["enabled"] != true || data["timeoutSeconds"] != 10.0 {
		t.Errorf("defaults = %v", data)
	}
	if h.notified.count(id) != 1 {
		t.Errorf("dispatcher told %d times about the new subscription, want 1", h.notified.count(id))
	}
	unsubscribe := `{ "__meta__": { "namespace": "system.Webhook", "schema": "controller", "intent": "unsubscribeFromWebhook", "authenticationClass": "oauth2", "authenticationToken": "your_oauth2_access_token" }, "prefix": "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": "http://127.0.0.1:9/webhooks/handle" }`
	if got := h.ok(clientA, "", unsubscribe); got["id"] != id {
		t.Errorf("unsubscribe data = %v, want id %s", got, id)
	}
	if h.notified.count(id) != 2 {
		t.Errorf("dispatcher told %d times, want 2 (create and delete)", h.notified.count(id))
	}
	h.fails(clientA, "getWebhook", `{"id":"`+id+`"}`, jqlgate.ENOTFOUND)
	h.fails(clientA, "", unsubscribe, jqlgate.ENOTFOUND)
}

func TestDuplicateSubscribeReturnsSameID(t *testing.T) {
	h := newHarness(t, loopback)
	body := `{"prefix":"App","trigger":"profile.Customer:*","webhookUrl":"http://hooks.example.test/h"}`
	first := h.ok(clientA, "subscribeToWebhook", body)
	again := h.ok(clientA, "subscribeToWebhook", body)
	if first["id"] != again["id"] || first["secret"] != again["secret"] {
		t.Errorf("second subscribe = %v/%v, want the first %v", again["id"], again["secret"], first["id"])
	}
	res, _ := h.do(clientA, "listWebhooks", `{}`)
	if res.Filtered != 1 {
		t.Errorf("list after duplicate subscribe: %d subscriptions, want 1", res.Filtered)
	}
}

func TestClientsAreIsolated(t *testing.T) {
	h := newHarness(t, loopback)
	body := `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/h"}`
	a := h.ok(clientA, "subscribeToWebhook", body)
	idA := `{"id":"` + a["id"].(string) + `"}`
	for _, intent := range []string{"getWebhook", "updateWebhook", "unsubscribeFromWebhook", "getWebhookSecret", "rotateWebhookSecret", "enableWebhook", "disableWebhook"} {
		e := h.fails(clientB, intent, idA, jqlgate.ENOTFOUND)
		if strings.Contains(e.Message, a["id"].(string)) {
			t.Errorf("%s message %q names the other client's subscription", intent, e.Message)
		}
	}
	res, _ := h.do(clientB, "listWebhooks", `{}`)
	if res.Filtered != 0 {
		t.Errorf("client b lists %d subscriptions, want 0", res.Filtered)
	}
	b := h.ok(clientB, "subscribeToWebhook", body)
	if b["id"] == a["id"] {
		t.Error("client b's identical subscribe returned client a's subscription")
	}
	if got := h.ok(clientB, "unsubscribeFromWebhook", body); got["id"] != b["id"] {
		t.Errorf("client b's unsubscribe removed %v, want its own %v", got["id"], b["id"])
	}
	h.ok(clientA, "getWebhook", idA)
}

func TestSecretsAreSealedAndHidden(t *testing.T) {
	h := newHarness(t, loopback)
	data := h.ok(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/h",
		"basicAuth":{"username":"hook-user","password":"basic-pa55word-xyz"}}`)
	id, secret := data["id"].(string), data["secret"].(string)
	oauth := h.ok(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:update","webhookUrl":"http://hooks.example.test/o",
		"oauth2":{"tokenUrl":"http://hooks.example.test/token","clientId":"cid","clientSecret":"oauth-s3cret-xyz","scopes":["hooks"]}}`)
	oid := oauth["id"].(string)
	secrets := []string{secret, strings.TrimPrefix(secret, "whsec_"), "basic-pa55word-xyz", "oauth-s3cret-xyz", oauth["secret"].(string)}
	for _, doc := range [][]byte{h.raw(id), h.raw(oid)} {
		for _, s := range secrets {
			if bytes.Contains(doc, []byte(s)) {
				t.Errorf("stored document contains the secret %q", s)
			}
		}
	}
	views := [][]byte{
		mustJSON(t, h.ok(clientA, "getWebhook", `{"id":"`+id+`"}`)),
		mustJSON(t, h.ok(clientA, "getWebhook", `{"id":"`+oid+`"}`)),
	}
	res, _ := h.do(clientA, "listWebhooks", `{}`)
	views = append(views, mustJSON(t, res.Data))
	for _, v := range views {
		for _, s := range secrets {
			if bytes.Contains(v, []byte(s)) {
				t.Errorf("get/list answer contains the secret %q: %s", s, v)
			}
		}
	}
	if !bytes.Contains(views[0], []byte(`"username":"hook-user"`)) {
		t.Errorf("getWebhook hides the basic auth username: %s", views[0])
	}
	if got := h.ok(clientA, "getWebhookSecret", `{"id":"`+id+`"}`); got["secret"] != secret {
		t.Errorf("getWebhookSecret = %v, want %s", got["secret"], secret)
	}
}

// Credential header values are sealed at rest and redacted in answers; a
// redacted value written back keeps the stored one, a new value replaces it.
func TestSecretHeadersSealedRedactedAndKept(t *testing.T) {
	h := newHarness(t, loopback)
	data := h.ok(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/h",
		"headers":{"authorization":"Bearer hdr-secret-1","X-Marked":"hdr-secret-2","X-Plain":"plain"},"secretHeaders":["x-marked"]}`)
	id := data["id"].(string)
	for _, s := range []string{"hdr-secret-1", "hdr-secret-2", "plain"} {
		if bytes.Contains(h.raw(id), []byte(s)) {
			t.Errorf("stored document contains the header value %q", s)
		}
	}
	want := map[string]any{"Authorization": "[redacted]", "X-Marked": "[redacted]", "X-Plain": "plain"}
	for _, got := range []map[string]any{data, h.ok(clientA, "getWebhook", `{"id":"`+id+`"}`)} {
		if !reflect.DeepEqual(got["headers"], want) || !reflect.DeepEqual(got["secretHeaders"], []any{"X-Marked"}) {
			t.Errorf("headers %v, secretHeaders %v; want %v and [X-Marked]", got["headers"], got["secretHeaders"], want)
		}
	}
	h.ok(clientA, "updateWebhook", `{"id":"`+id+`","headers":{"Authorization":"[redacted]","X-Marked":"new-value","X-Plain":"plain"}}`)
	sub, err := h.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Headers["Authorization"] != "Bearer hdr-secret-1" || sub.Headers["X-Marked"] != "new-value" {
		t.Errorf("stored headers after update = %v, want Authorization kept and X-Marked replaced", sub.Headers)
	}
}

// One owner may not have more than MaxPerOwner subscriptions; another
// owner is not affected.
func TestSubscriptionCapPerOwner(t *testing.T) {
	h := newHarness(t, loopback)
	h.maxPerOwner(2)
	for _, path := range []string{"a", "b"} {
		h.ok(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/`+path+`"}`)
	}
	e := h.fails(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/c"}`, jqlgate.ECONFLICT)
	if !strings.Contains(e.Message, "2") {
		t.Errorf("cap error %q does not name the cap", e.Message)
	}
	h.ok(clientA, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/a"}`)
	h.ok(clientB, "subscribeToWebhook", `{"prefix":"App","trigger":"profile.Customer:create","webhookUrl":"http://hooks.example.test/c"}`)
}
