package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
)

// AuthStore is every method the auth stores of both adapters have: what
// auth keeps, and what serve and the CLI add (users by id, permission and
// secret changes, the principals version).
type AuthStore interface {
	auth.Store
	User(ctx context.Context, id string) (*jqlgate.User, error)
	SetClientPermissions(ctx context.Context, id string, perms []string) error
	SetAPIKeyPermissions(ctx context.Context, id string, perms []string) error
	SetAPIKeyHash(ctx context.Context, id string, hash []byte) error
	SetUserPermissions(ctx context.Context, id string, perms []string) error
	SetUserPassword(ctx context.Context, id string, hash []byte) error
	Version(ctx context.Context) (int64, error)
}

// Auth runs the auth store contract; open returns a store over a fresh,
// empty database.
func Auth(t *testing.T, open func(t *testing.T) AuthStore) {
	t.Run("Clients", func(t *testing.T) { authClients(t, open(t)) })
	t.Run("APIKeys", func(t *testing.T) { authAPIKeys(t, open(t)) })
	t.Run("Users", func(t *testing.T) { authUsers(t, open(t)) })
	t.Run("SigningKeys", func(t *testing.T) { authSigningKeys(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { authNotFound(t, open(t)) })
	t.Run("Version", func(t *testing.T) { authVersion(t, open(t)) })
	t.Run("CredentialsVersion", func(t *testing.T) { authCredentialsVersion(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { authSessions(t, open(t)) })
	t.Run("RevokedTokens", func(t *testing.T) { authRevokedTokens(t, open(t)) })
}

func authClients(t *testing.T, s AuthStore) {
	ctx := context.Background()
	// In the past, so that a change's updatedAt is after it.
	base := subTime().Add(-time.Minute)
	// Created out of order: the list is by creation time.
	late := &jqlgate.Client{ID: "cl_late", Name: "late", SecretHash: []byte("hash-late"), Permissions: []string{"profile.*"},
		CreatedAt: base.Add(2 * time.Second), UpdatedAt: base.Add(2 * time.Second)}
	early := &jqlgate.Client{ID: "cl_early", Name: "early", SecretHash: []byte("hash-early"), Permissions: []string{"a", "b:read"},
		CreatedAt: base, UpdatedAt: base}
	for _, c := range []*jqlgate.Client{late, early} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient %s: %v", c.ID, err)
		}
	}
	got, err := s.Client(ctx, "cl_early")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(early, got); d != "" {
		t.Errorf("Client (-want +got):\n%s", d)
	}
	list, err := s.Clients(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Clients = %d, %v", len(list), err)
	}
	if d := cmp.Diff([]*jqlgate.Client{early, late}, list); d != "" {
		t.Errorf("Clients, oldest first (-want +got):\n%s", d)
	}
	dup := *early
	dup.Name = "dup"
	wantErrCode(t, "CreateClient of a taken id", s.CreateClient(ctx, &dup), jqlgate.ECONFLICT)
	if got, _ := s.Client(ctx, "cl_early"); got.Name != "early" {
		t.Errorf("a refused CreateClient changed the client: %+v", got)
	}

	if err := s.SetClientSecret(ctx, "cl_early", []byte("hash-rotated")); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Client(ctx, "cl_early")
	if string(got.SecretHash) != "hash-rotated" || !got.UpdatedAt.After(base) || !got.CreatedAt.Equal(base) {
		t.Errorf("after SetClientSecret: %+v", got)
	}
	if err := s.SetClientPermissions(ctx, "cl_early", []string{"x:write"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Client(ctx, "cl_early")
	if !slices.Equal(got.Permissions, []string{"x:write"}) || string(got.SecretHash) != "hash-rotated" {
		t.Errorf("after SetClientPermissions: %+v", got)
	}
	if err := s.SetClientPermissions(ctx, "cl_early", []string{}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Client(ctx, "cl_early"); len(got.Permissions) != 0 {
		t.Errorf("permissions after clearing = %v", got.Permissions)
	}
	if other, _ := s.Client(ctx, "cl_late"); !slices.Equal(other.Permissions, []string{"profile.*"}) || string(other.SecretHash) != "hash-late" {
		t.Errorf("changing one client changed another: %+v", other)
	}

	if err := s.DeleteClient(ctx, "cl_early"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Client(ctx, "cl_early")
	wantErrCode(t, "Client after DeleteClient", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "second DeleteClient", s.DeleteClient(ctx, "cl_early"), jqlgate.ENOTFOUND)
	if list, _ := s.Clients(ctx); len(list) != 1 || list[0].ID != "cl_late" {
		t.Errorf("Clients after DeleteClient = %v", list)
	}
}

func authAPIKeys(t *testing.T, s AuthStore) {
	ctx := context.Background()
	base := subTime()
	late := &jqlgate.APIKey{ID: "ak_late", Name: "late", Hash: []byte("h-late"), Permissions: []string{"p"}, CreatedAt: base.Add(time.Second)}
	early := &jqlgate.APIKey{ID: "ak_early", Name: "early", Hash: []byte("h-early"), Permissions: []string{"q", "r"}, CreatedAt: base}
	for _, k := range []*jqlgate.APIKey{late, early} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey %s: %v", k.ID, err)
		}
	}
	got, err := s.APIKey(ctx, "ak_early")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(early, got); d != "" {
		t.Errorf("APIKey (-want +got):\n%s", d)
	}
	list, err := s.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]*jqlgate.APIKey{early, late}, list); d != "" {
		t.Errorf("APIKeys, oldest first (-want +got):\n%s", d)
	}
	wantErrCode(t, "CreateAPIKey of a taken id", s.CreateAPIKey(ctx, &jqlgate.APIKey{ID: "ak_early", Name: "x", CreatedAt: base}), jqlgate.ECONFLICT)

	if err := s.SetAPIKeyHash(ctx, "ak_early", []byte("h-rotated")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAPIKeyPermissions(ctx, "ak_early", []string{"s"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.APIKey(ctx, "ak_early")
	if string(got.Hash) != "h-rotated" || !slices.Equal(got.Permissions, []string{"s"}) || got.Name != "early" || !got.CreatedAt.Equal(base) {
		t.Errorf("after SetAPIKeyHash and SetAPIKeyPermissions: %+v", got)
	}
	if other, _ := s.APIKey(ctx, "ak_late"); string(other.Hash) != "h-late" || !slices.Equal(other.Permissions, []string{"p"}) {
		t.Errorf("changing one key changed another: %+v", other)
	}
	if err := s.DeleteAPIKey(ctx, "ak_early"); err != nil {
		t.Fatal(err)
	}
	_, err = s.APIKey(ctx, "ak_early")
	wantErrCode(t, "APIKey after DeleteAPIKey", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "second DeleteAPIKey", s.DeleteAPIKey(ctx, "ak_early"), jqlgate.ENOTFOUND)
	if list, _ := s.APIKeys(ctx); len(list) != 1 || list[0].ID != "ak_late" {
		t.Errorf("APIKeys after DeleteAPIKey = %v", list)
	}
}

func authUsers(t *testing.T, s AuthStore) {
	ctx := context.Background()
	base := subTime()
	late := &jqlgate.User{ID: "us_late", Username: "zed", PasswordHash: []byte("pw-zed"), Permissions: []string{"p"}, CreatedAt: base.Add(time.Second)}
	early := &jqlgate.User{ID: "us_early", Username: "amy", PasswordHash: []byte("pw-amy"), Permissions: []string{"q"}, CreatedAt: base}
	for _, u := range []*jqlgate.User{late, early} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser %s: %v", u.ID, err)
		}
	}
	for name, read := range map[string]func() (*jqlgate.User, error){
		"User":           func() (*jqlgate.User, error) { return s.User(ctx, "us_early") },
		"UserByUsername": func() (*jqlgate.User, error) { return s.UserByUsername(ctx, "amy") },
	} {
		got, err := read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(early, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	list, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]*jqlgate.User{early, late}, list); d != "" {
		t.Errorf("Users, oldest first (-want +got):\n%s", d)
	}
	taken := &jqlgate.User{ID: "us_other", Username: "amy", PasswordHash: []byte("x"), CreatedAt: base}
	wantErrCode(t, "CreateUser of a taken username", s.CreateUser(ctx, taken), jqlgate.ECONFLICT)
	_, err = s.User(ctx, "us_other")
	wantErrCode(t, "the refused user", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "CreateUser of a taken id", s.CreateUser(ctx, &jqlgate.User{ID: "us_early", Username: "new", CreatedAt: base}), jqlgate.ECONFLICT)
	_, err = s.UserByUsername(ctx, "Amy")
	wantErrCode(t, "UserByUsername in another case", err, jqlgate.ENOTFOUND)

	if err := s.SetUserPassword(ctx, "us_early", []byte("pw-new")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserPermissions(ctx, "us_early", []string{"r", "s"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.UserByUsername(ctx, "amy")
	if string(got.PasswordHash) != "pw-new" || !slices.Equal(got.Permissions, []string{"r", "s"}) || got.ID != "us_early" {
		t.Errorf("after SetUserPassword and SetUserPermissions: %+v", got)
	}
	if other, _ := s.User(ctx, "us_late"); string(other.PasswordHash) != "pw-zed" || !slices.Equal(other.Permissions, []string{"p"}) {
		t.Errorf("changing one user changed another: %+v", other)
	}
	if err := s.DeleteUser(ctx, "us_early"); err != nil {
		t.Fatal(err)
	}
	_, err = s.UserByUsername(ctx, "amy")
	wantErrCode(t, "UserByUsername after DeleteUser", err, jqlgate.ENOTFOUND)
	wantErrCode(t, "second DeleteUser", s.DeleteUser(ctx, "us_early"), jqlgate.ENOTFOUND)
	// The username is free again.
	if err := s.CreateUser(ctx, taken); err != nil {
		t.Errorf("CreateUser of a deleted user's username: %v", err)
	}
}

func authSigningKeys(t *testing.T, s AuthStore) {
	ctx := context.Background()
	base := subTime()
	retired := base.Add(time.Hour)
	keys := []*jqlgate.SigningKey{
		{ID: "key_old", Algorithm: "ES256", PrivateKey: []byte("sealed-private-old"), Encrypted: true, PublicKey: []byte("pub-old"),
			CreatedAt: base.Add(-2 * time.Hour), NotAfter: retired},
		{ID: "key_mid", Algorithm: "ES256", PrivateKey: []byte("private-mid"), PublicKey: []byte("pub-mid"), CreatedAt: base.Add(-time.Hour)},
		{ID: "key_new", Algorithm: "ES256", PrivateKey: []byte("private-new"), PublicKey: []byte("pub-new"), CreatedAt: base},
	}
	for _, i := range []int{2, 0, 1} {
		if err := s.CreateSigningKey(ctx, keys[i]); err != nil {
			t.Fatalf("CreateSigningKey %s: %v", keys[i].ID, err)
		}
	}
	got, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(keys, got); d != "" {
		t.Errorf("SigningKeys, oldest first (-want +got):\n%s", d)
	}
	wantErrCode(t, "CreateSigningKey of a taken id", s.CreateSigningKey(ctx, &jqlgate.SigningKey{ID: "key_new", Algorithm: "ES256", CreatedAt: base}), jqlgate.ECONFLICT)

	// Retiring keeps one key signing; a key already retired keeps its time.
	notAfter := base.Add(30 * time.Minute)
	if err := s.RetireSigningKeys(ctx, "key_new", notAfter); err != nil {
		t.Fatal(err)
	}
	got, _ = s.SigningKeys(ctx)
	want := map[string]time.Time{"key_old": retired, "key_mid": notAfter, "key_new": {}}
	for _, k := range got {
		if !k.NotAfter.Equal(want[k.ID]) {
			t.Errorf("%s notAfter = %v, want %v", k.ID, k.NotAfter, want[k.ID])
		}
	}
	// Retiring again, for a newer key, retires the one that was kept.
	next := &jqlgate.SigningKey{ID: "key_next", Algorithm: "ES256", PrivateKey: []byte("p"), PublicKey: []byte("q"), CreatedAt: base.Add(time.Minute)}
	if err := s.CreateSigningKey(ctx, next); err != nil {
		t.Fatal(err)
	}
	later := base.Add(2 * time.Hour)
	if err := s.RetireSigningKeys(ctx, "key_next", later); err != nil {
		t.Fatal(err)
	}
	got, _ = s.SigningKeys(ctx)
	want["key_new"], want["key_next"] = later, time.Time{}
	if len(got) != 4 {
		t.Fatalf("SigningKeys = %d, want 4", len(got))
	}
	for _, k := range got {
		if !k.NotAfter.Equal(want[k.ID]) {
			t.Errorf("after the second retirement %s notAfter = %v, want %v", k.ID, k.NotAfter, want[k.ID])
		}
	}
}

func authNotFound(t *testing.T, s AuthStore) {
	ctx := context.Background()
	_, err := s.Client(ctx, "cl_missing")
	wantErrCode(t, "Client", err, jqlgate.ENOTFOUND)
	_, err = s.APIKey(ctx, "ak_missing")
	wantErrCode(t, "APIKey", err, jqlgate.ENOTFOUND)
	_, err = s.User(ctx, "us_missing")
	wantErrCode(t, "User", err, jqlgate.ENOTFOUND)
	_, err = s.UserByUsername(ctx, "nobody")
	wantErrCode(t, "UserByUsername", err, jqlgate.ENOTFOUND)
	for name, err := range map[string]error{
		"DeleteClient":         s.DeleteClient(ctx, "cl_missing"),
		"DeleteAPIKey":         s.DeleteAPIKey(ctx, "ak_missing"),
		"DeleteUser":           s.DeleteUser(ctx, "us_missing"),
		"SetClientSecret":      s.SetClientSecret(ctx, "cl_missing", []byte("h")),
		"SetClientPermissions": s.SetClientPermissions(ctx, "cl_missing", []string{"a"}),
		"SetAPIKeyHash":        s.SetAPIKeyHash(ctx, "ak_missing", []byte("h")),
		"SetAPIKeyPermissions": s.SetAPIKeyPermissions(ctx, "ak_missing", []string{"a"}),
		"SetUserPassword":      s.SetUserPassword(ctx, "us_missing", []byte("h")),
		"SetUserPermissions":   s.SetUserPermissions(ctx, "us_missing", []string{"a"}),
		"EndUserSessions":      s.EndUserSessions(ctx, "us_missing"),
	} {
		wantErrCode(t, name, err, jqlgate.ENOTFOUND)
	}
	if err := s.RetireSigningKeys(ctx, "key_missing", subTime()); err != nil {
		t.Errorf("RetireSigningKeys with no key: %v", err)
	}
	for name, n := range map[string]func() (int, error){
		"Clients":     func() (int, error) { l, err := s.Clients(ctx); return len(l), err },
		"APIKeys":     func() (int, error) { l, err := s.APIKeys(ctx); return len(l), err },
		"Users":       func() (int, error) { l, err := s.Users(ctx); return len(l), err },
		"SigningKeys": func() (int, error) { l, err := s.SigningKeys(ctx); return len(l), err },
	} {
		if got, err := n(); err != nil || got != 0 {
			t.Errorf("%s of an empty store = %d, %v", name, got, err)
		}
	}
	if v, err := s.Version(ctx); err != nil || v != 0 {
		t.Errorf("Version of an empty store = %d, %v; want 0 (failed writes bump nothing)", v, err)
	}
	if v, err := s.CredentialsVersion(ctx); err != nil || v != 0 {
		t.Errorf("CredentialsVersion of an empty store = %d, %v; want 0 (failed writes bump nothing)", v, err)
	}
	if m, err := s.RevokedTokens(ctx, subTime()); err != nil || len(m) != 0 {
		t.Errorf("RevokedTokens of an empty store = %v, %v", m, err)
	}
}

// The principals version moves by one on every deletion and permission
// change, and on nothing else.
func authVersion(t *testing.T, s AuthStore) {
	ctx := context.Background()
	step := versionSteps(t, "principals version", s.Version)
	now := subTime()
	step("CreateClient", false, func() error {
		return s.CreateClient(ctx, &jqlgate.Client{ID: "cl_1", Name: "c", SecretHash: []byte("h"), CreatedAt: now, UpdatedAt: now})
	})
	step("CreateAPIKey", false, func() error {
		return s.CreateAPIKey(ctx, &jqlgate.APIKey{ID: "ak_1", Name: "k", Hash: []byte("h"), CreatedAt: now})
	})
	step("CreateUser", false, func() error {
		return s.CreateUser(ctx, &jqlgate.User{ID: "us_1", Username: "u", PasswordHash: []byte("h"), CreatedAt: now})
	})
	step("SetClientSecret", false, func() error { return s.SetClientSecret(ctx, "cl_1", []byte("h2")) })
	step("SetAPIKeyHash", false, func() error { return s.SetAPIKeyHash(ctx, "ak_1", []byte("h2")) })
	step("SetUserPassword", false, func() error { return s.SetUserPassword(ctx, "us_1", []byte("h2")) })
	step("SetClientPermissions", true, func() error { return s.SetClientPermissions(ctx, "cl_1", []string{"a"}) })
	step("SetAPIKeyPermissions", true, func() error { return s.SetAPIKeyPermissions(ctx, "ak_1", []string{"a"}) })
	step("SetUserPermissions", true, func() error { return s.SetUserPermissions(ctx, "us_1", []string{"a"}) })
	step("SetUserPermissions of a missing user", false, func() error { return s.SetUserPermissions(ctx, "us_missing", []string{"a"}) })
	step("DeleteClient", true, func() error { return s.DeleteClient(ctx, "cl_1") })
	step("DeleteAPIKey", true, func() error { return s.DeleteAPIKey(ctx, "ak_1") })
	step("DeleteUser", true, func() error { return s.DeleteUser(ctx, "us_1") })
	step("DeleteUser again", false, func() error { return s.DeleteUser(ctx, "us_1") })
}

// The credentials version moves by one on every change an authenticator
// must honour: what moves the principals version, and a new API key
// secret, password or session version, and a revoked token.
func authCredentialsVersion(t *testing.T, s AuthStore) {
	ctx := context.Background()
	step := versionSteps(t, "credentials version", s.CredentialsVersion)
	now := subTime()
	step("CreateClient", false, func() error {
		return s.CreateClient(ctx, &jqlgate.Client{ID: "cl_1", Name: "c", SecretHash: []byte("h"), CreatedAt: now, UpdatedAt: now})
	})
	step("CreateAPIKey", false, func() error {
		return s.CreateAPIKey(ctx, &jqlgate.APIKey{ID: "ak_1", Name: "k", Hash: []byte("h"), CreatedAt: now})
	})
	step("CreateUser", false, func() error {
		return s.CreateUser(ctx, &jqlgate.User{ID: "us_1", Username: "u", PasswordHash: []byte("h"), CreatedAt: now})
	})
	step("SetClientSecret", false, func() error { return s.SetClientSecret(ctx, "cl_1", []byte("h2")) })
	step("SetAPIKeyHash", true, func() error { return s.SetAPIKeyHash(ctx, "ak_1", []byte("h2")) })
	step("SetUserPassword", true, func() error { return s.SetUserPassword(ctx, "us_1", []byte("h2")) })
	step("EndUserSessions", true, func() error { return s.EndUserSessions(ctx, "us_1") })
	step("EndUserSessions of a missing user", false, func() error { return s.EndUserSessions(ctx, "us_missing") })
	step("RevokeToken", true, func() error { return s.RevokeToken(ctx, "jti_1", time.Now().Add(time.Hour)) })
	step("SetClientPermissions", true, func() error { return s.SetClientPermissions(ctx, "cl_1", []string{"a"}) })
	step("SetAPIKeyPermissions", true, func() error { return s.SetAPIKeyPermissions(ctx, "ak_1", []string{"a"}) })
	step("SetUserPermissions", true, func() error { return s.SetUserPermissions(ctx, "us_1", []string{"a"}) })
	step("DeleteClient", true, func() error { return s.DeleteClient(ctx, "cl_1") })
	step("DeleteAPIKey", true, func() error { return s.DeleteAPIKey(ctx, "ak_1") })
	step("DeleteUser", true, func() error { return s.DeleteUser(ctx, "us_1") })
	step("DeleteUser again", false, func() error { return s.DeleteUser(ctx, "us_1") })
}

// A user's session version starts where it was created and moves by one
// with every password change, permission change and EndUserSessions, of
// that user only.
func authSessions(t *testing.T, s AuthStore) {
	ctx := context.Background()
	base := subTime()
	for _, u := range []*jqlgate.User{
		{ID: "us_a", Username: "a", PasswordHash: []byte("h"), CreatedAt: base},
		{ID: "us_b", Username: "b", PasswordHash: []byte("h"), CreatedAt: base, SessionVersion: 7},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	session := func(id string) int64 {
		t.Helper()
		u, err := s.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.SessionVersion
	}
	if got := session("us_b"); got != 7 {
		t.Errorf("created with session version 7, read %d", got)
	}
	for i, change := range []func() error{
		func() error { return s.SetUserPassword(ctx, "us_a", []byte("h2")) },
		func() error { return s.SetUserPermissions(ctx, "us_a", []string{"x"}) },
		func() error { return s.EndUserSessions(ctx, "us_a") },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if got := session("us_a"); got != int64(i+1) {
			t.Errorf("after change %d the session version is %d, want %d", i+1, got, i+1)
		}
	}
	if u, _ := s.UserByUsername(ctx, "a"); u.SessionVersion != 3 {
		t.Errorf("UserByUsername reads session version %d, want 3", u.SessionVersion)
	}
	if got := session("us_b"); got != 7 {
		t.Errorf("changing another user moved this one's session version to %d", got)
	}
}

// Revoked tokens are read back until they expire; revoking one again keeps
// the later expiry; a revocation forgets the expired ones.
func authRevokedTokens(t *testing.T, s AuthStore) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	hour, minute := now.Add(time.Hour), now.Add(time.Minute)
	for _, r := range []struct {
		jti string
		exp time.Time
	}{{"jti_a", hour}, {"jti_b", minute}, {"jti_a", minute}, {"jti_old", now.Add(-time.Second)}} {
		if err := s.RevokeToken(ctx, r.jti, r.exp); err != nil {
			t.Fatalf("RevokeToken %s: %v", r.jti, err)
		}
	}
	got, err := s.RevokedTokens(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["jti_a"].Equal(hour) || !got["jti_b"].Equal(minute) {
		t.Errorf("RevokedTokens = %v, want jti_a until %v and jti_b until %v", got, hour, minute)
	}
	if got, _ := s.RevokedTokens(ctx, now.Add(2*time.Minute)); len(got) != 1 || !got["jti_a"].Equal(hour) {
		t.Errorf("RevokedTokens two minutes on = %v, want only jti_a", got)
	}
}
