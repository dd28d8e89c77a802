package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// storeTestKey is the master key of the round trip's stores.
var storeTestKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// plainSecrets are the secrets seedStore writes; no export may hold one.
var plainSecrets = []string{"client-secret-1", "apikey-secret-1", "pw-secret-1", "basic-pw-1", "oauth-secret-1",
	"header-secret-1", "site-pw-1", "site-oauth-1", "site-header-1"}

func openTestBackend(t *testing.T, cfg storeConfig) *backend {
	t.Helper()
	key, _ := decodeKey(storeTestKey)
	cfg.Sealer = func() (*jqlgate.Sealer, error) { return jqlgate.NewSealer(key) }
	b, err := openBackend(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedStore writes one of every kind into b.
func seedStore(t *testing.T, b *backend) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2025, 3, 4, 5, 6, 7, 8e6, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.auth.CreateClient(ctx, &jqlgate.Client{ID: "cl_1", Name: "ci", SecretHash: auth.HashSecret("cl_1", plainSecrets[0]),
		Permissions: []string{"*"}, CreatedAt: at, UpdatedAt: at}))
	must(b.auth.CreateAPIKey(ctx, &jqlgate.APIKey{ID: "ak_1", Name: "k", Hash: auth.HashSecret("ak_1", plainSecrets[1]),
		Permissions: []string{"profile.Customer:*"}, CreatedAt: at}))
	pw, _ := bcrypt.GenerateFromPassword([]byte(plainSecrets[2]), bcrypt.MinCost)
	must(b.auth.CreateUser(ctx, &jqlgate.User{ID: "usr_1", Username: "ann", PasswordHash: pw, Permissions: []string{"*"}, CreatedAt: at}))
	ks := &auth.KeySet{Store: b.auth, Secret: "signing-secret", Now: func() time.Time { return at }}
	_, err := ks.Rotate(ctx, time.Hour)
	must(err)
	must(b.sites.Create(ctx, &jqlgate.TrustedSite{ID: "site_1", Owner: "client:cl_1", Name: "crm", BaseURL: "https://crm.example.com/",
		BasicAuth: &jqlgate.BasicAuth{Username: "u", Password: plainSecrets[6]}, CreatedAt: at, UpdatedAt: at}))
	must(b.sites.Create(ctx, &jqlgate.TrustedSite{ID: "site_2", Owner: "client:cl_1", Name: "erp", BaseURL: "https://erp.example.com/",
		OAuth2:  &jqlgate.ReceiverOAuth2{TokenURL: "https://erp.example.com/token", ClientID: "c", ClientSecret: plainSecrets[7]},
		Headers: map[string]string{"X-Key": plainSecrets[8]}, PublicOnly: true, CreatedAt: at, UpdatedAt: at}))
	for i, sub := range []*jqlgate.Subscription{
		{ID: "sub_1", Owner: "client:cl_1", Prefix: "p", Trigger: "profile.Customer:create", Triggers: []string{"profile.Customer:create"},
			WebhookURL: "https://hooks.example.com/a", Method: "POST", ContentType: "application/json", Enabled: true,
			Headers: map[string]string{"X-Token": plainSecrets[5]}, SecretHeaders: []string{"X-Token"},
			BasicAuth: &jqlgate.BasicAuth{Username: "bob", Password: plainSecrets[3]}, Metadata: map[string]any{"n": int64(3), "f": 2.0},
			RetryPolicy: jqlgate.RetryPolicy{Preset: "antavo", Schedule: jqlgate.AntavoRetrySchedule}, TimeoutSeconds: 10, MaxInFlight: 4,
			Filter: map[string]any{"data.tier": "gold"}, SignatureScheme: jqlgate.SchemeV1,
			Secrets: []jqlgate.Secret{{Value: jqlgate.NewSigningSecret(jqlgate.SchemeV1), CreatedAt: at},
				{Value: jqlgate.NewSigningSecret(jqlgate.SchemeV1), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}}, CreatedAt: at, UpdatedAt: at},
		{ID: "sub_2", Owner: "apiKey:ak_1", Trigger: "*", Triggers: []string{"*"}, WebhookURL: "https://hooks.example.com/b",
			Method: "POST", ContentType: "application/json", Enabled: false, DisabledReason: "410 Gone", Ordered: true, PublicOnly: true,
			OAuth2:      &jqlgate.ReceiverOAuth2{TokenURL: "https://t.example.com", ClientID: "x", ClientSecret: plainSecrets[4], Scopes: []string{"a"}},
			TrustedSite: "site_1", SignatureScheme: jqlgate.SchemeV1a,
			Secrets: []jqlgate.Secret{{Value: jqlgate.NewSigningSecret(jqlgate.SchemeV1a), CreatedAt: at}}, CreatedAt: at, UpdatedAt: at.Add(time.Minute)},
	} {
		if _, created, err := b.subscriptions.Create(ctx, sub); err != nil || !created {
			t.Fatalf("subscription %d: %v %v", i, created, err)
		}
	}
	for i := range 1203 {
		must(b.records.Insert(ctx, "customers", map[string]any{"id": jqlgate.NewID("cus"), "name": "c" + string(rune('a'+i%26)),
			"points": int64(i), "ratio": float64(i) + 0.5, "whole": 4.0, "seen": at, "tags": []any{"x", int64(1)}, "addr": map[string]any{"city": "Pécs"}}))
	}
	var fans []*jqlgate.Fanout
	var atts []*jqlgate.Attempt
	for i := range 700 {
		id := jqlgate.NewID("evt")
		fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "profile.Customer:create", EntityID: "cus_x",
			Data: map[string]any{"id": "cus_x", "points": int64(i)}, Changed: []string{"points"}, Timestamp: at},
			Targets: []string{"sub_1", "sub_2"}, Node: "node-a", Accepted: at.Add(time.Duration(i) * time.Millisecond), Seq: int64(i + 1)})
		status := jqlgate.StatusDone
		if i%3 == 0 {
			status = jqlgate.StatusResent
		}
		a := &jqlgate.Attempt{ID: jqlgate.NewID("att"), DeliveryID: "dlv_" + id, EventID: id, Event: "profile.Customer:create",
			Trigger: "profile.Customer:create", EntityID: "cus_x", SubscriptionID: "sub_1", Attempt: 1, Status: status,
			URL: "https://hooks.example.com/a", RequestHeaders: map[string]string{"webhook-id": "dlv_" + id, "X-Other": "v"},
			RequestBody: `{"a":1}`, ResponseCode: 200, ResponseHeaders: map[string]string{"Server": "x"}, ResponseBody: "ok",
			Duration: 15 * time.Millisecond, CreatedAt: at.Add(time.Second), Node: "node-a"}
		if status == jqlgate.StatusResent {
			a.ResponseCode, a.NextAttemptAt = 500, at.Add(time.Hour)
		}
		atts = append(atts, a)
	}
	must(b.deliveries.InsertEvents(ctx, fans))
	must(b.deliveries.InsertAttempts(ctx, atts))
	must(b.query.InsertTestAttempt(ctx, &jqlgate.Attempt{ID: jqlgate.NewID("att"), DeliveryID: "dlv_test", EventID: "evt_test",
		Event: "test", SubscriptionID: "sub_1", Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: at, Node: "node-a"}))
	p, err := portOf(b)
	must(err)
	must(p.PutNodeState(ctx, jqlgate.NodeState{Node: "node-a", Owner: "node-b", Epoch: 3, Heartbeat: at, Watermark: at, Floor: at.Add(time.Minute)}))
}

