package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
)

// TrustedSiteStore is every method the trusted site stores of both
// adapters have.
type TrustedSiteStore interface {
	Create(ctx context.Context, site *jqlgate.TrustedSite) error
	Get(ctx context.Context, id string) (*jqlgate.TrustedSite, error)
	GetOwned(ctx context.Context, owner, id string) (*jqlgate.TrustedSite, error)
	List(ctx context.Context, q jqlgate.TrustedSiteQuery) ([]*jqlgate.TrustedSite, int, error)
	Update(ctx context.Context, site *jqlgate.TrustedSite) error
	Delete(ctx context.Context, owner, id string) error
	Uses(ctx context.Context, id string) ([]jqlgate.SiteUse, error)
}

// TrustedSites runs the trusted site store contract; open returns a site
// store and a subscription store over one fresh, empty database.
func TrustedSites(t *testing.T, open func(t *testing.T) (TrustedSiteStore, SubscriptionStore)) {
	t.Run("RoundTrip", func(t *testing.T) { s, _ := open(t); siteRoundTrip(t, s) })
	t.Run("NotFound", func(t *testing.T) { s, _ := open(t); siteNotFound(t, s) })
	t.Run("NameConflict", func(t *testing.T) { s, _ := open(t); siteNameConflict(t, s) })
	t.Run("List", func(t *testing.T) { s, _ := open(t); siteList(t, s) })
	t.Run("Update", func(t *testing.T) { s, _ := open(t); siteUpdate(t, s) })
	t.Run("Delete", func(t *testing.T) { s, _ := open(t); siteDelete(t, s) })
	t.Run("Uses", func(t *testing.T) { siteUses(t, open) })
	t.Run("Version", func(t *testing.T) { siteVersion(t, open) })
}

// SiteSecrets are the credentials TrustedSitesOf holds, which must not be
// stored in clear.
var SiteSecrets = []string{"site-pa55word", "site-client-secret", "site-header-value"}

// TrustedSitesOf are three sites of owner, one of each kind of
// authentication.
func TrustedSitesOf(owner string) []*jqlgate.TrustedSite {
	now := subTime()
	sites := []*jqlgate.TrustedSite{
		{Owner: owner, Name: "basic", BaseURL: "https://crm.example/hooks",
			BasicAuth: &jqlgate.BasicAuth{Username: "hook", Password: "site-pa55word"}},
		{Owner: owner, Name: "oauth", BaseURL: "https://api.example", PublicOnly: true,
			OAuth2: &jqlgate.ReceiverOAuth2{TokenURL: "https://id.example/token", ClientID: "cid", ClientSecret: "site-client-secret",
				Scopes: []string{"a", "b"}, Audience: "aud"}},
		{Owner: owner, Name: "headers", BaseURL: "https://h.example",
			Headers: map[string]string{"X-Api-Key": "site-header-value", "X.Dotted": "v", "$odd": "w"}},
	}
	for i, s := range sites {
		s.CreatedAt, s.UpdatedAt = now.Add(time.Duration(i)*time.Second), now.Add(time.Duration(i)*time.Minute)
	}
	return sites
}

func siteCreate(t *testing.T, s TrustedSiteStore, site *jqlgate.TrustedSite) *jqlgate.TrustedSite {
	t.Helper()
	if err := s.Create(context.Background(), site); err != nil {
		t.Fatalf("Create %s: %v", site.Name, err)
	}
	if site.ID == "" {
		t.Fatalf("Create %s gave no id", site.Name)
	}
	return site
}

