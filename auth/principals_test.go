package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
)

// poll is the Principals poll of these tests: what another process's
// change takes to be honoured.
const poll = 50 * time.Millisecond

// withPrincipals makes e act with every principal's current state, as
// serve does, polling the store every poll.
func withPrincipals(e *env) *env {
	p := &auth.Principals{Store: e.store, Poll: poll}
	e.principals = p
	e.authn.Principals, e.server.Principals, e.users.Principals = p, p, p
	e.http.Config.Handler = e.server.Handler()
	return e
}

// otherProcess is a second serve process on e's store: its own caches.
func otherProcess(e *env) *auth.Authenticator {
	tokens := &auth.Tokens{Keys: &auth.KeySet{Store: e.store}, Issuer: e.tokens.Issuer, Audience: e.tokens.Audience}
	return &auth.Authenticator{Tokens: tokens, APIKeys: e.store, Principals: &auth.Principals{Store: e.store, Poll: poll}}
}

// refused reports whether authn refuses tok of class within a few polls.
func refused(t *testing.T, authn *auth.Authenticator, class, tok string) bool {
	t.Helper()
	deadline := time.Now().Add(20 * poll)
	for {
		_, err := authn.Authenticate(context.Background(), class, tok)
		if jqlgate.ErrorCode(err) == jqlgate.EUNAUTHORIZED {
			return true
		}
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(poll / 5)
	}
}

func mustAuth(t *testing.T, authn *auth.Authenticator, class, tok string) *jqlgate.Principal {
	t.Helper()
	p, err := authn.Authenticate(context.Background(), class, tok)
	if err != nil {
		t.Fatalf("authenticate %s: %v", class, err)
	}
	return p
}

// A deleted client's access token stops working in every process: in the
// one that deleted it at once, in another within its poll. Before, it
// kept its scope ("*": every admin intent) until it expired.
func TestPrincipalsDeletedClientRefused(t *testing.T) {
	e := withPrincipals(newEnv(t))
	other := otherProcess(e)
	cfg := e.client(t, "*")
	tok := e.token(t, cfg)
	mustAuth(t, e.authn, jqlgate.AuthOAuth2, tok)
	mustAuth(t, other, jqlgate.AuthOAuth2, tok)
	if err := e.store.DeleteClient(context.Background(), cfg.ClientID); err != nil {
		t.Fatal(err)
	}
	e.authn.Changed() // what serve's admin intents do after a change
	if _, err := e.authn.Authenticate(context.Background(), jqlgate.AuthOAuth2, tok); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("the deleting process, at once: got %v, want EUNAUTHORIZED", err)
	}
	if !refused(t, other, jqlgate.AuthOAuth2, tok) {
		t.Errorf("another process still accepts the deleted client's token after %s", 20*poll)
	}
}

