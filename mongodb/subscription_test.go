package mongodb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func newStore(t *testing.T) (*mongodb.SubscriptionStore, func(id string) bson.Raw) {
	t.Helper()
	db := mongotest.New(t)
	key, err := jqlgate.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	s := mongodb.NewSubscriptionStore(db, sealer)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	raw := func(id string) bson.Raw {
		r, err := db.Collection(mongodb.SubscriptionCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
		if err != nil {
			t.Fatalf("raw %s: %v", id, err)
		}
		return r
	}
	return s, raw
}

func fullSubscription(owner, url string) *jqlgate.Subscription {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &jqlgate.Subscription{
		Owner: owner, Prefix: "App", Trigger: "profile.Customer:create", Triggers: []string{"profile.Customer:create"}, WebhookURL: url,
		Method: "POST", ContentType: "application/json", IncludeEntity: true, Enabled: true,
		Headers:       map[string]string{"X-Tenant": "t1", "X.Dotted": "v", "Authorization": "Bearer header-cred-9q8w", "X-Partner": "partner-cred-3e4r"},
		SecretHeaders: []string{"X-Partner"},
		BasicAuth:     &jqlgate.BasicAuth{Username: "hook", Password: "pa55-basic-word"},
		OAuth2:        &jqlgate.ReceiverOAuth2{TokenURL: "https://auth.example.com/token", ClientID: "cid", ClientSecret: "oauth-client-s3cret", Scopes: []string{"a", "b"}},
		Metadata:      map[string]any{"team": "crm", "$odd.key": true},
		RetryPolicy:   jqlgate.RetryPolicy{Schedule: []time.Duration{5 * time.Second, 300 * time.Second}},
		Filter:        map[string]any{"age__gte": json.Number("18")},
		Secrets: []jqlgate.Secret{
			{Value: "whsec_currentcurrentcurrent", CreatedAt: now},
			{Value: "whsec_previousprevious", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(24 * time.Hour)},
		},
		TimeoutSeconds: 10, MaxInFlight: 8, RateLimitPerSecond: 2.5, Ordered: true,
		SignatureScheme: "v1", BodySignature: &jqlgate.BodySignature{Header: "X-Hub-Signature-256", Algorithm: "sha256"},
		CreatedAt: now, UpdatedAt: now,
	}
}

func TestSubscriptionRoundTripAndSealing(t *testing.T) {
	ctx := context.Background()
	s, raw := newStore(t)
	want := fullSubscription("client:a", "https://example.com/hook")
	got, created, err := s.Create(ctx, want)
	if err != nil || !created {
		t.Fatalf("Create: created %v, err %v", created, err)
	}
	read, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("Get differs (-want +got):\n%s", diff)
	}
	doc := raw(got.ID)
	for _, secret := range []string{"whsec_currentcurrentcurrent", "whsec_previousprevious", "pa55-basic-word", "oauth-client-s3cret",
		"Bearer header-cred-9q8w", "partner-cred-3e4r"} {
		if bytes.Contains(doc, []byte(secret)) {
			t.Errorf("raw document contains %q", secret)
		}
	}
}

// A document written before header values were sealed still reads, its
// values as stored; the next write seals them.
func TestSubscriptionReadsUnsealedLegacyHeaders(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	key, _ := jqlgate.GenerateKey()
	sealer, _ := jqlgate.NewSealer(key)
	s := mongodb.NewSubscriptionStore(db, sealer)
	sub, _, err := s.Create(ctx, fullSubscription("client:a", "https://example.com/hook"))
	if err != nil {
		t.Fatal(err)
	}
	coll := db.Collection(mongodb.SubscriptionCollection)
	legacy := bson.A{bson.D{{Key: "name", Value: "X-Old"}, {Key: "value", Value: "old-clear-value"}}}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: sub.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "headers", Value: legacy}}}}); err != nil {
		t.Fatal(err)
	}
	read, err := s.Get(ctx, sub.ID)
	if err != nil || read.Headers["X-Old"] != "old-clear-value" {
		t.Fatalf("Get = %v (err %v), want the legacy header as stored", read.Headers, err)
	}
	if err := s.Update(ctx, read); err != nil {
		t.Fatal(err)
	}
	doc, _ := coll.FindOne(ctx, bson.D{{Key: "_id", Value: sub.ID}}).Raw()
	if bytes.Contains(doc, []byte("old-clear-value")) {
		t.Error("the legacy header is still in clear after a write")
	}
}

