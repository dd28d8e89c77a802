package test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// Operations: credentials are managed while serve runs, through the
// system.Client, system.ApiKey and system.User admin intents or the CLI
// with --url; the CLI makes no store by accident; the bootstrap secret
// follows the environment; every command and action has --help.

// admin calls namespace intent with tok and the fields.
func (p *proc) admin(tok, namespace, intent string, fields map[string]any) answer {
	p.t.Helper()
	body := map[string]any{"__meta__": meta(namespace, "controller", intent, tok)}
	for k, v := range fields {
		body[k] = v
	}
	return p.jql(body)
}

// tokenErr tries to get a token and returns the error.
func (p *proc) tokenErr(id, secret string) error {
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: p.URL + "/oauth2/token"}
	_, err := cfg.Token(context.Background())
	return err
}

// runJqlgate runs `jqlgate args...` in dir with env and returns its exit
// code and output, for the commands whose failure is the point.
func runJqlgate(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("jqlgate %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

func TestOpsAdminIntentsOverHTTP(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	admin := p.token(adminID, adminSecret)

	// A client created through the API gets a token at once; its secret
	// is in the create answer only, which no cache may keep.
	var c struct {
		ID, ClientID, ClientSecret, Scope string
	}
	a := p.admin(admin, "system.Client", "createClient", map[string]any{"name": "subscriber", "scope": "system.Webhook:* system.Webhook:privateTargets profile.Customer:*"}).must(t)
	a.decode(t, &c)
	if c.ID == "" || c.ClientID != c.ID || len(c.ClientSecret) != 64 || c.Scope != "system.Webhook:* system.Webhook:privateTargets profile.Customer:*" {
		t.Fatalf("createClient answered %s", a.Data)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("createClient Cache-Control = %q, want no-store", cc)
	}
	subTok := p.token(c.ID, c.ClientSecret)
	l := p.admin(admin, "system.Client", "listClients", nil).must(t)
	if !strings.Contains(l.Raw, c.ID) || strings.Contains(l.Raw, c.ClientSecret) || l.Extras["filtered"] != 2 {
		t.Errorf("listClients = %s, want both clients and never a secret", l.Raw)
	}

	// Its subscription delivers until the client is deleted through the
	// API, which disables it ("owner deleted") and stops its deliveries.
	mine, control := newReceiver(), newReceiver()
	srvMine, srvControl := httptest.NewServer(mine), httptest.NewServer(control)
	defer srvMine.Close()
	defer srvControl.Close()
	subID, _ := subscribeCustomers(t, p, subTok, srvMine.URL)
	subscribeCustomers(t, p, admin, srvControl.URL)
	revokeCustomer(t, p, admin, "Ada")
	mine.waitFor(t, 1, 30*time.Second)
	control.waitFor(t, 1, 30*time.Second)

	var del struct {
		ID       string
		Deleted  bool
		Disabled int `json:"subscriptionsDisabled"`
	}
	p.admin(admin, "system.Client", "deleteClient", map[string]any{"id": c.ID}).must(t).decode(t, &del)
	if del.ID != c.ID || !del.Deleted || del.Disabled != 1 {
		t.Errorf("deleteClient answered %+v, want 1 subscription disabled", del)
	}
	revokeCustomer(t, p, admin, "Grace")
	control.waitFor(t, 2, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := mine.count(); n != 1 {
		t.Errorf("the deleted client's receiver got %d webhooks, want 1 (none after the deletion)", n)
	}
	ol, rows := operatorList(t, p, admin, "client:"+c.ID)
	ol.must(t)
	if len(rows) != 1 || rows[0]["id"] != subID || rows[0]["enabled"] != false || rows[0]["disabledReason"] != "owner deleted" {
		t.Errorf("the deleted client's subscriptions = %s, want %s disabled, \"owner deleted\"", ol.Data, subID)
	}
	if err := p.tokenErr(c.ID, c.ClientSecret); err == nil {
		t.Error("a deleted client still gets tokens")
	}

	// Rotating a client secret: the new one works, the old one fails.
	var r struct{ ID, ClientSecret string }
	p.admin(admin, "system.Client", "createClient", map[string]any{"name": "rotated", "scope": "profile.Customer:retrieve"}).must(t).decode(t, &r)
	old := r.ClientSecret
	p.admin(admin, "system.Client", "rotateClientSecret", map[string]any{"id": r.ID}).must(t).decode(t, &r)
	if r.ClientSecret == old || p.tokenErr(r.ID, old) == nil {
		t.Error("the old secret still works after rotateClientSecret")
	}
	p.token(r.ID, r.ClientSecret)

	// updateClient replaces the permissions.
	var u struct{ Scope string }
	p.admin(admin, "system.Client", "updateClient", map[string]any{"id": r.ID, "scope": "profile.Customer:*"}).must(t).decode(t, &u)
	if u.Scope != "profile.Customer:*" {
		t.Errorf("updateClient answered scope %q", u.Scope)
	}

	// API keys: created, used, rotated (the old key fails at once in this
	// process), deleted.
	var k struct{ ID, APIKey string }
	p.admin(admin, "system.ApiKey", "createApiKey", map[string]any{"name": "ci", "scope": "system.Webhook:listWebhooks"}).must(t).decode(t, &k)
	useKey := func(key string) answer {
		m := meta("system.Webhook", "controller", "listWebhooks", key)
		m["authenticationClass"] = "apiKey"
		return p.jql(map[string]any{"__meta__": m})
	}
	useKey(k.APIKey).must(t)
	oldKey := k.APIKey
	p.admin(admin, "system.ApiKey", "rotateApiKey", map[string]any{"id": k.ID}).must(t).decode(t, &k)
	if got := useKey(oldKey); got.HTTPStatus != 401 {
		t.Errorf("the old API key after rotateApiKey: %d %s, want 401", got.HTTPStatus, got.Raw)
	}
	useKey(k.APIKey).must(t)
	if l := p.admin(admin, "system.ApiKey", "listApiKeys", nil).must(t); !strings.Contains(l.Raw, k.ID) || strings.Contains(l.Raw, k.APIKey) {
		t.Errorf("listApiKeys = %s", l.Raw)
	}
	p.admin(admin, "system.ApiKey", "updateApiKey", map[string]any{"id": k.ID, "scope": "profile.Customer:retrieve"}).must(t)
	if got := useKey(k.APIKey); got.HTTPStatus != 403 {
		t.Errorf("an API key narrowed with updateApiKey: %d %s, want 403", got.HTTPStatus, got.Raw)
	}
	p.admin(admin, "system.ApiKey", "deleteApiKey", map[string]any{"id": k.ID}).must(t)
	if got := useKey(k.APIKey); got.HTTPStatus != 401 {
		t.Errorf("a deleted API key: %d %s, want 401", got.HTTPStatus, got.Raw)
	}

	// Users: created with a password, which is never echoed; a rotated
	// (generated) password is shown once and replaces the old one.
	login := func(user, pw string) answer {
		return p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate"}, "username": user, "password": pw})
	}
	var usr struct{ ID, Username, Password string }
	cu := p.admin(admin, "system.User", "createUser", map[string]any{"username": "grace", "password": "correct horse battery staple", "scope": "profile.Customer:retrieve"}).must(t)
	cu.decode(t, &usr)
	if usr.Username != "grace" || usr.Password != "" || strings.Contains(cu.Raw, "correct horse") {
		t.Errorf("createUser answered %s, want the user and no password", cu.Data)
	}
	login("grace", "correct horse battery staple").must(t)
	p.admin(admin, "system.User", "rotateUserPassword", map[string]any{"id": usr.ID}).must(t).decode(t, &usr)
	if len(usr.Password) < 16 {
		t.Fatalf("rotateUserPassword generated %q", usr.Password)
	}
	if got := login("grace", "correct horse battery staple"); got.HTTPStatus != 401 {
		t.Errorf("the old password after rotateUserPassword: %d, want 401", got.HTTPStatus)
	}
	login("grace", usr.Password).must(t)
	p.admin(admin, "system.User", "updateUser", map[string]any{"id": usr.ID, "scope": ""}).must(t)
	if l := p.admin(admin, "system.User", "listUsers", nil).must(t); !strings.Contains(l.Raw, `"username":"grace"`) || strings.Contains(l.Raw, usr.Password) {
		t.Errorf("listUsers = %s", l.Raw)
	}
	p.admin(admin, "system.User", "deleteUser", map[string]any{"id": usr.ID}).must(t)

	// A principal may not delete itself, nor take * from the last holder.
	if a := p.admin(admin, "system.Client", "deleteClient", map[string]any{"id": adminID}); a.HTTPStatus != 409 {
		t.Errorf("deleting yourself: %d %s, want 409", a.HTTPStatus, a.Raw)
	}
	if a := p.admin(admin, "system.Client", "updateClient", map[string]any{"id": adminID, "scope": "system.Client:*"}); a.HTTPStatus != 409 || !strings.Contains(a.Raw, "last principal holding *") {
		t.Errorf("narrowing the last * holder: %d %s, want 409", a.HTTPStatus, a.Raw)
	}
	if a := p.admin(admin, "system.Client", "deleteClient", map[string]any{"id": "cl_nosuch"}); a.HTTPStatus != 404 {
		t.Errorf("deleting an unknown client: %d %s, want 404", a.HTTPStatus, a.Raw)
	}
	if a := p.admin(admin, "system.Client", "createClient", map[string]any{"name": "x", "scope": "profile.Cust"}); a.HTTPStatus != 400 || len(a.Errors) == 0 || a.Errors[0].Field != "scope" {
		t.Errorf("a bad scope: %d %s, want 400 on scope", a.HTTPStatus, a.Raw)
	}

	// The describe answer documents the new intents.
	d := p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.Schema", "schema": "controller", "intent": "describe"}}).must(t)
	for _, intent := range []string{"createClient", "listClients", "deleteClient", "rotateClientSecret", "updateClient", "createApiKey", "rotateApiKey", "createUser", "rotateUserPassword", "updateUser"} {
		if !strings.Contains(d.Raw, `"intent":"`+intent+`"`) {
			t.Errorf("system.Schema describe lacks %s", intent)
		}
	}
}

func TestOpsCLIWithURLAgainstRunningServer(t *testing.T) {
	dir := t.TempDir()
	p := serveWithAdmin(t, dir)
	remote := []string{"--url", p.URL, "--client-id", adminID, "--client-secret", adminSecret}

	// While serve holds the embedded store, --url creates a client that
	// the running server knows at once.
	var c clientCreds
	cli(t, dir, &c, append([]string{"client", "create", "--name", "ci", "--scope", "profile.Customer:*"}, remote...)...)
	tok := p.token(c.ClientID, c.ClientSecret)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Ada", "email": "ada@example.com"}).must(t)

	// The environment works as the flags do.
	env := []string{"JQLGATE_URL=" + p.URL, "JQLGATE_ADMIN_CLIENT_ID=" + adminID, "JQLGATE_ADMIN_CLIENT_SECRET=" + adminSecret}
	code, out, errOut := runJqlgate(t, dir, env, "client", "list")
	if code != 0 || !strings.Contains(out, c.ClientID) || strings.Contains(out, c.ClientSecret) {
		t.Errorf("client list with JQLGATE_URL: %d %s %s", code, out, errOut)
	}
	var rotated clientCreds
	cli(t, dir, &rotated, append([]string{"client", "rotate-secret", "--id", c.ClientID}, remote...)...)
	if rotated.ClientID != c.ClientID || p.tokenErr(c.ClientID, c.ClientSecret) == nil {
		t.Errorf("rotate-secret --url printed %+v; the old secret must stop working", rotated)
	}
	var upd map[string]string
	cli(t, dir, &upd, append([]string{"client", "update", "--id", c.ClientID, "--scope", "profile.Customer:retrieve"}, remote...)...)
	if upd["scope"] != "profile.Customer:retrieve" {
		t.Errorf("update --url printed %v", upd)
	}
	var del struct {
		Deleted string `json:"deleted"`
	}
	cli(t, dir, &del, append([]string{"client", "delete", "--id", c.ClientID}, remote...)...)
	if del.Deleted != c.ClientID || p.tokenErr(c.ClientID, rotated.ClientSecret) == nil {
		t.Errorf("delete --url printed %+v; the client must be gone", del)
	}

	var key struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	cli(t, dir, &key, append([]string{"apikey", "create", "--name", "k", "--scope", "profile.Customer:retrieve"}, remote...)...)
	if !strings.HasPrefix(key.APIKey, "jqk_") {
		t.Errorf("apikey create --url printed %+v", key)
	}

	// A wrong admin secret is refused with the OAuth2 error, and a
	// non-admin client gets the 403 of the intent.
	code, _, errOut = runJqlgate(t, dir, nil, "client", "list", "--url", p.URL, "--client-id", adminID, "--client-secret", "wrong-secret-0123456789")
	if code == 0 || !strings.Contains(errOut, "invalid_client") {
		t.Errorf("a wrong admin secret: %d %s, want invalid_client", code, errOut)
	}
	var weak clientCreds
	cli(t, dir, &weak, append([]string{"client", "create", "--name", "weak", "--scope", "profile.Customer:retrieve"}, remote...)...)
	code, _, errOut = runJqlgate(t, dir, nil, "client", "list", "--url", p.URL, "--client-id", weak.ClientID, "--client-secret", weak.ClientSecret)
	if code == 0 || !strings.Contains(errOut, "403") {
		t.Errorf("a non-admin client: %d %s, want a 403", code, errOut)
	}
}

func TestOpsCLIRefusesToCreateAStoreWithoutInit(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the embedded store only")
	}
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(real, "data")
	code, out, errOut := runJqlgate(t, dir, nil, "client", "create", "--name", "x", "--scope", "*")
	if code == 0 || !strings.Contains(errOut, "no jqlgate store in the data dir "+want) || !strings.Contains(errOut, "--init") || out != "" {
		t.Errorf("client create in an empty dir: %d %q %q, want a refusal naming %s", code, out, errOut, want)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Errorf("the refusal left %s behind (%v)", want, err)
	}
	code, out, errOut = runJqlgate(t, dir, nil, "client", "create", "--init", "--name", "x", "--scope", "*")
	if code != 0 || !strings.Contains(out, "client_secret") || !strings.Contains(errOut, "store: embedded in "+want) {
		t.Errorf("client create --init: %d %q %q, want the client and the data dir on stderr", code, out, errOut)
	}
	// Once the store exists, no --init is needed, and stderr says where.
	code, out, errOut = runJqlgate(t, dir, nil, "client", "list")
	if code != 0 || !strings.Contains(out, "client_id") || !strings.Contains(errOut, want) {
		t.Errorf("client list on the store: %d %q %q", code, out, errOut)
	}
}

func TestOpsBootstrapSecretFollowsTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	const newSecret = "e2e-new-admin-secret-fedcba9876543210"
	p := serveWithAdmin(t, dir)
	p.token(adminID, adminSecret)
	p.stop()

	p = serve(t, dir, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+newSecret)
	p.token(adminID, newSecret)
	if err := p.tokenErr(adminID, adminSecret); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("the old bootstrap secret: %v, want invalid_client", err)
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "updated the bootstrap client's secret") {
		t.Errorf("no log line says the bootstrap secret was updated:\n%s", logs)
	}
	if strings.Contains(logs, newSecret) || strings.Contains(logs, adminSecret) {
		t.Error("the log holds a bootstrap secret")
	}
	// Unchanged, it is not updated again.
	p.stop()
	p = serve(t, dir, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+newSecret)
	if strings.Contains(p.logs.String(), "updated the bootstrap client's secret") {
		t.Error("an unchanged bootstrap secret was updated")
	}
}

