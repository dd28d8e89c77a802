package test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Revocation reaches subscriptions: deleting a principal or narrowing its
// permissions stops its deliveries, and an operator can list and disable
// any owner's subscriptions without seeing their secrets. The embedded
// store is locked while serve runs, so each admin command runs with serve
// stopped, as an operator on the embedded store would.

// cli runs `jqlgate args...` on dataDir's store (or MONGODB_URI's database
// for this test) and decodes its JSON output into out.
func cli(t *testing.T, dataDir string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "JQLGATE_DATA_DIR=" + dataDir}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("jqlgate %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("jqlgate %s printed %q: %v", strings.Join(args, " "), stdout.String(), err)
	}
}

type clientCreds struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func createClient(t *testing.T, dataDir, name, scope string) clientCreds {
	t.Helper()
	var c clientCreds
	cli(t, dataDir, &c, "client", "create", "--init", "--name", name, "--scope", scope)
	return c
}

// stop stops a serve process and waits for it to exit.
func (p *proc) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(60 * time.Second); code != 0 {
		p.t.Fatalf("serve exited with %d", code)
	}
}

// subscribeCustomers subscribes tok's owner to every customer event at url
// and returns the subscription's id and secret.
func subscribeCustomers(t *testing.T, p *proc, tok, url string) (id, secret string) {
	t.Helper()
	var s struct{ ID, Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix": "Revoke", "trigger": "profile.Customer:*", "webhookUrl": url}).must(t).decode(t, &s)
	return s.ID, s.Secret
}

func revokeCustomer(t *testing.T, p *proc, tok, name string) {
	t.Helper()
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": name, "email": strings.ToLower(name) + "@example.com"}).must(t)
}

// revokeSetup creates a subscriber client, starts serve, subscribes it and
// the admin (the control) to customer events, and checks both get one.
func revokeSetup(t *testing.T) (dataDir string, c clientCreds, subID string, mine, control *receiver) {
	t.Helper()
	dataDir = t.TempDir()
	c = createClient(t, dataDir, "subscriber", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	p := serveWithAdmin(t, dataDir)
	admin := p.token(adminID, adminSecret)
	mine, control = newReceiver(), newReceiver()
	srvMine, srvControl := httptest.NewServer(mine), httptest.NewServer(control)
	t.Cleanup(srvMine.Close)
	t.Cleanup(srvControl.Close)
	subID, _ = subscribeCustomers(t, p, p.token(c.ClientID, c.ClientSecret), srvMine.URL)
	subscribeCustomers(t, p, admin, srvControl.URL)
	revokeCustomer(t, p, admin, "Ada")
	mine.waitFor(t, 1, 30*time.Second)
	control.waitFor(t, 1, 30*time.Second)
	p.stop()
	return dataDir, c, subID, mine, control
}

// afterwards restarts serve, creates a customer and checks the control
// receiver gets it while mine gets nothing more.
func afterwards(t *testing.T, dataDir string, mine, control *receiver) *proc {
	t.Helper()
	p := serveWithAdmin(t, dataDir)
	revokeCustomer(t, p, p.token(adminID, adminSecret), "Grace")
	control.waitFor(t, 2, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := mine.count(); n != 1 {
		t.Errorf("the revoked subscriber's receiver got %d webhooks, want 1 (none after the revocation)", n)
	}
	return p
}

// operatorList lists owner's subscriptions with tok and returns the raw
// answer and its rows.
func operatorList(t *testing.T, p *proc, tok, owner string) (answer, []map[string]any) {
	t.Helper()
	a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "listWebhooks", tok), "owner": owner})
	var rows []map[string]any
	if a.Status == "OK" {
		a.decode(t, &rows)
	}
	return a, rows
}

