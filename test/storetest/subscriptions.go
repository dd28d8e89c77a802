package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
)

// SubscriptionStore is every method the subscription stores of both
// adapters have.
type SubscriptionStore interface {
	Create(ctx context.Context, sub *jqlgate.Subscription) (_ *jqlgate.Subscription, created bool, err error)
	Get(ctx context.Context, id string) (*jqlgate.Subscription, error)
	GetOwned(ctx context.Context, owner, id string) (*jqlgate.Subscription, error)
	FindByKey(ctx context.Context, owner, prefix, trigger, webhookURL string) (*jqlgate.Subscription, error)
	List(ctx context.Context, q jqlgate.SubscriptionQuery) ([]*jqlgate.Subscription, int, error)
	ListEnabled(ctx context.Context) ([]*jqlgate.Subscription, error)
	CountByState(ctx context.Context) (enabled, disabled int, err error)
	Update(ctx context.Context, sub *jqlgate.Subscription) error
	Delete(ctx context.Context, owner, id string) error
	Version(ctx context.Context) (int64, error)
	DisableOwned(ctx context.Context, owner, reason string) (int, error)
	Disable(ctx context.Context, id, reason string) error
}

// Subscriptions runs the subscription store contract; open returns a
// store over a fresh, empty database.
func Subscriptions(t *testing.T, open func(t *testing.T) SubscriptionStore) {
	t.Run("RoundTrip", func(t *testing.T) { subRoundTrip(t, open(t)) })
	t.Run("Defaults", func(t *testing.T) { subDefaults(t, open(t)) })
	t.Run("Triggers", func(t *testing.T) { subTriggers(t, open(t)) })
	t.Run("CreateReturnsExisting", func(t *testing.T) { subCreateExisting(t, open(t)) })
	t.Run("CreateRace", func(t *testing.T) { subCreateRace(t, open(t)) })
	t.Run("OwnerIsolation", func(t *testing.T) { subOwnerIsolation(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { subNotFound(t, open(t)) })
	t.Run("List", func(t *testing.T) { subList(t, open(t)) })
	t.Run("ListEnabledAndCount", func(t *testing.T) { subListEnabled(t, open(t)) })
	t.Run("Update", func(t *testing.T) { subUpdate(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { subDelete(t, open(t)) })
	t.Run("Version", func(t *testing.T) { subVersion(t, open(t)) })
	t.Run("DisableOwned", func(t *testing.T) { subDisableOwned(t, open(t)) })
	t.Run("Disable", func(t *testing.T) { subDisable(t, open(t)) })
}

// subTime is a time both stores keep exactly (MongoDB keeps milliseconds).
func subTime() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// FullSubscription is a subscription of owner to url with every field
// set, secrets, credentials and custom headers included.
func FullSubscription(owner, url string) *jqlgate.Subscription {
	now := subTime()
	return &jqlgate.Subscription{
		Owner: owner, Prefix: "App", Trigger: "profile.Customer:create", Triggers: []string{"profile.Customer:create"}, WebhookURL: url,
		Method: "POST", ContentType: "application/json", IncludeEntity: true, Enabled: true,
		Headers:       map[string]string{"X-Tenant": "t1", "X.Dotted": "v", "$odd": "x", "Authorization": "Bearer header-cred-9q8w", "X-Partner": "partner-cred-3e4r"},
		SecretHeaders: []string{"X-Partner"},
		BasicAuth:     &jqlgate.BasicAuth{Username: "hook", Password: "pa55-basic-word"},
		OAuth2: &jqlgate.ReceiverOAuth2{TokenURL: "https://auth.example.com/token", ClientID: "cid", ClientSecret: "oauth-client-s3cret",
			Scopes: []string{"a", "b"}, Audience: "aud"},
		Metadata: map[string]any{"team": "crm", "$odd.key": true, "n": json.Number("3.5"),
			"nested": map[string]any{"list": []any{"x", json.Number("1")}}},
		RetryPolicy: jqlgate.RetryPolicy{Preset: "custom", Schedule: []time.Duration{5 * time.Second, 300 * time.Second, 1500 * time.Millisecond}},
		Filter:      map[string]any{"age__gte": json.Number("18"), "status": "active"},
		Secrets: []jqlgate.Secret{
			{Value: "whsec_currentcurrentcurrent", CreatedAt: now},
			{Value: "whsec_previousprevious", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(24 * time.Hour)},
		},
		TimeoutSeconds: 10, MaxInFlight: 8, RateLimitPerSecond: 2.5, Ordered: true, PublicOnly: true,
		SignatureScheme: jqlgate.SchemeV1, BodySignature: &jqlgate.BodySignature{Header: "X-Hub-Signature-256", Algorithm: "sha256"},
		CreatedAt: now, UpdatedAt: now,
	}
}

// PlainSecrets are the secret values FullSubscription holds, which must
// not be stored in clear.
var PlainSecrets = []string{"whsec_currentcurrentcurrent", "whsec_previousprevious", "pa55-basic-word",
	"oauth-client-s3cret", "header-cred-9q8w", "partner-cred-3e4r"}

func subCreate(t *testing.T, s SubscriptionStore, sub *jqlgate.Subscription) *jqlgate.Subscription {
	t.Helper()
	got, created, err := s.Create(context.Background(), sub)
	if err != nil || !created {
		t.Fatalf("Create %s: created %v, err %v", sub.WebhookURL, created, err)
	}
	return got
}

func wantErrCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if jqlgate.ErrorCode(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func subRoundTrip(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	want := FullSubscription("client:a", "https://example.com/hook")
	got := subCreate(t, s, want)
	if got.ID == "" || got.ID != want.ID {
		t.Fatalf("Create gave id %q, and the input %q", got.ID, want.ID)
	}
	reads := map[string]func() (*jqlgate.Subscription, error){
		"Get":      func() (*jqlgate.Subscription, error) { return s.Get(ctx, got.ID) },
		"GetOwned": func() (*jqlgate.Subscription, error) { return s.GetOwned(ctx, "client:a", got.ID) },
		"FindByKey": func() (*jqlgate.Subscription, error) {
			return s.FindByKey(ctx, "client:a", "App", "profile.Customer:create", "https://example.com/hook")
		},
		"List": func() (*jqlgate.Subscription, error) {
			l, _, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a"})
			if err != nil || len(l) != 1 {
				return nil, fmt.Errorf("list of %d: %v", len(l), err)
			}
			return l[0], nil
		},
		"ListEnabled": func() (*jqlgate.Subscription, error) {
			l, err := s.ListEnabled(ctx)
			if err != nil || len(l) != 1 {
				return nil, fmt.Errorf("list of %d: %v", len(l), err)
			}
			return l[0], nil
		},
	}
	for name, read := range reads {
		r, err := read()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := cmp.Diff(want, r); d != "" {
			t.Errorf("%s differs (-want +got):\n%s", name, d)
		}
	}

	// A v1a subscription's whsk_ signing key comes back opened, with its
	// scheme.
	v1a := FullSubscription("client:a", "https://example.com/v1a")
	v1a.SignatureScheme, v1a.BodySignature = jqlgate.SchemeV1a, nil
	v1a.Secrets = []jqlgate.Secret{{Value: jqlgate.NewSigningSecret(jqlgate.SchemeV1a), CreatedAt: v1a.CreatedAt}}
	subCreate(t, s, v1a)
	r, err := s.Get(ctx, v1a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(v1a, r); d != "" {
		t.Errorf("v1a differs (-want +got):\n%s", d)
	}
}

// A subscription with only what is required reads back with the stores'
// defaults: its one trigger as a list, scheme v1, no credentials.
func subDefaults(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	sub := &jqlgate.Subscription{Owner: "client:a", Prefix: "App", Trigger: "profile.Customer:*", WebhookURL: "https://example.com/min"}
	subCreate(t, s, sub)
	got, err := s.Get(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Trigger != "profile.Customer:*" || !slices.Equal(got.Triggers, []string{"profile.Customer:*"}) {
		t.Errorf("triggers = %q %v, want the one trigger as a list", got.Trigger, got.Triggers)
	}
	if got.SignatureScheme != jqlgate.SchemeV1 {
		t.Errorf("scheme = %q, want v1", got.SignatureScheme)
	}
	if got.Enabled || got.BasicAuth != nil || got.OAuth2 != nil || got.BodySignature != nil || got.Headers != nil ||
		got.Metadata != nil || got.Filter != nil || len(got.Secrets) != 0 || len(got.RetryPolicy.Schedule) != 0 ||
		got.TrustedSite != "" || got.PublicOnly || got.Ordered || !got.CreatedAt.IsZero() {
		t.Errorf("minimal subscription read back with more: %+v", got)
	}
	noTrigger := &jqlgate.Subscription{Owner: "client:a", WebhookURL: "https://example.com/none"}
	if _, _, err := s.Create(ctx, noTrigger); err == nil {
		t.Error("a subscription without a trigger was created")
	}
}

func subTriggers(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	multi := FullSubscription("client:a", "https://example.com/hook")
	multi.SetTriggers([]string{"profile.Customer:update", "profile.Customer:create"})
	subCreate(t, s, multi)
	// The key is the sorted triggers: found whatever the order given.
	got, err := s.FindByKey(ctx, "client:a", "App", jqlgate.TriggerKey([]string{"profile.Customer:create", "profile.Customer:update"}), "https://example.com/hook")
	if err != nil || got.ID != multi.ID || got.Trigger != "profile.Customer:update" ||
		!slices.Equal(got.Triggers, []string{"profile.Customer:update", "profile.Customer:create"}) {
		t.Fatalf("FindByKey = %+v, %v; want the triggers in their order", got, err)
	}
	if _, err := s.FindByKey(ctx, "client:a", "App", "profile.Customer:create", "https://example.com/hook"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("FindByKey by one of two triggers: %v, want ENOTFOUND", err)
	}
	// The same triggers in another order are the same subscription.
	dup := FullSubscription("client:a", "https://example.com/hook")
	dup.SetTriggers([]string{"profile.Customer:create", "profile.Customer:update"})
	if again, created, err := s.Create(ctx, dup); err != nil || created || again.ID != multi.ID {
		t.Errorf("Create with the triggers reordered: created %v, err %v", created, err)
	}
	one := FullSubscription("client:a", "https://example.com/other")
	subCreate(t, s, one)
	for trig, want := range map[string]int{"profile.Customer:create": 2, "profile.Customer:update": 1, "*": 0, "profile.Customer": 0} {
		_, n, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a", Trigger: trig})
		if err != nil || n != want {
			t.Errorf("List trigger %s = %d (%v), want %d", trig, n, err, want)
		}
	}
}

func subCreateExisting(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	first := subCreate(t, s, FullSubscription("client:a", "https://example.com/hook"))
	v0, _ := s.Version(ctx)
	dup := FullSubscription("client:a", "https://example.com/hook")
	dup.Headers = map[string]string{"X-Other": "o"}
	dup.Enabled = false
	got, created, err := s.Create(ctx, dup)
	if err != nil || created {
		t.Fatalf("duplicate Create: created %v, err %v", created, err)
	}
	if got.ID != first.ID || got.Headers["X-Tenant"] != "t1" || !got.Enabled || got.BasicAuth == nil || got.BasicAuth.Password != "pa55-basic-word" {
		t.Errorf("duplicate Create returned %+v, want the stored first one, secrets opened", got)
	}
	if v1, _ := s.Version(ctx); v1 != v0 {
		t.Errorf("a duplicate Create moved the version %d → %d", v0, v1)
	}
	// Another owner, prefix or URL is another subscription.
	for _, other := range []*jqlgate.Subscription{
		FullSubscription("client:b", "https://example.com/hook"),
		func() *jqlgate.Subscription {
			s := FullSubscription("client:a", "https://example.com/hook")
			s.Prefix = "Other"
			return s
		}(),
		FullSubscription("client:a", "https://example.com/hook2"),
	} {
		if got := subCreate(t, s, other); got.ID == first.ID {
			t.Errorf("%s %s %s got the first one's id", other.Owner, other.Prefix, other.WebhookURL)
		}
	}
	if _, total, _ := s.List(ctx, jqlgate.SubscriptionQuery{AllOwners: true}); total != 4 {
		t.Errorf("total = %d, want 4", total)
	}
}

// Many creates of one subscription at once create it once; all the others
// get that one.
func subCreateRace(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	v0, _ := s.Version(ctx)
	const n = 16
	ids := make([]string, n)
	createdBy := make([]bool, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			sub, created, err := s.Create(ctx, FullSubscription("client:a", "https://example.com/race"))
			if err != nil {
				t.Errorf("Create %d: %v", i, err)
				return
			}
			ids[i], createdBy[i] = sub.ID, created
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range n {
		if createdBy[i] {
			winners++
		}
		if ids[i] != ids[0] {
			t.Errorf("Create %d got %s, Create 0 %s", i, ids[i], ids[0])
		}
	}
	if winners != 1 {
		t.Errorf("%d creates created, want 1", winners)
	}
	if _, total, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a"}); err != nil || total != 1 {
		t.Errorf("List total = %d (err %v), want 1", total, err)
	}
	if v1, _ := s.Version(ctx); v1 != v0+1 {
		t.Errorf("version %d → %d, want one bump for one create", v0, v1)
	}
}

func subOwnerIsolation(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	sub := subCreate(t, s, FullSubscription("client:a", "https://example.com/hook"))
	v0, _ := s.Version(ctx)
	_, err := s.GetOwned(ctx, "client:b", sub.ID)
	wantErrCode(t, "GetOwned by another owner", err, jqlgate.ENOTFOUND)
	_, err = s.FindByKey(ctx, "client:b", "App", "profile.Customer:create", "https://example.com/hook")
	wantErrCode(t, "FindByKey by another owner", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "Delete by another owner", s.Delete(ctx, "client:b", sub.ID), jqlgate.ENOTFOUND)
	other := *sub
	other.Owner, other.WebhookURL = "client:b", "https://evil.example/"
	wantErrCode(t, "Update by another owner", s.Update(ctx, &other), jqlgate.ENOTFOUND)
	if l, total, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:b"}); err != nil || total != 0 || len(l) != 0 {
		t.Errorf("another owner's List = %d/%d, %v", len(l), total, err)
	}
	if n, err := s.DisableOwned(ctx, "client:b", "x"); err != nil || n != 0 {
		t.Errorf("another owner's DisableOwned = %d, %v", n, err)
	}
	got, err := s.GetOwned(ctx, "client:a", sub.ID)
	if err != nil || got.WebhookURL != "https://example.com/hook" || !got.Enabled {
		t.Errorf("owner's GetOwned after the others' attempts = %+v, %v", got, err)
	}
	if v1, _ := s.Version(ctx); v1 != v0 {
		t.Errorf("refused writes moved the version %d → %d", v0, v1)
	}
}

func subNotFound(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	_, err := s.Get(ctx, "sub_missing")
	wantErrCode(t, "Get", err, jqlgate.ENOTFOUND)
	_, err = s.GetOwned(ctx, "client:a", "sub_missing")
	wantErrCode(t, "GetOwned", err, jqlgate.ENOTFOUND)
	_, err = s.FindByKey(ctx, "client:a", "App", "x", "https://example.com/")
	wantErrCode(t, "FindByKey", err, jqlgate.ENOTFOUND)
	missing := FullSubscription("client:a", "https://example.com/hook")
	missing.ID = "sub_missing"
	wantErrCode(t, "Update", s.Update(ctx, missing), jqlgate.ENOTFOUND)
	wantErrCode(t, "Delete", s.Delete(ctx, "client:a", "sub_missing"), jqlgate.ENOTFOUND)
	wantErrCode(t, "Disable", s.Disable(ctx, "sub_missing", "x"), jqlgate.ENOTFOUND)
	if v, err := s.Version(ctx); err != nil || v != 0 {
		t.Errorf("Version of an empty store = %d, %v; want 0", v, err)
	}
	if on, off, err := s.CountByState(ctx); err != nil || on != 0 || off != 0 {
		t.Errorf("CountByState of an empty store = %d, %d, %v", on, off, err)
	}
	if l, err := s.ListEnabled(ctx); err != nil || len(l) != 0 {
		t.Errorf("ListEnabled of an empty store = %d, %v", len(l), err)
	}
	if _, err := s.Get(ctx, missing.ID); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Update of a missing subscription created it: %v", err)
	}
}

func subList(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	type spec struct {
		owner, prefix, trigger string
		enabled                bool
	}
	specs := []spec{
		{"client:a", "App", "profile.Customer:create", true},
		{"client:b", "App", "profile.Customer:create", true},
		{"client:a", "App", "profile.Customer:update", false},
		{"client:a", "Other", "profile.Customer:create", true},
		{"client:a", "App", "profile.Customer:create", true},
		{"client:b", "Other", "loyalty.Points:*", false},
		{"client:a", "Other", "profile.Customer:update", false},
	}
	var ids []string
	byOwner := map[string][]string{}
	for i, sp := range specs {
		sub := FullSubscription(sp.owner, fmt.Sprintf("https://example.com/%d", i))
		sub.Prefix, sub.Enabled = sp.prefix, sp.enabled
		sub.SetTriggers([]string{sp.trigger})
		subCreate(t, s, sub)
		ids = append(ids, sub.ID)
		byOwner[sp.owner] = append(byOwner[sp.owner], sub.ID)
	}
	yes, no := true, false
	pick := func(f func(spec) bool) []string {
		var out []string
		for i, sp := range specs {
			if f(sp) {
				out = append(out, ids[i])
			}
		}
		return out
	}
	cases := []struct {
		name string
		q    jqlgate.SubscriptionQuery
		want []string
	}{
		{"owner", jqlgate.SubscriptionQuery{Owner: "client:a"}, byOwner["client:a"]},
		{"all owners", jqlgate.SubscriptionQuery{AllOwners: true, Owner: "client:a"}, ids},
		{"prefix", jqlgate.SubscriptionQuery{Owner: "client:a", Prefix: "Other"}, pick(func(sp spec) bool { return sp.owner == "client:a" && sp.prefix == "Other" })},
		{"trigger", jqlgate.SubscriptionQuery{Owner: "client:a", Trigger: "profile.Customer:update"}, pick(func(sp spec) bool {
			return sp.owner == "client:a" && sp.trigger == "profile.Customer:update"
		})},
		{"enabled", jqlgate.SubscriptionQuery{Owner: "client:a", Enabled: &yes}, pick(func(sp spec) bool { return sp.owner == "client:a" && sp.enabled })},
		{"disabled", jqlgate.SubscriptionQuery{Owner: "client:a", Enabled: &no}, pick(func(sp spec) bool { return sp.owner == "client:a" && !sp.enabled })},
		{"all filters", jqlgate.SubscriptionQuery{Owner: "client:a", Prefix: "App", Trigger: "profile.Customer:create", Enabled: &yes},
			pick(func(sp spec) bool {
				return sp.owner == "client:a" && sp.prefix == "App" && sp.trigger == "profile.Customer:create" && sp.enabled
			})},
		{"all owners disabled", jqlgate.SubscriptionQuery{AllOwners: true, Enabled: &no}, pick(func(sp spec) bool { return !sp.enabled })},
		{"all owners prefix", jqlgate.SubscriptionQuery{AllOwners: true, Prefix: "Other"}, pick(func(sp spec) bool { return sp.prefix == "Other" })},
		{"nobody's", jqlgate.SubscriptionQuery{Owner: "client:z"}, nil},
	}
	for _, c := range cases {
		got, total, err := s.List(ctx, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if total != len(c.want) || !slices.Equal(subIDs(got), c.want) {
			t.Errorf("%s = %v of %d, want %v (oldest first)", c.name, subIDs(got), total, c.want)
		}
	}
	// Pages: total is every match, whatever the page.
	all := byOwner["client:a"]
	for _, p := range []struct{ offset, limit int }{{0, 2}, {2, 2}, {4, 2}, {1, 0}, {5, 10}, {9, 3}} {
		got, total, err := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a", Offset: p.offset, Limit: p.limit})
		end := len(all)
		if p.limit > 0 {
			end = min(p.offset+p.limit, len(all))
		}
		want := all[min(p.offset, len(all)):end]
		if err != nil || total != len(all) || !slices.Equal(subIDs(got), want) {
			t.Errorf("page offset %d limit %d = %v of %d (%v), want %v of %d", p.offset, p.limit, subIDs(got), total, err, want, len(all))
		}
	}
	// The listed subscriptions are whole, secrets opened.
	got, _, _ := s.List(ctx, jqlgate.SubscriptionQuery{Owner: "client:a", Limit: 1})
	if len(got) != 1 || len(got[0].Secrets) != 2 || got[0].Secrets[0].Value != "whsec_currentcurrentcurrent" || got[0].OAuth2 == nil ||
		got[0].OAuth2.ClientSecret != "oauth-client-s3cret" {
		t.Errorf("listed subscription = %+v, want it whole", got)
	}
}

func subIDs(subs []*jqlgate.Subscription) []string {
	var out []string
	for _, s := range subs {
		out = append(out, s.ID)
	}
	return out
}

func subListEnabled(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	var want []string
	for i, spec := range []struct {
		owner   string
		enabled bool
	}{{"client:a", true}, {"client:b", false}, {"user:c", true}, {"client:a", false}, {"apikey:d", true}} {
		sub := FullSubscription(spec.owner, fmt.Sprintf("https://example.com/%d", i))
		sub.Enabled = spec.enabled
		subCreate(t, s, sub)
		if spec.enabled {
			want = append(want, sub.ID)
		}
	}
	got, err := s.ListEnabled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := subIDs(got)
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("ListEnabled = %v, want every owner's enabled %v", ids, want)
	}
	for _, sub := range got {
		if len(sub.Secrets) != 2 || sub.Secrets[0].Value != "whsec_currentcurrentcurrent" || sub.Headers["Authorization"] != "Bearer header-cred-9q8w" {
			t.Errorf("ListEnabled's %s has its secrets sealed or missing: %+v", sub.ID, sub)
		}
	}
	if on, off, err := s.CountByState(ctx); err != nil || on != 3 || off != 2 {
		t.Errorf("CountByState = %d enabled, %d disabled (%v), want 3 and 2", on, off, err)
	}
}

func subUpdate(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	a := subCreate(t, s, FullSubscription("client:a", "https://example.com/a"))
	b := subCreate(t, s, FullSubscription("client:a", "https://example.com/b"))

	// Every field changes, credentials removed or replaced.
	changed := *a
	changed.SetTriggers([]string{"loyalty.Points:*", "profile.Customer:delete"})
	changed.Prefix, changed.WebhookURL, changed.Method, changed.ContentType = "Next", "https://example.com/a2", "GET", "application/x-www-form-urlencoded"
	changed.IncludeEntity, changed.Enabled, changed.DisabledReason = false, false, "paused"
	changed.Headers, changed.SecretHeaders = map[string]string{"X-New": "new-header-v4lue"}, nil
	changed.BasicAuth = nil
	changed.OAuth2 = &jqlgate.ReceiverOAuth2{TokenURL: "https://id.example/t", ClientID: "c2", ClientSecret: "n3w-secret"}
	changed.Metadata, changed.Filter = nil, map[string]any{"x": "y"}
	changed.RetryPolicy = jqlgate.RetryPolicy{Preset: "antavo", Schedule: []time.Duration{10 * time.Second}}
	changed.Secrets = []jqlgate.Secret{{Value: "whsec_rotatedrotatedrotated", CreatedAt: subTime()}}
	changed.TimeoutSeconds, changed.MaxInFlight, changed.RateLimitPerSecond, changed.Ordered, changed.PublicOnly = 3, 1, 0, false, false
	changed.TrustedSite, changed.BodySignature = "site_x", nil
	changed.UpdatedAt = subTime().Add(time.Minute)
	if err := s.Update(ctx, &changed); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&changed, got); d != "" {
		t.Errorf("after Update (-want +got):\n%s", d)
	}
	if found, err := s.FindByKey(ctx, "client:a", "Next", jqlgate.TriggerKey(changed.Triggers), "https://example.com/a2"); err != nil || found.ID != a.ID {
		t.Errorf("FindByKey by the new key = %v, %v", found, err)
	}
	_, err = s.FindByKey(ctx, "client:a", "App", "profile.Customer:create", "https://example.com/a")
	wantErrCode(t, "FindByKey by the old key", err, jqlgate.ENOTFOUND)
	// The old key is free again.
	subCreate(t, s, FullSubscription("client:a", "https://example.com/a"))

	// Onto another subscription's key is ECONFLICT, and changes nothing.
	onto := *b
	onto.WebhookURL, onto.Prefix, onto.Triggers, onto.Trigger = changed.WebhookURL, changed.Prefix, changed.Triggers, changed.Trigger
	onto.Method = "GET"
	v0, _ := s.Version(ctx)
	wantErrCode(t, "Update onto another's key", s.Update(ctx, &onto), jqlgate.ECONFLICT)
	if got, _ := s.Get(ctx, b.ID); got.WebhookURL != "https://example.com/b" || got.Method != "POST" {
		t.Errorf("a refused Update changed b: %+v", got)
	}
	if v1, _ := s.Version(ctx); v1 != v0 {
		t.Errorf("a refused Update moved the version %d → %d", v0, v1)
	}
	// Only the trigger order changed is the same key: no conflict with
	// itself.
	reordered := changed
	reordered.SetTriggers([]string{"profile.Customer:delete", "loyalty.Points:*"})
	if err := s.Update(ctx, &reordered); err != nil {
		t.Errorf("Update with the triggers reordered: %v", err)
	}
	if got, _ := s.Get(ctx, a.ID); got.Trigger != "profile.Customer:delete" {
		t.Errorf("trigger after reordering = %q", got.Trigger)
	}
}

func subDelete(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	a := subCreate(t, s, FullSubscription("client:a", "https://example.com/a"))
	b := subCreate(t, s, FullSubscription("client:a", "https://example.com/b"))
	if err := s.Delete(ctx, "client:a", a.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, a.ID)
	wantErrCode(t, "Get after Delete", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "second Delete", s.Delete(ctx, "client:a", a.ID), jqlgate.ENOTFOUND)
	if _, err := s.Get(ctx, b.ID); err != nil {
		t.Errorf("Delete of a took b: %v", err)
	}
	// Its key is free again: a new create makes a new subscription.
	again := subCreate(t, s, FullSubscription("client:a", "https://example.com/a"))
	if again.ID == a.ID {
		t.Error("re-created subscription has the deleted one's id")
	}
}

func subVersion(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	step := versionSteps(t, "version", s.Version)
	a := FullSubscription("client:a", "https://example.com/a")
	step("Create", true, func() error { _, _, err := s.Create(ctx, a); return err })
	step("duplicate Create", false, func() error {
		_, _, err := s.Create(ctx, FullSubscription("client:a", "https://example.com/a"))
		return err
	})
	b := FullSubscription("client:a", "https://example.com/b")
	step("second Create", true, func() error { _, _, err := s.Create(ctx, b); return err })
	a.Method = "GET"
	step("Update", true, func() error { return s.Update(ctx, a) })
	step("Update of a missing one", false, func() error { m := *a; m.ID = "sub_missing"; return s.Update(ctx, &m) })
	step("Disable", true, func() error { return s.Disable(ctx, a.ID, "gone") })
	step("Disable again", true, func() error { return s.Disable(ctx, a.ID, "gone") })
	step("Disable of a missing one", false, func() error { return s.Disable(ctx, "sub_missing", "gone") })
	step("DisableOwned", true, func() error { _, err := s.DisableOwned(ctx, "client:a", "owner deleted"); return err })
	step("DisableOwned of none", false, func() error { _, err := s.DisableOwned(ctx, "client:a", "owner deleted"); return err })
	step("Delete", true, func() error { return s.Delete(ctx, "client:a", a.ID) })
	step("Delete of a missing one", false, func() error { return s.Delete(ctx, "client:a", a.ID) })
}

func subDisableOwned(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	old := subTime().Add(-time.Hour)
	var a []*jqlgate.Subscription
	for i, enabled := range []bool{true, false, true} {
		sub := FullSubscription("client:a", fmt.Sprintf("https://example.com/%d", i))
		sub.Enabled, sub.UpdatedAt = enabled, old
		if !enabled {
			sub.DisabledReason = "paused"
		}
		a = append(a, subCreate(t, s, sub))
	}
	b := FullSubscription("client:b", "https://example.com/b")
	subCreate(t, s, b)
	before := subTime()
	n, err := s.DisableOwned(ctx, "client:a", "owner deleted")
	if err != nil || n != 2 {
		t.Fatalf("DisableOwned = %d, %v; want 2", n, err)
	}
	for i, want := range []string{"owner deleted", "paused", "owner deleted"} {
		got, err := s.Get(ctx, a[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled || got.DisabledReason != want {
			t.Errorf("a[%d]: enabled %v, reason %q; want disabled, %q", i, got.Enabled, got.DisabledReason, want)
		}
		if want == "owner deleted" && (got.UpdatedAt.Before(before.Add(-time.Second)) || !got.UpdatedAt.After(old)) {
			t.Errorf("a[%d]'s updatedAt = %v, want about now (disabled at %v)", i, got.UpdatedAt, before)
		}
		if want == "paused" && !got.UpdatedAt.Equal(old) {
			t.Errorf("the already disabled a[1] was touched: updatedAt %v", got.UpdatedAt)
		}
		// The rest of it is intact, secrets included.
		if got.Secrets[0].Value != "whsec_currentcurrentcurrent" || got.BasicAuth.Password != "pa55-basic-word" || got.WebhookURL != a[i].WebhookURL {
			t.Errorf("a[%d] after DisableOwned: %+v", i, got)
		}
	}
	if got, _ := s.Get(ctx, b.ID); !got.Enabled || got.DisabledReason != "" {
		t.Errorf("another owner's subscription was disabled: %+v", got)
	}
	if n, err := s.DisableOwned(ctx, "client:a", "owner deleted"); err != nil || n != 0 {
		t.Errorf("second DisableOwned = %d, %v; want 0", n, err)
	}
	if on, off, _ := s.CountByState(ctx); on != 1 || off != 3 {
		t.Errorf("CountByState = %d, %d; want 1, 3", on, off)
	}
}

func subDisable(t *testing.T, s SubscriptionStore) {
	ctx := context.Background()
	sub := subCreate(t, s, FullSubscription("client:a", "https://example.com/hook"))
	other := subCreate(t, s, FullSubscription("client:b", "https://example.com/hook"))
	if err := s.Disable(ctx, sub.ID, "The receiver answered 410 Gone."); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	got, err := s.Get(ctx, sub.ID)
	if err != nil || got.Enabled || got.DisabledReason != "The receiver answered 410 Gone." {
		t.Errorf("after Disable: %+v, %v", got, err)
	}
	if got.Secrets[0].Value != "whsec_currentcurrentcurrent" || got.Headers["X-Partner"] != "partner-cred-3e4r" {
		t.Errorf("Disable lost the secrets: %+v", got)
	}
	all, _ := s.ListEnabled(ctx)
	if ids := subIDs(all); !slices.Equal(ids, []string{other.ID}) {
		t.Errorf("ListEnabled after Disable = %v, want [%s]", ids, other.ID)
	}
	// A second reason replaces the first.
	if err := s.Disable(ctx, sub.ID, "again"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, sub.ID); got.DisabledReason != "again" {
		t.Errorf("reason after a second Disable = %q", got.DisabledReason)
	}
	// Enabling again is an Update.
	got.Enabled, got.DisabledReason = true, ""
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.ListEnabled(ctx); len(all) != 2 {
		t.Errorf("ListEnabled after enabling again = %d, want 2", len(all))
	}
}

// versionSteps returns a step function that runs one write and checks
// that the counter version reads moved by exactly one if it should, and
// not at all otherwise. A write that should not move it may fail.
func versionSteps(t *testing.T, name string, version func(context.Context) (int64, error)) func(what string, moves bool, write func() error) {
	t.Helper()
	ctx := context.Background()
	last, err := version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return func(what string, moves bool, write func() error) {
		t.Helper()
		if err := write(); err != nil && moves {
			t.Fatalf("%s: %v", what, err)
		}
		v, err := version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := last
		if moves {
			want++
		}
		if v != want {
			t.Errorf("after %s the %s is %d, want %d", what, name, v, want)
		}
		last = v
	}
}