func TestOpsHelpOnEveryCommandAndAction(t *testing.T) {
	dir := t.TempDir()
	actions := map[string][]string{
		"serve": nil, "bench": nil, "listen": nil, "version": nil,
		"client": {"create", "list", "delete", "update", "rotate-secret"},
		"apikey": {"create", "list", "delete", "update", "rotate"},
		"user":   {"create", "list", "delete", "update", "set-password"},
		"keys":   {"rotate", "list"},
	}
	for cmd, acts := range actions {
		for _, h := range []string{"--help", "-h"} {
			code, out, errOut := runJqlgate(t, dir, nil, cmd, h)
			if code != 0 || !strings.Contains(out+errOut, "Usage: jqlgate "+cmd) {
				t.Errorf("jqlgate %s %s: %d %q %q, want its usage and exit 0", cmd, h, code, out, errOut)
			}
			for _, a := range acts {
				if !strings.Contains(out, a) {
					t.Errorf("jqlgate %s %s does not list %s: %s", cmd, h, a, out)
				}
				code, out, errOut := runJqlgate(t, dir, nil, cmd, a, h)
				if code != 0 || !strings.Contains(out+errOut, "Usage: jqlgate "+cmd+" "+a) {
					t.Errorf("jqlgate %s %s %s: %d %q %q, want its usage and exit 0", cmd, a, h, code, out, errOut)
				}
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("--help left files in the working directory: %v", entries)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if code, out, _ := runJqlgate(t, dir, nil, args...); code != 0 || !strings.HasPrefix(out, "jqlgate ") {
			t.Errorf("jqlgate %s: %d %q", args[0], code, out)
		}
	}
	if code, _, errOut := runJqlgate(t, dir, nil, "client", "nope"); code == 0 || !strings.Contains(errOut, `unknown action "nope"`) {
		t.Errorf("an unknown action: %d %q", code, errOut)
	}
}

// Two holders of * removing each other at the same moment: one wins, the
// other is refused, and someone still holds *.
func TestLastStarHolderCannotBeRacedAway(t *testing.T) {
	for round := range 3 {
		dir := t.TempDir()
		x := createClient(t, dir, "second-admin", "*")
		p := serveWithAdmin(t, dir)
		admin, xt := p.token(adminID, adminSecret), p.token(x.ClientID, x.ClientSecret)
		var wg sync.WaitGroup
		var del, narrow answer
		wg.Go(func() { del = p.admin(admin, "system.Client", "deleteClient", map[string]any{"id": x.ClientID}) })
		wg.Go(func() {
			narrow = p.admin(xt, "system.Client", "updateClient", map[string]any{"id": adminID, "scope": "profile.Customer:*"})
		})
		wg.Wait()
		if del.HTTPStatus == 200 && narrow.HTTPStatus == 200 {
			t.Fatalf("round %d: both the delete and the narrowing of the last two holders of * succeeded", round)
		}
		if del.HTTPStatus != 200 && narrow.HTTPStatus != 200 {
			t.Errorf("round %d: neither succeeded: %s / %s", round, del.Raw, narrow.Raw)
		}
		p.stop()
	}
}
