package mongodb_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func newSiteStores(t *testing.T) (*mongodb.TrustedSiteStore, *mongodb.SubscriptionStore, func(id string) bson.Raw) {
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
	sites, subs := mongodb.NewTrustedSiteStore(db, sealer), mongodb.NewSubscriptionStore(db, sealer)
	ctx := context.Background()
	if err := subs.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sites.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	raw := func(id string) bson.Raw {
		r, err := db.Collection(mongodb.TrustedSiteCollection).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
		if err != nil {
			t.Fatalf("raw %s: %v", id, err)
		}
		return r
	}
	return sites, subs, raw
}

func TestTrustedSiteStoreSealsAndRoundTrips(t *testing.T) {
	sites, subs, raw := newSiteStores(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, site := range []*jqlgate.TrustedSite{
		{Owner: "client:a", Name: "basic", BaseURL: "https://crm.example/hooks",
			BasicAuth: &jqlgate.BasicAuth{Username: "hook", Password: "site-pa55word"}},
		{Owner: "client:a", Name: "oauth", BaseURL: "https://api.example",
			OAuth2: &jqlgate.ReceiverOAuth2{TokenURL: "https://id.example/token", ClientID: "cid", ClientSecret: "site-client-secret", Scopes: []string{"a"}, Audience: "aud"}},
		{Owner: "client:a", Name: "headers", BaseURL: "https://h.example",
			Headers: map[string]string{"X-Api-Key": "site-header-value", "X.Dotted": "v"}},
	} {
		site.CreatedAt, site.UpdatedAt = now, now
		if err := sites.Create(ctx, site); err != nil {
			t.Fatalf("Create %s: %v", site.Name, err)
		}
		doc := raw(site.ID)
		for _, secret := range []string{"site-pa55word", "site-client-secret", "site-header-value"} {
			if bytes.Contains(doc, []byte(secret)) {
				t.Errorf("site %s is stored with %q in clear: %s", site.Name, secret, doc)
			}
		}
		got, err := sites.GetOwned(ctx, "client:a", site.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(site, got); d != "" {
			t.Errorf("site %s round trip (-want +got):\n%s", site.Name, d)
		}
		if _, err := sites.GetOwned(ctx, "client:b", site.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
			t.Errorf("another owner's GetOwned: %v, want ENOTFOUND", err)
		}
	}
	dup := &jqlgate.TrustedSite{Owner: "client:a", Name: "basic", BaseURL: "https://x.example", BasicAuth: &jqlgate.BasicAuth{Username: "u"}}
	if err := sites.Create(ctx, dup); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("second site named basic: %v, want ECONFLICT", err)
	}
	other := &jqlgate.TrustedSite{Owner: "client:b", Name: "basic", BaseURL: "https://x.example", BasicAuth: &jqlgate.BasicAuth{Username: "u"}}
	if err := sites.Create(ctx, other); err != nil {
		t.Errorf("another owner's site of the same name: %v", err)
	}
	list, total, err := sites.List(ctx, jqlgate.TrustedSiteQuery{Owner: "client:a", Limit: 2})
	if err != nil || total != 3 || len(list) != 2 || list[0].Name != "basic" {
		t.Errorf("List = %d of %d, %v", len(list), total, err)
	}

	v0, _ := subs.Version(ctx)
	site := list[0]
	sub := fullSubscription("client:a", "https://crm.example/hooks/a")
	sub.BasicAuth, sub.OAuth2, sub.TrustedSite = nil, nil, site.ID
	if _, _, err := subs.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	uses, err := sites.Uses(ctx, site.ID)
	if err != nil || len(uses) != 1 || uses[0].SubscriptionID != sub.ID || uses[0].WebhookURL != sub.WebhookURL {
		t.Errorf("Uses = %v, %v; want [%s]", uses, err, sub.ID)
	}
	if got, _ := subs.Get(ctx, sub.ID); got.TrustedSite != site.ID {
		t.Errorf("subscription's trustedSite = %q, want %q", got.TrustedSite, site.ID)
	}
	site.BasicAuth.Password = "changed"
	if err := sites.Update(ctx, site); err != nil {
		t.Fatal(err)
	}
	if v1, _ := subs.Version(ctx); v1 <= v0+1 {
		t.Errorf("version %d → %d: a site write must bump the subscription version", v0, v1)
	}
	if got, _ := sites.Get(ctx, site.ID); got.BasicAuth.Password != "changed" {
		t.Errorf("password after Update = %q", got.BasicAuth.Password)
	}
	if err := sites.Delete(ctx, "client:b", site.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("another owner's Delete: %v, want ENOTFOUND", err)
	}
	if err := sites.Delete(ctx, "client:a", site.ID); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("Delete of a site in use: %v, want ECONFLICT", err)
	}
	if err := subs.Delete(ctx, "client:a", sub.ID); err != nil {
		t.Fatal(err)
	}
	if err := sites.Delete(ctx, "client:a", site.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sites.Get(ctx, site.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Get after Delete: %v", err)
	}
}
