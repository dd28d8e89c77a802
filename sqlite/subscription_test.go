package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/storetest"
)

// No secret of a subscription or trusted site is in the database file in
// clear, while what is not secret is (so the search would find them).
func TestSecretsSealedInTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	sealer := mustSealer(t)
	subs, sites := sqlite.NewSubscriptionStore(db, sealer), sqlite.NewTrustedSiteStore(db, sealer)
	sub := storetest.FullSubscription("client:a", "https://example.com/visible-hook")
	if _, _, err := subs.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	v1a := storetest.FullSubscription("client:a", "https://example.com/v1a")
	v1aKey := jqlgate.NewSigningSecret(jqlgate.SchemeV1a)
	v1a.SignatureScheme, v1a.Secrets = jqlgate.SchemeV1a, []jqlgate.Secret{{Value: v1aKey}}
	if _, _, err := subs.Create(ctx, v1a); err != nil {
		t.Fatal(err)
	}
	for _, site := range storetest.TrustedSitesOf("client:a") {
		if err := sites.Create(ctx, site); err != nil {
			t.Fatal(err)
		}
	}
	// An update writes the secrets again.
	sub.Method = "GET"
	if err := subs.Update(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var file []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		file = append(file, b...)
	}
	secrets := append(append([]string{}, storetest.PlainSecrets...), storetest.SiteSecrets...)
	secrets = append(secrets, strings.TrimPrefix(v1aKey, "whsk_")[:40])
	for _, secret := range secrets {
		if bytes.Contains(file, []byte(secret)) {
			t.Errorf("the database file holds %q in clear", secret)
		}
	}
	for _, visible := range []string{"https://example.com/visible-hook", "https://crm.example/hooks", "X-Tenant"} {
		if !bytes.Contains(file, []byte(visible)) {
			t.Errorf("the database file lacks %q: the search would not find a secret either", visible)
		}
	}
}

// The sealed values are bound to the MongoDB store's contexts, so an
// export from one store opens in the other.
func TestSealContextsAreMongoDBs(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	sealer := mustSealer(t)
	sub := storetest.FullSubscription("client:a", "https://example.com/hook")
	if _, _, err := sqlite.NewSubscriptionStore(db, sealer).Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	site := storetest.TrustedSitesOf("client:a")[2] // headers
	if err := sqlite.NewTrustedSiteStore(db, sealer).Create(ctx, site); err != nil {
		t.Fatal(err)
	}
	var data struct {
		Secrets []struct {
			Value string `json:"value"`
		} `json:"secrets"`
		Headers   map[string]string `json:"headers"`
		BasicAuth struct {
			Password string `json:"password"`
		} `json:"basicAuth"`
		OAuth2 struct {
			ClientSecret string `json:"clientSecret"`
		} `json:"oauth2"`
	}
	var raw string
	if err := db.QueryRow(ctx, `SELECT data FROM subscriptions WHERE id = ?`, sub.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		t.Fatal(err)
	}
	open := func(sealed, context, want string) {
		t.Helper()
		if got, err := sealer.Open(sealed, context); err != nil || got != want {
			t.Errorf("open with %q = %q, %v; want %q", context, got, err, want)
		}
	}
	open(data.Secrets[0].Value, sub.ID+"/secrets", sub.Secrets[0].Value)
	open(data.Headers["Authorization"], sub.ID+"/headers/Authorization", sub.Headers["Authorization"])
	open(data.BasicAuth.Password, sub.ID+"/basicAuth.password", sub.BasicAuth.Password)
	open(data.OAuth2.ClientSecret, sub.ID+"/oauth2.clientSecret", sub.OAuth2.ClientSecret)
	if err := db.QueryRow(ctx, `SELECT data FROM trusted_sites WHERE id = ?`, site.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	data.Headers = nil
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		t.Fatal(err)
	}
	open(data.Headers["X-Api-Key"], site.ID+"/headers.X-Api-Key", site.Headers["X-Api-Key"])
}

// A store opened without the master key (a CLI command deleting a
// principal) still disables an owner's subscriptions, counts and
// versions them.
func TestSubscriptionsWithoutSealer(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	sub := storetest.FullSubscription("client:a", "https://example.com/hook")
	if _, _, err := sqlite.NewSubscriptionStore(db, mustSealer(t)).Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	bare := sqlite.NewSubscriptionStore(db, nil)
	if n, err := bare.DisableOwned(ctx, "client:a", "owner deleted"); err != nil || n != 1 {
		t.Fatalf("DisableOwned without a sealer = %d, %v", n, err)
	}
	if on, off, err := bare.CountByState(ctx); err != nil || on != 0 || off != 1 {
		t.Errorf("CountByState = %d, %d, %v", on, off, err)
	}
	if v, err := bare.Version(ctx); err != nil || v != 2 {
		t.Errorf("Version = %d, %v; want 2", v, err)
	}
}