func TestSecurityRevokeDeletedClientGetsNoDeliveries(t *testing.T) {
	dataDir, c, subID, mine, control := revokeSetup(t)

	var out struct {
		Deleted  string `json:"deleted"`
		Disabled int    `json:"subscriptions_disabled"`
	}
	cli(t, dataDir, &out, "client", "delete", "--id", c.ClientID)
	if out.Deleted != c.ClientID || out.Disabled != 1 {
		t.Errorf("client delete printed %+v, want the client deleted and 1 subscription disabled", out)
	}
	p := afterwards(t, dataDir, mine, control)

	// An operator (the admin holds *) sees the subscription, disabled
	// because its owner was deleted.
	a, rows := operatorList(t, p, p.token(adminID, adminSecret), "client:"+c.ClientID)
	a.must(t)
	if len(rows) != 1 || rows[0]["id"] != subID || rows[0]["enabled"] != false || rows[0]["disabledReason"] != "owner deleted" || rows[0]["owner"] != "client:"+c.ClientID {
		t.Errorf("operator list of the deleted client's subscriptions = %s, want %s disabled with reason \"owner deleted\"", a.Data, subID)
	}
}

func TestSecurityRevokeNarrowedClientGetsNoCustomerEvents(t *testing.T) {
	dataDir, c, _, mine, control := revokeSetup(t)

	var out map[string]string
	cli(t, dataDir, &out, "client", "update", "--id", c.ClientID, "--scope", "system.Webhook:* system.Webhook:privateTargets profile.Customer:create")
	afterwards(t, dataDir, mine, control)
}

func TestSecurityRevokeOperatorListsAndDisables(t *testing.T) {
	dataDir := t.TempDir()
	sub := createClient(t, dataDir, "subscriber", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	op := createClient(t, dataDir, "operator", "system.Webhook:listWebhooks system.Webhook:disableWebhook system.Webhook:operate")
	p := serveWithAdmin(t, dataDir)
	admin := p.token(adminID, adminSecret)
	subTok, opTok := p.token(sub.ClientID, sub.ClientSecret), p.token(op.ClientID, op.ClientSecret)
	mine, control := newReceiver(), newReceiver()
	srvMine, srvControl := httptest.NewServer(mine), httptest.NewServer(control)
	defer srvMine.Close()
	defer srvControl.Close()
	var created struct{ ID, Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", subTok),
		"prefix": "Revoke", "trigger": "profile.Customer:*", "webhookUrl": srvMine.URL,
		"headers": map[string]string{"X-Api-Key": "receiver-credential-123"}}).must(t).decode(t, &created)
	subID, secret := created.ID, created.Secret
	subscribeCustomers(t, p, admin, srvControl.URL)

	// Another subscriber, holding system.Webhook:* but not operate, may
	// not list the subscriber's webhooks.
	if a, _ := operatorList(t, p, admin, "client:"+sub.ClientID); a.Status != "OK" {
		t.Fatalf("admin (*) list: %s", a.Raw)
	}
	nosy := p.token(adminID, adminSecret, "system.Webhook:*")
	if a, _ := operatorList(t, p, nosy, "client:"+sub.ClientID); a.HTTPStatus != 403 {
		t.Errorf("a system.Webhook:* token listing another owner's webhooks got %d %s, want 403", a.HTTPStatus, a.Raw)
	}

	a, rows := operatorList(t, p, opTok, "*")
	a.must(t)
	var found map[string]any
	for _, r := range rows {
		if r["id"] == subID {
			found = r
		}
	}
	if found == nil || found["owner"] != "client:"+sub.ClientID {
		t.Fatalf("operator list of every owner = %s, want %s owned by client:%s", a.Data, subID, sub.ClientID)
	}
	if strings.Contains(a.Raw, secret) || strings.Contains(a.Raw, "whsec_") || strings.Contains(a.Raw, "receiver-credential-123") {
		t.Errorf("operator list reveals a secret: %s", a.Raw)
	}

	d := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "disableWebhook", opTok), "id": subID}).must(t)
	if strings.Contains(d.Raw, secret) || strings.Contains(d.Raw, "receiver-credential-123") {
		t.Errorf("operator disable reveals a secret: %s", d.Raw)
	}
	revokeCustomer(t, p, admin, "Ada")
	control.waitFor(t, 1, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := mine.count(); n != 0 {
		t.Errorf("the subscription an operator disabled got %d webhooks, want 0", n)
	}
	var own []map[string]any
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "listWebhooks", subTok)}).must(t).decode(t, &own)
	if len(own) != 1 || own[0]["enabled"] != false || own[0]["disabledReason"] != "Disabled by an operator." {
		t.Errorf("the owner sees %v, want its subscription disabled by an operator", own)
	}
}