// A narrowed client's token grants only what the client still holds, and
// never more than the token was issued with.
func TestPrincipalsNarrowedClient(t *testing.T) {
	e := withPrincipals(newEnv(t))
	ctx := context.Background()
	cfg := e.client(t, "*")
	all := e.token(t, cfg)
	cfg.Scopes = []string{"profile.Customer:*", "system.Webhook:listWebhooks"}
	some := e.token(t, cfg)
	if err := e.store.SetClientPermissions(ctx, cfg.ClientID, []string{"profile.Customer:retrieve", "system.Webhook:*"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * poll)
	p := mustAuth(t, e.authn, jqlgate.AuthOAuth2, all)
	if p.Can("system.Client", "createClient") || p.Can("profile.Customer", "create") || !p.Can("profile.Customer", "retrieve") || !p.Can("system.Webhook", "subscribeToWebhook") {
		t.Errorf("the * token of a narrowed client has %v, want exactly the client's new permissions", p.Permissions)
	}
	p = mustAuth(t, e.authn, jqlgate.AuthOAuth2, some)
	if p.Can("profile.Customer", "create") || !p.Can("profile.Customer", "retrieve") || !p.Can("system.Webhook", "listWebhooks") || p.Can("system.Webhook", "subscribeToWebhook") {
		t.Errorf("a narrower token of a narrowed client has %v, want profile.Customer:retrieve system.Webhook:listWebhooks", p.Permissions)
	}
	// Introspection says the same.
	_, body := post(t, e, "/oauth2/introspect", map[string][]string{"token": {all}}, cfg.ClientID, cfg.ClientSecret)
	if body["active"] != true || body["scope"] != "profile.Customer:retrieve system.Webhook:*" {
		t.Errorf("introspection of the * token: %v, want active with the client's new permissions", body)
	}
}

// A user's token stops working when the user is deleted, their password or
// permissions change, or they sign out (EndSessions); another user's token
// is not affected.
func TestPrincipalsUserSessionEnds(t *testing.T) {
	e := withPrincipals(newEnv(t))
	other := otherProcess(e)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(id string) error
	}{
		{"deleted", func(id string) error { return e.store.DeleteUser(ctx, id) }},
		{"new password", func(id string) error { return e.users.SetPassword(ctx, e.store, id, "another horse") }},
		{"new permissions", func(id string) error { return e.store.SetUserPermissions(ctx, id, []string{"*"}) }},
		{"signed out", func(id string) error { return e.users.EndSessions(ctx, id) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := e.users.Create(ctx, "u"+jqlgate.NewID("")[1:9], "correct horse", "*")
			if err != nil {
				t.Fatal(err)
			}
			bystander, err := e.users.Create(ctx, "b"+jqlgate.NewID("")[1:9], "correct horse", "*")
			if err != nil {
				t.Fatal(err)
			}
			login, err := e.users.Login(ctx, u.Username, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			keep, err := e.users.Login(ctx, bystander.Username, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			mustAuth(t, other, jqlgate.AuthJWT, login.Token)
			if err := tc.change(u.ID); err != nil {
				t.Fatal(err)
			}
			if !refused(t, other, jqlgate.AuthJWT, login.Token) {
				t.Errorf("the user token still works in another process after %s", 20*poll)
			}
			mustAuth(t, other, jqlgate.AuthJWT, keep.Token)
		})
	}
	// Signing in again after signing out works.
	if _, err := e.users.Create(ctx, "ada", "correct horse", "*"); err != nil {
		t.Fatal(err)
	}
	first, _ := e.users.Login(ctx, "ada", "correct horse")
	if err := e.users.EndSessions(ctx, first.UserID); err != nil {
		t.Fatal(err)
	}
	again, err := e.users.Login(ctx, "ada", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	mustAuth(t, e.authn, jqlgate.AuthJWT, again.Token)
	if _, err := e.authn.Authenticate(ctx, jqlgate.AuthJWT, first.Token); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Errorf("the token from before signing out, in the same process: got %v, want EUNAUTHORIZED at once", err)
	}
}

// A deleted or narrowed API key is honoured within the poll (it was
// trusted for up to 10 s from a cache).
func TestPrincipalsAPIKey(t *testing.T) {
	e := withPrincipals(newEnv(t))
	e.authn.APIKeyCacheTTL = time.Hour // not used with Principals
	ctx := context.Background()
	key, rec, err := auth.CreateAPIKey(ctx, e.store, "ci", "profile.Customer:*")
	if err != nil {
		t.Fatal(err)
	}
	mustAuth(t, e.authn, jqlgate.AuthAPIKey, key)
	if err := e.store.SetAPIKeyPermissions(ctx, rec.ID, []string{"profile.Customer:retrieve"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * poll)
	if p := mustAuth(t, e.authn, jqlgate.AuthAPIKey, key); p.Can("profile.Customer", "create") {
		t.Errorf("narrowed API key has %v", p.Permissions)
	}
	if err := e.store.DeleteAPIKey(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if !refused(t, e.authn, jqlgate.AuthAPIKey, key) {
		t.Errorf("a deleted API key still works after %s", 20*poll)
	}
}