func TestSubscriptionDuplicateReturnsExisting(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	first, _, err := s.Create(ctx, fullSubscription("client:a", "https://example.com/hook"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Go(func() {
			sub, created, err := s.Create(ctx, fullSubscription("client:a", "https://example.com/hook"))
			if err != nil || created {
				t.Errorf("duplicate Create: created %v, err %v", created, err)
				return
			}
			ids[i] = sub.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != first.ID {
			t.Errorf("duplicate got id %s, want %s", id, first.ID)
		}
	}
	_, total, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a"})
	if err != nil || total != 1 {
		t.Errorf("List total = %d (err %v), want 1", total, err)
	}
}

func TestSubscriptionOwnerIsolation(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	sub, _, err := s.Create(ctx, fullSubscription("client:a", "https://example.com/hook"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOwned(ctx, "client:b", sub.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("GetOwned by another owner: %v, want not found", err)
	}
	if err := s.Delete(ctx, "client:b", sub.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Delete by another owner: %v, want not found", err)
	}
	other := *sub
	other.Owner = "client:b"
	if err := s.Update(ctx, &other); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Update by another owner: %v, want not found", err)
	}
	if _, err := s.GetOwned(ctx, "client:a", sub.ID); err != nil {
		t.Errorf("GetOwned by owner: %v", err)
	}
}

func TestSubscriptionListUpdateDeleteVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	v0, _ := s.Version(ctx)
	a, _, _ := s.Create(ctx, fullSubscription("client:a", "https://example.com/1"))
	b, _, _ := s.Create(ctx, fullSubscription("client:a", "https://example.com/2"))
	_, _, _ = s.Create(ctx, fullSubscription("client:b", "https://example.com/1"))

	b.Enabled = false
	if err := s.Update(ctx, b); err != nil {
		t.Fatalf("Update: %v", err)
	}
	enabled := true
	page, total, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a", Enabled: &enabled})
	if err != nil || total != 1 || len(page) != 1 || page[0].ID != a.ID {
		t.Errorf("List enabled = %d/%d (err %v), want only %s", len(page), total, err, a.ID)
	}
	page, total, _ = s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a", Offset: 1, Limit: 1})
	if total != 2 || len(page) != 1 || page[0].ID != b.ID {
		t.Errorf("List page 2 = %d/%d, want %s of 2", len(page), total, b.ID)
	}
	all, err := s.ListEnabled(ctx)
	if err != nil || len(all) != 2 {
		t.Errorf("ListEnabled = %d (err %v), want 2 (both owners)", len(all), err)
	}

	b.WebhookURL = a.WebhookURL
	if err := s.Update(ctx, b); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("Update onto a's key: %v, want conflict", err)
	}
	if err := s.Delete(ctx, "client:a", a.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, "client:a", a.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("second Delete: %v, want not found", err)
	}
	v1, err := s.Version(ctx)
	if err != nil || v1 != v0+5 {
		t.Errorf("Version = %d (err %v), want %d", v1, err, v0+5)
	}
}

func TestSubscriptionDisable(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	sub, _, _ := s.Create(ctx, fullSubscription("client:a", "https://example.com/hook"))
	if err := s.Disable(ctx, sub.ID, "The receiver answered 410 Gone."); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	got, err := s.Get(ctx, sub.ID)
	if err != nil || got.Enabled || got.DisabledReason != "The receiver answered 410 Gone." {
		t.Errorf("after Disable: enabled %v, reason %q, err %v", got.Enabled, got.DisabledReason, err)
	}
	if all, _ := s.ListEnabled(ctx); len(all) != 0 {
		t.Errorf("ListEnabled after Disable = %d, want 0", len(all))
	}
	if err := s.Disable(ctx, "sub_missing", "x"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Disable of a missing subscription: %v, want not found", err)
	}
}

func TestSubscriptionTriggersAndLegacyTrigger(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	key, _ := jqlgate.GenerateKey()
	sealer, _ := jqlgate.NewSealer(key)
	s := mongodb.NewSubscriptionStore(db, sealer)
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	coll := db.Collection(mongodb.SubscriptionCollection)
	multi := fullSubscription("client:a", "https://example.com/hook")
	multi.SetTriggers([]string{"profile.Customer:update", "profile.Customer:create"})
	if _, created, err := s.Create(ctx, multi); err != nil || !created {
		t.Fatalf("Create: %v %v", created, err)
	}
	// The key is the sorted triggers: found whatever the order.
	got, err := s.FindByKey(ctx, "client:a", "App", jqlgate.TriggerKey([]string{"profile.Customer:create", "profile.Customer:update"}), "https://example.com/hook")
	if err != nil || got.ID != multi.ID || got.Trigger != "profile.Customer:update" {
		t.Fatalf("FindByKey = %+v, %v", got, err)
	}
	// A document written before triggers existed holds only trigger.
	old := fullSubscription("client:a", "https://example.com/old")
	if _, _, err := s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: old.ID}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "triggers", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	if doc, _ := coll.FindOne(ctx, bson.D{{Key: "_id", Value: old.ID}}).Raw(); bytes.Contains(doc, []byte("triggers")) {
		t.Fatal("the legacy document still has triggers")
	}
	read, err := s.FindByKey(ctx, "client:a", "App", "profile.Customer:create", "https://example.com/old")
	if err != nil || !slices.Equal(read.Triggers, []string{"profile.Customer:create"}) {
		t.Fatalf("legacy read by Antly's key = %+v, %v; want triggers [profile.Customer:create]", read, err)
	}
	// The trigger filter matches any trigger of a list, and legacy ones.
	for trig, want := range map[string]int{"profile.Customer:create": 2, "profile.Customer:update": 1, "*": 0} {
		_, n, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a", Trigger: trig})
		if err != nil || n != want {
			t.Errorf("List trigger %s = %d (%v), want %d", trig, n, err, want)
		}
	}
}

// A v1a subscription's whsk_ signing key is sealed at rest like a whsec_
// secret, and its scheme survives the round trip.
func TestSubscriptionV1aKeySealed(t *testing.T) {
	ctx := context.Background()
	s, raw := newStore(t)
	want := fullSubscription("client:a", "https://example.com/v1a")
	want.SignatureScheme, want.BodySignature = jqlgate.SchemeV1a, nil
	key := jqlgate.NewSigningSecret(jqlgate.SchemeV1a)
	want.Secrets = []jqlgate.Secret{{Value: key, CreatedAt: want.CreatedAt}}
	got, _, err := s.Create(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	read, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("Get differs (-want +got):\n%s", diff)
	}
	if doc := raw(got.ID); bytes.Contains(doc, []byte(strings.TrimPrefix(key, "whsk_")[:40])) {
		t.Errorf("raw document contains the signing key")
	}
}
