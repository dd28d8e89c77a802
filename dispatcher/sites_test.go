package dispatcher_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func siteStore(t *testing.T) *mongodb.TrustedSiteStore {
	t.Helper()
	key, _ := jqlgate.GenerateKey()
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return mongodb.NewTrustedSiteStore(mongotest.New(t), sealer)
}

func password(r received) string {
	_, pw, _ := (&http.Request{Header: r.Header}).BasicAuth()
	return pw
}

// A site changed by another process (written to the store without telling
// this dispatcher) reaches its subscriptions' deliveries after the version
// poll; the change in this process (SiteChanged) at once.
func TestTrustedSiteRefreshedOnVersionPoll(t *testing.T) {
	ctx := context.Background()
	sites := siteStore(t)
	rc := newReceiver(t, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	site := &jqlgate.TrustedSite{Owner: "o", Name: "crm", BaseURL: rc.URL, CreatedAt: now, UpdatedAt: now,
		BasicAuth: &jqlgate.BasicAuth{Username: "hook", Password: "one"}}
	if err := sites.Create(ctx, site); err != nil {
		t.Fatal(err)
	}
	s := sub("sub_1", "profile.Customer:create", rc.URL+"/a")
	s.TrustedSite = site.ID
	src := newSource(s)
	e := start(t, src, dispatcher.Config{Sites: sites})

	publish(t, e, event("profile.Customer:create", "c1", nil))
	if pw := password(rc.next(t)); pw != "one" {
		t.Fatalf("first delivery password %q, want one", pw)
	}

	// Another process changes the site and bumps the version.
	site.BasicAuth.Password, site.UpdatedAt = "two", now.Add(time.Second)
	if err := sites.Update(ctx, site); err != nil {
		t.Fatal(err)
	}
	src.put(s)
	deadline := time.Now().Add(10 * time.Second)
	for pw := ""; pw != "two"; {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still carry %q 10s after the site changed elsewhere", pw)
		}
		time.Sleep(100 * time.Millisecond)
		publish(t, e, event("profile.Customer:create", "c2", nil))
		pw = password(rc.next(t))
	}

	// This process changes it: the next delivery has it.
	site.BasicAuth.Password, site.UpdatedAt = "three", now.Add(2*time.Second)
	if err := sites.Update(ctx, site); err != nil {
		t.Fatal(err)
	}
	if err := e.d.SiteChanged(ctx, site.ID); err != nil {
		t.Fatal(err)
	}
	publish(t, e, event("profile.Customer:create", "c3", nil))
	if pw := password(rc.next(t)); pw != "three" {
		t.Fatalf("delivery after SiteChanged carried %q, want three", pw)
	}
}