// snapshot is everything a store holds, in comparable JSON.
func snapshot(t *testing.T, b *backend) string {
	t.Helper()
	ctx := context.Background()
	p, err := portOf(b)
	if err != nil {
		t.Fatal(err)
	}
	s := map[string]any{}
	get := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s[name] = v
	}
	v1, err := p.Clients(ctx)
	get("clients", v1, err)
	v2, err := p.APIKeys(ctx)
	get("apikeys", v2, err)
	v3, err := p.Users(ctx)
	get("users", v3, err)
	v4, err := p.SigningKeys(ctx)
	get("keys", v4, err)
	v5, err := p.SubscriptionPage(ctx, 0, 100)
	get("subs", v5, err)
	secrets := map[string]any{}
	for _, sub := range v5 {
		secrets[sub.ID] = []any{sub.Secrets, sub.BasicAuth, sub.OAuth2, sub.Headers, sub.Owner, sub.PublicOnly, sub.RetryPolicy.Schedule}
	}
	s["subSecrets"] = secrets
	v6, err := p.TrustedSitePage(ctx, 0, 100)
	get("sites", v6, err)
	v7, err := p.RecordsAfter(ctx, "customers", "", 5000)
	get("records", v7, err)
	v8, err := p.EventsAfter(ctx, "", 5000)
	get("events", v8, err)
	v9, err := p.AttemptsAfter(ctx, "", 5000)
	get("attempts", v9, err)
	v10, err := p.NodeStates(ctx)
	get("nodes", v10, err)
	v11, err := b.query.PendingTo(ctx, []string{"sub_1", "sub_2"}, true)
	get("queue", v11, err)
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	dir1, dir2 := filepath.Join(tmp, "one"), filepath.Join(tmp, "two")
	b1 := openTestBackend(t, storeConfig{DataDir: dir1})
	seedStore(t, b1)
	want := snapshot(t, b1)
	_ = b1.close(ctx)

	f1, f2 := filepath.Join(tmp, "one.jsonl"), filepath.Join(tmp, "two.jsonl")
	if _, err := runCLI(t, "store", "export", "--data-dir", dir1, "--secret-key", storeTestKey, "--out", f1); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(f1)
	for _, s := range plainSecrets {
		if strings.Contains(string(raw), s) {
			t.Errorf("the export holds the plaintext secret %q", s)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if !strings.Contains(lines[0], `"kind":"header"`) || !strings.Contains(lines[len(lines)-1], `"kind":"trailer"`) {
		t.Fatalf("first and last lines: %s / %s", lines[0], lines[len(lines)-1])
	}

	mdb := mongotest.New(t)
	mongo := []string{"--mongodb-uri", mongotest.URI(t), "--database", mdb.Name(), "--secret-key", storeTestKey}
	if _, err := runCLI(t, append([]string{"store", "import", "--in", f1}, mongo...)...); err != nil {
		t.Fatal(err)
	}
	bm := openTestBackend(t, storeConfig{MongoDBURI: mongotest.URI(t), Database: mdb.Name()})
	if got := snapshot(t, bm); got != want {
		t.Errorf("MongoDB after import differs: %s", diffSnap(got, want))
	}
	_ = bm.close(ctx)
	if _, err := runCLI(t, append([]string{"store", "export", "--out", f2}, mongo...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "store", "import", "--data-dir", dir2, "--secret-key", storeTestKey, "--in", f2); err != nil {
		t.Fatal(err)
	}
	b2 := openTestBackend(t, storeConfig{DataDir: dir2})
	defer b2.close(ctx)
	if got := snapshot(t, b2); got != want {
		t.Errorf("sqlite after the round trip differs: %s", diffSnap(got, want))
	}
	// Principals still authenticate, signing keys still open.
	c, err := b2.auth.Client(ctx, "cl_1")
	if err != nil || !auth.CheckSecret("cl_1", plainSecrets[0], c.SecretHash) {
		t.Errorf("client secret no longer checks: %v", err)
	}
	u, err := b2.auth.UserByUsername(ctx, "ann")
	if err != nil || bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(plainSecrets[2])) != nil {
		t.Errorf("user password no longer checks: %v", err)
	}
	if err := (&auth.KeySet{Store: b2.auth, Secret: "signing-secret"}).Load(ctx); err != nil {
		t.Errorf("signing keys: %v", err)
	}
}

// diffSnap names the parts of two snapshots that differ, and where.
func diffSnap(got, want string) string {
	var g, w map[string]json.RawMessage
	_ = json.Unmarshal([]byte(got), &g)
	_ = json.Unmarshal([]byte(want), &w)
	var out []string
	for k := range w {
		a, b := string(g[k]), string(w[k])
		if a == b {
			continue
		}
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		lo := max(i-150, 0)
		out = append(out, k+": got …"+a[lo:min(len(a), i+150)]+"… want …"+b[lo:min(len(b), i+150)]+"…")
	}
	return strings.Join(out, "\n")
}