// Taking system.Webhook:privateTargets from a client whose webhook points
// at a loopback receiver stops new deliveries there; its logs no longer
// show what the private receiver answered, and it can no longer retry or
// replay to it.
func TestSecurityRevokePrivateTargetsStopsPrivateDeliveries(t *testing.T) {
	dataDir, c, subID, mine, control := revokeSetup(t)

	var out map[string]string
	cli(t, dataDir, &out, "client", "update", "--id", c.ClientID, "--scope", "system.Webhook:* profile.Customer:*")
	p := afterwards(t, dataDir, mine, control)
	tok := p.token(c.ClientID, c.ClientSecret)

	var rows []struct {
		DeliveryID, EventID, Status, Error string
		ResponseHidden                     bool
		Response                           *struct {
			Code int
			Body string
		}
	}
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "getWebhookLogs", tok), "id": subID}).must(t).decode(t, &rows)
	var done string
	for _, r := range rows {
		if r.Response != nil && r.Response.Code != 0 {
			if !r.ResponseHidden || r.Response.Body != "" {
				t.Errorf("getWebhookLogs shows the private receiver's answer to an owner without privateTargets: %+v", r)
			}
			done = r.DeliveryID
		}
	}
	if done == "" {
		t.Fatalf("no delivered attempt in the logs: %+v", rows)
	}
	a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "retryDelivery", tok), "deliveryId": done})
	if a.HTTPStatus != 403 || !strings.Contains(a.Raw, "privateTargets") {
		t.Errorf("retryDelivery to the private receiver answered %d %s, want 403 naming privateTargets", a.HTTPStatus, a.Raw)
	}
	a = p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "replayEvent", tok), "eventId": rows[len(rows)-1].EventID})
	if a.HTTPStatus != 403 {
		t.Errorf("replayEvent to the private receiver answered %d %s, want 403", a.HTTPStatus, a.Raw)
	}
	time.Sleep(time.Second)
	if n := mine.count(); n != 1 {
		t.Errorf("the private receiver got %d webhooks, want 1 (none after privateTargets was taken)", n)
	}
}

// jqlAs runs namespace:intent with tok of class.
func jqlAs(p *proc, class, tok, namespace, intent string, fields map[string]any) answer {
	m := meta(namespace, "controller", intent, tok)
	m["authenticationClass"] = class
	body := map[string]any{"__meta__": m}
	for k, v := range fields {
		body[k] = v
	}
	return p.jql(body)
}

// makeAdmin is the admin intent the revoked tokens try: creating a client
// holding *.
func makeAdmin(p *proc, class, tok string) answer {
	return jqlAs(p, class, tok, "system.Client", "createClient", map[string]any{"name": "escalate", "scope": "*"})
}