func siteRoundTrip(t *testing.T, s TrustedSiteStore) {
	ctx := context.Background()
	for _, site := range TrustedSitesOf("client:a") {
		siteCreate(t, s, site)
		got, err := s.GetOwned(ctx, "client:a", site.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(site, got); d != "" {
			t.Errorf("site %s GetOwned (-want +got):\n%s", site.Name, d)
		}
		got, err = s.Get(ctx, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(site, got); d != "" {
			t.Errorf("site %s Get (-want +got):\n%s", site.Name, d)
		}
		_, err = s.GetOwned(ctx, "client:b", site.ID)
		wantErrCode(t, "another owner's GetOwned", err, jqlgate.ENOTFOUND)
	}
	// An id given is kept.
	named := &jqlgate.TrustedSite{ID: "site_given", Owner: "client:a", Name: "given", BaseURL: "https://g.example",
		BasicAuth: &jqlgate.BasicAuth{Username: "u"}}
	siteCreate(t, s, named)
	if got, err := s.Get(ctx, "site_given"); err != nil || got.BasicAuth == nil || got.BasicAuth.Username != "u" || got.BasicAuth.Password != "" {
		t.Errorf("Get site_given = %+v, %v", got, err)
	}
}

func siteNotFound(t *testing.T, s TrustedSiteStore) {
	ctx := context.Background()
	_, err := s.Get(ctx, "site_missing")
	wantErrCode(t, "Get", err, jqlgate.ENOTFOUND)
	_, err = s.GetOwned(ctx, "client:a", "site_missing")
	wantErrCode(t, "GetOwned", err, jqlgate.ENOTFOUND)
	missing := TrustedSitesOf("client:a")[0]
	missing.ID = "site_missing"
	wantErrCode(t, "Update", s.Update(ctx, missing), jqlgate.ENOTFOUND)
	wantErrCode(t, "Delete", s.Delete(ctx, "client:a", "site_missing"), jqlgate.ENOTFOUND)
	if uses, err := s.Uses(ctx, "site_missing"); err != nil || len(uses) != 0 {
		t.Errorf("Uses of a missing site = %v, %v", uses, err)
	}
	if l, total, err := s.List(ctx, jqlgate.TrustedSiteQuery{Owner: "client:a"}); err != nil || total != 0 || len(l) != 0 {
		t.Errorf("List of an empty store = %d/%d, %v", len(l), total, err)
	}
}

func siteNameConflict(t *testing.T, s TrustedSiteStore) {
	ctx := context.Background()
	sites := TrustedSitesOf("client:a")
	for _, site := range sites {
		siteCreate(t, s, site)
	}
	dup := &jqlgate.TrustedSite{Owner: "client:a", Name: "basic", BaseURL: "https://x.example", BasicAuth: &jqlgate.BasicAuth{Username: "u"}}
	wantErrCode(t, "second site named basic", s.Create(ctx, dup), jqlgate.ECONFLICT)
	if _, total, _ := s.List(ctx, jqlgate.TrustedSiteQuery{Owner: "client:a"}); total != 3 {
		t.Errorf("total after a refused Create = %d, want 3", total)
	}
	other := &jqlgate.TrustedSite{Owner: "client:b", Name: "basic", BaseURL: "https://x.example", BasicAuth: &jqlgate.BasicAuth{Username: "u"}}
	if err := s.Create(ctx, other); err != nil {
		t.Errorf("another owner's site of the same name: %v", err)
	}
	// Renaming onto a taken name is ECONFLICT and changes nothing.
	renamed := *sites[1]
	renamed.Name, renamed.BaseURL = "basic", "https://changed.example"
	wantErrCode(t, "rename onto basic", s.Update(ctx, &renamed), jqlgate.ECONFLICT)
	if got, _ := s.Get(ctx, sites[1].ID); got.Name != "oauth" || got.BaseURL != "https://api.example" {
		t.Errorf("a refused rename changed the site: %+v", got)
	}
	renamed.Name = "oauth2"
	if err := s.Update(ctx, &renamed); err != nil {
		t.Fatalf("rename to a free name: %v", err)
	}
	// The old name is free again.
	siteCreate(t, s, &jqlgate.TrustedSite{Owner: "client:a", Name: "oauth", BaseURL: "https://o.example", BasicAuth: &jqlgate.BasicAuth{Username: "u"}})
}

func siteList(t *testing.T, s TrustedSiteStore) {
	ctx := context.Background()
	var ids, aIDs []string
	for i := range 3 {
		for _, owner := range []string{"client:a", "client:b"} {
			site := TrustedSitesOf(owner)[i]
			siteCreate(t, s, site)
			ids = append(ids, site.ID)
			if owner == "client:a" {
				aIDs = append(aIDs, site.ID)
			}
		}
	}
	for _, c := range []struct {
		q    jqlgate.TrustedSiteQuery
		want []string
		all  int
	}{
		{jqlgate.TrustedSiteQuery{Owner: "client:a"}, aIDs, 3},
		{jqlgate.TrustedSiteQuery{Owner: "client:a", Limit: 2}, aIDs[:2], 3},
		{jqlgate.TrustedSiteQuery{Owner: "client:a", Offset: 2, Limit: 2}, aIDs[2:], 3},
		{jqlgate.TrustedSiteQuery{Owner: "client:a", Offset: 5}, nil, 3},
		{jqlgate.TrustedSiteQuery{AllOwners: true, Owner: "client:a"}, ids, 6},
		{jqlgate.TrustedSiteQuery{AllOwners: true, Offset: 1, Limit: 4}, ids[1:5], 6},
		{jqlgate.TrustedSiteQuery{Owner: "client:z"}, nil, 0},
	} {
		got, total, err := s.List(ctx, c.q)
		var gotIDs []string
		for _, site := range got {
			gotIDs = append(gotIDs, site.ID)
		}
		if err != nil || total != c.all || !slices.Equal(gotIDs, c.want) {
			t.Errorf("List %+v = %v of %d (%v), want %v of %d", c.q, gotIDs, total, err, c.want, c.all)
		}
	}
	got, _, _ := s.List(ctx, jqlgate.TrustedSiteQuery{Owner: "client:b"})
	if len(got) != 3 || got[0].BasicAuth == nil || got[0].BasicAuth.Password != "site-pa55word" || got[2].Headers["X-Api-Key"] != "site-header-value" {
		t.Errorf("listed sites are not whole: %+v", got)
	}
}

func siteUpdate(t *testing.T, s TrustedSiteStore) {
	ctx := context.Background()
	site := siteCreate(t, s, TrustedSitesOf("client:a")[0])
	// Another kind of authentication replaces the first entirely.
	changed := *site
	changed.BasicAuth = nil
	changed.OAuth2 = &jqlgate.ReceiverOAuth2{TokenURL: "https://id.example/t", ClientID: "c2", ClientSecret: "n3w-secret"}
	changed.BaseURL, changed.PublicOnly, changed.UpdatedAt = "https://crm.example/v2", true, subTime().Add(time.Hour)
	if err := s.Update(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOwned(ctx, "client:a", site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&changed, got); d != "" {
		t.Errorf("after Update (-want +got):\n%s", d)
	}
	changed.OAuth2 = nil
	changed.Headers = map[string]string{"Authorization": "Bearer h"}
	if err := s.Update(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, site.ID); got.OAuth2 != nil || got.Headers["Authorization"] != "Bearer h" || got.AuthKind() != jqlgate.SiteAuthHeaders {
		t.Errorf("after switching to headers: %+v", got)
	}
	other := changed
	other.Owner = "client:b"
	wantErrCode(t, "another owner's Update", s.Update(ctx, &other), jqlgate.ENOTFOUND)
	if got, _ := s.Get(ctx, site.ID); got.Owner != "client:a" {
		t.Errorf("another owner's Update took the site: %+v", got)
	}
}

func siteDelete(t *testing.T, s TrustedSiteStore) {
	ctx := context.Background()
	sites := TrustedSitesOf("client:a")
	for _, site := range sites {
		siteCreate(t, s, site)
	}
	wantErrCode(t, "another owner's Delete", s.Delete(ctx, "client:b", sites[0].ID), jqlgate.ENOTFOUND)
	if err := s.Delete(ctx, "client:a", sites[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, sites[0].ID)
	wantErrCode(t, "Get after Delete", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "second Delete", s.Delete(ctx, "client:a", sites[0].ID), jqlgate.ENOTFOUND)
	if _, total, _ := s.List(ctx, jqlgate.TrustedSiteQuery{Owner: "client:a"}); total != 2 {
		t.Errorf("total after Delete = %d, want 2", total)
	}
	// Its name is free again.
	siteCreate(t, s, TrustedSitesOf("client:a")[0])
}

func siteUses(t *testing.T, open func(t *testing.T) (TrustedSiteStore, SubscriptionStore)) {
	ctx := context.Background()
	s, subs := open(t)
	sites := TrustedSitesOf("client:a")
	for _, site := range sites[:2] {
		siteCreate(t, s, site)
	}
	var want []jqlgate.SiteUse
	for i := range 4 {
		sub := FullSubscription("client:a", fmt.Sprintf("https://crm.example/hooks/%d", i))
		sub.BasicAuth, sub.OAuth2 = nil, nil
		sub.TrustedSite = sites[i%2].ID
		subCreate(t, subs, sub)
		if i%2 == 0 {
			want = append(want, jqlgate.SiteUse{SubscriptionID: sub.ID, WebhookURL: sub.WebhookURL})
		}
	}
	subCreate(t, subs, FullSubscription("client:a", "https://elsewhere.example/"))
	uses, err := s.Uses(ctx, sites[0].ID)
	if err != nil || !slices.Equal(uses, want) {
		t.Errorf("Uses = %v, %v; want %v, oldest first", uses, err, want)
	}
	if got, _ := subs.Get(ctx, want[0].SubscriptionID); got.TrustedSite != sites[0].ID {
		t.Errorf("subscription's trustedSite = %q, want %q", got.TrustedSite, sites[0].ID)
	}
	// A subscription moved to the other site, and one deleted, no longer
	// use it.
	moved, _ := subs.Get(ctx, want[0].SubscriptionID)
	moved.TrustedSite = sites[1].ID
	if err := subs.Update(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if err := subs.Delete(ctx, "client:a", want[1].SubscriptionID); err != nil {
		t.Fatal(err)
	}
	if uses, err := s.Uses(ctx, sites[0].ID); err != nil || len(uses) != 0 {
		t.Errorf("Uses after moving and deleting = %v, %v; want none", uses, err)
	}
	if uses, _ := s.Uses(ctx, sites[1].ID); len(uses) != 3 {
		t.Errorf("the other site's Uses = %v, want 3", uses)
	}
	// A site in use can't be deleted (another owner learns only that it
	// is not theirs); one no longer used can.
	wantErrCode(t, "another owner's Delete of a site in use", s.Delete(ctx, "client:b", sites[1].ID), jqlgate.ENOTFOUND)
	wantErrCode(t, "Delete of a site in use", s.Delete(ctx, "client:a", sites[1].ID), jqlgate.ECONFLICT)
	if _, err := s.Get(ctx, sites[1].ID); err != nil {
		t.Errorf("the site in use after its refused Delete: %v", err)
	}
	if err := s.Delete(ctx, "client:a", sites[0].ID); err != nil {
		t.Errorf("Delete of a site no subscription uses any more: %v", err)
	}
}

// Every site write bumps the subscription version, as a changed site
// changes its subscriptions' requests.
func siteVersion(t *testing.T, open func(t *testing.T) (TrustedSiteStore, SubscriptionStore)) {
	ctx := context.Background()
	s, subs := open(t)
	step := versionSteps(t, "subscription version", subs.Version)
	site := TrustedSitesOf("client:a")[0]
	step("Create", true, func() error { return s.Create(ctx, site) })
	step("Create of a taken name", false, func() error { return s.Create(ctx, TrustedSitesOf("client:a")[0]) })
	site.BasicAuth.Password = "changed"
	step("Update", true, func() error { return s.Update(ctx, site) })
	if got, _ := s.Get(ctx, site.ID); got.BasicAuth.Password != "changed" {
		t.Errorf("password after Update = %q", got.BasicAuth.Password)
	}
	step("another owner's Update", false, func() error { o := *site; o.Owner = "client:b"; return s.Update(ctx, &o) })
	step("another owner's Delete", false, func() error { return s.Delete(ctx, "client:b", site.ID) })
	step("Delete", true, func() error { return s.Delete(ctx, "client:a", site.ID) })
	step("second Delete", false, func() error { return s.Delete(ctx, "client:a", site.ID) })
}