// serveStable is serveWithAdmin with a fixed issuer, so tokens from
// before a restart (on another port) still verify.
func serveStable(t *testing.T, dataDir string) *proc {
	t.Helper()
	return serve(t, dataDir, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_OAUTH2_ISSUER=http://jqlgate.test")
}

// A deleted * client's access token lost nothing until it expired: it
// still created clients holding *. Now it is refused (401) at once when
// serve deletes the client, and after a restart when the CLI deleted it.
func TestSecurityRevokeDeletedClientTokenRefused(t *testing.T) {
	dataDir := t.TempDir()
	live := createClient(t, dataDir, "live", "*")
	offline := createClient(t, dataDir, "offline", "*")
	bystander := createClient(t, dataDir, "bystander", "*")
	p := serveStable(t, dataDir)
	admin := p.token(adminID, adminSecret)
	liveTok, offlineTok := p.token(live.ClientID, live.ClientSecret), p.token(offline.ClientID, offline.ClientSecret)
	bystanderTok := p.token(bystander.ClientID, bystander.ClientSecret)
	makeAdmin(p, "oauth2", liveTok).must(t)

	p.admin(admin, "system.Client", "deleteClient", map[string]any{"id": live.ClientID}).must(t)
	if a := makeAdmin(p, "oauth2", liveTok); a.HTTPStatus != 401 {
		t.Errorf("createClient with the token of a client serve deleted: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
	p.stop()
	var out map[string]any
	cli(t, dataDir, &out, "client", "delete", "--id", offline.ClientID)
	p = serveStable(t, dataDir)
	if a := makeAdmin(p, "oauth2", offlineTok); a.HTTPStatus != 401 {
		t.Errorf("createClient with the token of a client the CLI deleted: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
	makeAdmin(p, "oauth2", bystanderTok).must(t) // tokens from before the restart still work
}

// A narrowed client's token does only what the client may do now.
func TestSecurityRevokeNarrowedClientToken(t *testing.T) {
	dataDir := t.TempDir()
	c := createClient(t, dataDir, "narrowed", "*")
	p := serveWithAdmin(t, dataDir)
	tok := p.token(c.ClientID, c.ClientSecret)
	p.admin(p.token(adminID, adminSecret), "system.Client", "updateClient", map[string]any{"id": c.ClientID, "scope": "profile.Customer:retrieve"}).must(t)
	if a := makeAdmin(p, "oauth2", tok); a.HTTPStatus != 403 {
		t.Errorf("createClient with the * token of a client narrowed to profile.Customer:retrieve: got %d %s, want 403", a.HTTPStatus, a.Raw)
	}
	if a := p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "retrieve", tok)}); a.HTTPStatus != 200 {
		t.Errorf("what the client may still do: got %d %s, want 200", a.HTTPStatus, a.Raw)
	}
}

// A deleted * user's token (class jwt) is refused too.
func TestSecurityRevokeDeletedUserToken(t *testing.T) {
	dataDir := t.TempDir()
	createConsoleUser(t, dataDir, "root", "*")
	p := serveWithAdmin(t, dataDir)
	tok := userToken(t, p, "root")
	makeAdmin(p, "jwt", tok).must(t)
	var users []struct{ ID, Username string }
	admin := p.token(adminID, adminSecret)
	p.admin(admin, "system.User", "listUsers", nil).must(t).decode(t, &users)
	if len(users) != 1 || users[0].Username != "root" {
		t.Fatalf("users = %+v", users)
	}
	p.admin(admin, "system.User", "deleteUser", map[string]any{"id": users[0].ID}).must(t)
	if a := makeAdmin(p, "jwt", tok); a.HTTPStatus != 401 {
		t.Errorf("createClient with a deleted user's token: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
}

// revokeToken posts RFC 7009 revocation of tok with the client's
// credentials and returns the status.
func revokeToken(t *testing.T, p *proc, c clientCreds, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/oauth2/revoke", strings.NewReader(url.Values{"token": {tok}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// RFC 7009: /oauth2/revoke (in the server metadata) ends one token, for
// good: it stays refused after a restart.
func TestSecurityRevokeTokenEndpoint(t *testing.T) {
	dataDir := t.TempDir()
	c := createClient(t, dataDir, "revoker", "*")
	p := serveStable(t, dataDir)
	var md map[string]any
	if code, body := p.get("/.well-known/oauth-authorization-server"); code != 200 || json.Unmarshal([]byte(body), &md) != nil || md["revocation_endpoint"] == nil {
		t.Errorf("metadata: %d %s, want a revocation_endpoint", code, body)
	}
	tok, other := p.token(c.ClientID, c.ClientSecret), p.token(c.ClientID, c.ClientSecret)
	makeAdmin(p, "oauth2", tok).must(t)
	if code := revokeToken(t, p, c, tok); code != 200 {
		t.Fatalf("revoke: %d, want 200", code)
	}
	if a := makeAdmin(p, "oauth2", tok); a.HTTPStatus != 401 {
		t.Errorf("the revoked token: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
	if code := revokeToken(t, p, c, "not-a-token"); code != 200 {
		t.Errorf("revoking an unknown token: %d, want 200 (RFC 7009 §2.2)", code)
	}
	p.stop()
	p = serveStable(t, dataDir)
	if a := makeAdmin(p, "oauth2", tok); a.HTTPStatus != 401 {
		t.Errorf("the revoked token after a restart: got %d %s, want 401", a.HTTPStatus, a.Raw)
	}
	makeAdmin(p, "oauth2", other).must(t) // only that token
}

// consoleSession signs user in to the console over plain HTTP and returns
// the session cookie and a form token of the signed-in session.
func consoleSession(t *testing.T, p *proc, user string) (cookie *http.Cookie, csrf string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(path string) string {
		resp, err := c.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
		if resp.StatusCode != 200 || m == nil {
			t.Fatalf("GET %s: %d without a form token", path, resp.StatusCode)
		}
		return string(m[1])
	}
	resp, err := c.PostForm(p.URL+"/console/signin", url.Values{"csrf": {page("/console/signin")}, "username": {user}, "password": {consolePassword}, "next": {"/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("signing in %s answered %d to %q", user, resp.StatusCode, resp.Header.Get("Location"))
	}
	csrf = page("/console/")
	u, _ := url.Parse(p.URL + "/console/")
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "jqlgate_console" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no console session cookie")
	}
	return cookie, csrf
}

// consoleStatus requests the console overview with only cookie (a copy of
// a session, as a thief would hold it) and returns the status.
func consoleStatus(t *testing.T, p *proc, cookie *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/console/", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A console session, and any copy of its cookie, ends on the server when
// the user signs out, is deleted, or gets a new password or new
// permissions: the copied cookie is sent to sign in (303), where it used
// to answer 200 until the token inside it expired.
func TestSecurityRevokeConsoleSessionEnds(t *testing.T) {
	dataDir := t.TempDir()
	for _, u := range []string{"leaver", "deleted", "repassed", "narrowed", "bystander"} {
		createConsoleUser(t, dataDir, u, "*")
	}
	p := serveWithAdmin(t, dataDir)
	admin := p.token(adminID, adminSecret)
	var users []struct{ ID, Username string }
	p.admin(admin, "system.User", "listUsers", nil).must(t).decode(t, &users)
	ids := map[string]string{}
	for _, u := range users {
		ids[u.Username] = u.ID
	}
	sessions := map[string]*http.Cookie{}
	csrf := map[string]string{}
	for _, u := range []string{"leaver", "deleted", "repassed", "narrowed", "bystander"} {
		sessions[u], csrf[u] = consoleSession(t, p, u)
		if code := consoleStatus(t, p, sessions[u]); code != 200 {
			t.Fatalf("%s's session: %d, want 200", u, code)
		}
	}

	// Signing out, with the browser's own cookie; the copy is tried after.
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/console/signout", strings.NewReader(url.Values{"csrf": {csrf["leaver"]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	req.AddCookie(sessions["leaver"])
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d, want 303", resp.StatusCode)
	}
	p.admin(admin, "system.User", "deleteUser", map[string]any{"id": ids["deleted"]}).must(t)
	p.admin(admin, "system.User", "rotateUserPassword", map[string]any{"id": ids["repassed"], "password": "a brand new password"}).must(t)
	p.admin(admin, "system.User", "updateUser", map[string]any{"id": ids["narrowed"], "scope": "profile.Customer:retrieve"}).must(t)

	for _, u := range []string{"leaver", "deleted", "repassed", "narrowed"} {
		if code := consoleStatus(t, p, sessions[u]); code != http.StatusSeeOther {
			t.Errorf("a copy of %s's session cookie afterwards: %d, want 303 to sign in", u, code)
		}
	}
	if code := consoleStatus(t, p, sessions["bystander"]); code != 200 {
		t.Errorf("another user's session: %d, want 200", code)
	}
	// Signing in again works.
	if ck, _ := consoleSession(t, p, "leaver"); consoleStatus(t, p, ck) != 200 {
		t.Error("signing in again after signing out: the new session does not work")
	}
}
