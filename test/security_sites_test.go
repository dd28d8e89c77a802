package test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// siteProc is a server with the bootstrap admin, loopback receivers
// allowed, and a second OAuth2 client ("other") with every permission: a
// second owner.
type siteProc struct {
	*proc
	t        *testing.T
	admin    string
	other    string
	answered strings.Builder // every answer's raw body, to look for secrets
}

func newSiteProc(t *testing.T) *siteProc {
	t.Helper()
	dir := t.TempDir()
	// Another owner, not an operator (system.Webhook:operate, which "*"
	// holds, sees every owner's sites).
	other := createClient(t, dir, "other", "system.Webhook:* system.Webhook:privateTargets system.TrustedSite:* profile.Customer:*")
	p := serveWithAdmin(t, dir)
	return &siteProc{proc: p, t: t, admin: p.token(adminID, adminSecret), other: p.token(other.ClientID, other.ClientSecret)}
}

// call sends one intent with fields and keeps the answer.
func (s *siteProc) call(token, namespace, intent string, fields map[string]any) answer {
	s.t.Helper()
	body := map[string]any{"__meta__": meta(namespace, "controller", intent, token)}
	for k, v := range fields {
		body[k] = v
	}
	a := s.jql(body)
	s.answered.WriteString(a.Raw)
	return a
}

func (s *siteProc) site(intent string, fields map[string]any) answer {
	s.t.Helper()
	return s.call(s.admin, "system.TrustedSite", intent, fields)
}

func (s *siteProc) subscribe(url, siteID string) string {
	s.t.Helper()
	a := s.call(s.admin, "system.Webhook", "subscribeToWebhook", map[string]any{
		"prefix": "Sites", "trigger": "profile.Customer:create", "webhookUrl": url, "trustedSite": siteID,
	}).must(s.t)
	var sub struct{ ID, TrustedSite string }
	a.decode(s.t, &sub)
	if sub.TrustedSite != siteID {
		s.t.Fatalf("subscribe answered trustedSite %q, want %q: %s", sub.TrustedSite, siteID, a.Raw)
	}
	return sub.ID
}

func (s *siteProc) createCustomer(email string) {
	s.t.Helper()
	s.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", s.admin), "name": "Site Test", "email": email}).must(s.t)
}

// wantError fails unless a is an error answer of status, errorCode and
// field, and returns its message.
func wantError(t *testing.T, a answer, status int, code, field string) string {
	t.Helper()
	if a.HTTPStatus != status || len(a.Errors) == 0 || a.Errors[0].ErrorCode != code || a.Errors[0].Field != field {
		t.Fatalf("got %d %s, want %d %s on field %q", a.HTTPStatus, a.Raw, status, code, field)
	}
	return a.Errors[0].ErrorMessage
}

func siteID(t *testing.T, a answer) string {
	t.Helper()
	var v struct{ ID string }
	a.must(t).decode(t, &v)
	return v.ID
}

func basicPassword(r received) string {
	_, pw, _ := (&http.Request{Header: r.Header}).BasicAuth()
	return pw
}

// A trusted site's basic auth reaches a real receiver from two
// subscriptions; changing the site's password changes both subscriptions'
// next deliveries at once; the site can't be deleted while they use it,
// its base URL can't move away from them, a webhookUrl outside it is
// refused, another owner neither sees nor uses it, and no answer ever
// holds a secret.
func TestSecurityTrustedSiteBasicAuth(t *testing.T) {
	s := newSiteProc(t)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	id := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "CRM", "baseUrl": srv.URL + "/hooks",
		"basicAuth": map[string]any{"username": "hook", "password": "first-pa55word"},
	}))
	subA, subB := s.subscribe(srv.URL+"/hooks/a", id), s.subscribe(srv.URL+"/hooks/b", id)

	s.createCustomer("one@example.com")
	got := rcv.waitFor(t, 2, 15*time.Second)
	for _, r := range got {
		if pw := basicPassword(r); pw != "first-pa55word" {
			t.Errorf("delivery carried password %q, want the site's", pw)
		}
	}

	s.site("updateTrustedSite", map[string]any{"id": id, "basicAuth": map[string]any{"username": "hook", "password": "second-pa55word"}}).must(t)
	s.createCustomer("two@example.com")
	got = rcv.waitFor(t, 4, 15*time.Second)
	for _, r := range got[2:] {
		if pw := basicPassword(r); pw != "second-pa55word" {
			t.Errorf("delivery after the site's password changed carried %q, want the new one", pw)
		}
	}

	// Listings show the site, never its secret.
	var sub struct{ TrustedSite string }
	s.call(s.admin, "system.Webhook", "getWebhook", map[string]any{"id": subA}).must(t).decode(t, &sub)
	if sub.TrustedSite != id {
		t.Errorf("getWebhook trustedSite = %q, want %q", sub.TrustedSite, id)
	}
	s.call(s.admin, "system.Webhook", "listWebhooks", nil).must(t)
	var detail struct {
		AuthType      string
		BasicAuth     struct{ Username string }
		Subscriptions []struct{ ID string }
	}
	s.site("getTrustedSite", map[string]any{"id": id}).must(t).decode(t, &detail)
	if detail.AuthType != "basic" || detail.BasicAuth.Username != "hook" || len(detail.Subscriptions) != 2 {
		t.Errorf("getTrustedSite = %+v, want basic auth of hook used by 2 subscriptions", detail)
	}
	s.site("listTrustedSites", nil).must(t)

	// Deleting a site in use is a conflict naming its subscriptions.
	msg := wantError(t, s.site("deleteTrustedSite", map[string]any{"id": id}), 409, "JQL:ConflictException", "id")
	if !strings.Contains(msg, subA) || !strings.Contains(msg, subB) {
		t.Errorf("delete conflict %q does not name %s and %s", msg, subA, subB)
	}
	// So is a base URL that would leave a subscription outside it.
	msg = wantError(t, s.site("updateTrustedSite", map[string]any{"id": id, "baseUrl": srv.URL + "/hooks/a"}), 409, "JQL:ConflictException", "baseUrl")
	if !strings.Contains(msg, subB) || strings.Contains(msg, subA) {
		t.Errorf("base URL conflict %q should name %s only", msg, subB)
	}

	// A webhookUrl outside the base URL, or credentials beside the site.
	for _, url := range []string{srv.URL + "/other", srv.URL + "/hooksmith", srv.URL + "/hooks/../admin", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/hooks/x"} {
		wantError(t, s.call(s.admin, "system.Webhook", "subscribeToWebhook", map[string]any{
			"prefix": "Out", "trigger": "profile.Customer:create", "webhookUrl": url, "trustedSite": id,
		}), 400, "JQL:JqlException", "webhookUrl")
	}
	wantError(t, s.call(s.admin, "system.Webhook", "updateWebhook", map[string]any{"id": subA, "webhookUrl": srv.URL + "/elsewhere"}), 400, "JQL:JqlException", "webhookUrl")
	wantError(t, s.call(s.admin, "system.Webhook", "subscribeToWebhook", map[string]any{
		"prefix": "Both", "trigger": "profile.Customer:create", "webhookUrl": srv.URL + "/hooks/c", "trustedSite": id,
		"basicAuth": map[string]any{"username": "u", "password": "p"},
	}), 400, "JQL:JqlException", "basicAuth")

	// Another owner can't see, change, delete or use the site.
	for _, intent := range []string{"getTrustedSite", "updateTrustedSite", "deleteTrustedSite"} {
		wantError(t, s.call(s.other, "system.TrustedSite", intent, map[string]any{"id": id}), 404, "JQL:NotFoundException", "id")
	}
	var list []any
	s.call(s.other, "system.TrustedSite", "listTrustedSites", nil).must(t).decode(t, &list)
	if len(list) != 0 {
		t.Errorf("another owner lists %d sites, want none", len(list))
	}
	wantError(t, s.call(s.other, "system.Webhook", "subscribeToWebhook", map[string]any{
		"prefix": "Theirs", "trigger": "profile.Customer:create", "webhookUrl": srv.URL + "/hooks/x", "trustedSite": id,
	}), 404, "JQL:NotFoundException", "trustedSite")

	// The site's URLs pass the webhook address policy; one kind of
	// authentication; names are unique per owner.
	wantError(t, s.site("createTrustedSite", map[string]any{"name": "Private", "baseUrl": "http://10.0.0.1/hooks",
		"basicAuth": map[string]any{"username": "u", "password": "p"}}), 400, "JQL:JqlException", "baseUrl")
	wantError(t, s.site("createTrustedSite", map[string]any{"name": "Meta", "baseUrl": srv.URL,
		"oauth2": map[string]any{"tokenUrl": "http://169.254.169.254/token", "clientId": "c", "clientSecret": "s"}}), 400, "JQL:JqlException", "oauth2.tokenUrl")
	wantError(t, s.site("createTrustedSite", map[string]any{"name": "Two", "baseUrl": srv.URL,
		"basicAuth": map[string]any{"username": "u", "password": "p"}, "headers": map[string]any{"X-Key": "v"}}), 400, "JQL:JqlException", "headers")
	wantError(t, s.site("createTrustedSite", map[string]any{"name": "CRM", "baseUrl": srv.URL,
		"basicAuth": map[string]any{"username": "u", "password": "p"}}), 409, "JQL:ConflictException", "name")

	// Once unused, the site can be deleted.
	for _, sid := range []string{subA, subB} {
		s.call(s.admin, "system.Webhook", "unsubscribeFromWebhook", map[string]any{"id": sid}).must(t)
	}
	s.site("deleteTrustedSite", map[string]any{"id": id}).must(t)

	for _, secret := range []string{"first-pa55word", "second-pa55word"} {
		if strings.Contains(s.answered.String(), secret) {
			t.Errorf("an answer holds the site's secret %q", secret)
		}
	}
}

// tokenServer is a real OAuth2 token endpoint that counts its calls and
// records the client secrets it was given.
type tokenServer struct {
	calls   atomic.Int32
	mu      sync.Mutex
	secrets []string
}

func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := ts.calls.Add(1)
	_, secret, _ := r.BasicAuth()
	if secret == "" {
		_ = r.ParseForm()
		secret = r.PostForm.Get("client_secret")
	}
	ts.mu.Lock()
	ts.secrets = append(ts.secrets, secret)
	ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"site-token-%d","token_type":"Bearer","expires_in":3600}`, n)
}

// An OAuth2 trusted site fetches one token for the deliveries of all its
// subscriptions; a new client secret makes one new token, used by all.
func TestSecurityTrustedSiteOAuth2OneToken(t *testing.T) {
	s := newSiteProc(t)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	tokens := &tokenServer{}
	tsrv := httptest.NewServer(tokens)
	defer tsrv.Close()

	id := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "API", "baseUrl": srv.URL,
		"oauth2": map[string]any{"tokenUrl": tsrv.URL + "/token", "clientId": "jqlgate", "clientSecret": "first-client-secret"},
	}))
	s.subscribe(srv.URL+"/a", id)
	s.subscribe(srv.URL+"/b", id)
	s.createCustomer("one@example.com")
	s.createCustomer("two@example.com")
	for _, r := range rcv.waitFor(t, 4, 15*time.Second) {
		if h := r.Header.Get("Authorization"); h != "Bearer site-token-1" {
			t.Errorf("delivery Authorization = %q, want Bearer site-token-1", h)
		}
	}
	if n := tokens.calls.Load(); n != 1 {
		t.Errorf("token endpoint called %d times for 4 deliveries of 2 subscriptions, want 1", n)
	}

	s.site("updateTrustedSite", map[string]any{"id": id, "oauth2": map[string]any{
		"tokenUrl": tsrv.URL + "/token", "clientId": "jqlgate", "clientSecret": "second-client-secret"}}).must(t)
	s.createCustomer("three@example.com")
	for _, r := range rcv.waitFor(t, 6, 15*time.Second)[4:] {
		if h := r.Header.Get("Authorization"); h != "Bearer site-token-2" {
			t.Errorf("delivery after the secret changed: Authorization = %q, want Bearer site-token-2", h)
		}
	}
	tokens.mu.Lock()
	defer tokens.mu.Unlock()
	if strings.Join(tokens.secrets, ",") != "first-client-secret,second-client-secret" {
		t.Errorf("token endpoint got secrets %v, want one call with each", tokens.secrets)
	}
	var v struct {
		AuthType string
		OAuth2   map[string]any
	}
	s.site("getTrustedSite", map[string]any{"id": id}).must(t).decode(t, &v)
	if v.AuthType != "oauth2" || v.OAuth2["clientId"] != "jqlgate" || v.OAuth2["clientSecret"] != nil {
		t.Errorf("getTrustedSite = %+v", v)
	}
	if a := s.answered.String(); strings.Contains(a, "first-client-secret") || strings.Contains(a, "second-client-secret") {
		t.Error("an answer holds the site's client secret")
	}
}

// A site's authentication headers reach the receiver, and the delivery
// log shows them redacted.
func TestSecurityTrustedSiteHeadersRedacted(t *testing.T) {
	s := newSiteProc(t)
	rcv := newReceiver()
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	id := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "Keyed", "baseUrl": srv.URL, "headers": map[string]any{"X-Api-Key": "header-secret-value"},
	}))
	sub := s.subscribe(srv.URL+"/in", id)
	s.createCustomer("one@example.com")
	if got := rcv.waitFor(t, 1, 15*time.Second); got[0].Header.Get("X-Api-Key") != "header-secret-value" {
		t.Errorf("delivery X-Api-Key = %q", got[0].Header.Get("X-Api-Key"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := s.call(s.admin, "system.Webhook", "getWebhookLogs", map[string]any{"id": sub}).must(t)
		if strings.Contains(a.Raw, "X-Api-Key") || time.Now().After(deadline) {
			if !strings.Contains(a.Raw, `"X-Api-Key":"[redacted]"`) {
				t.Errorf("getWebhookLogs does not show X-Api-Key redacted: %s", a.Raw)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(s.answered.String(), "header-secret-value") {
		t.Error("an answer holds the site's header value")
	}
}

// A trusted site's stored credentials never follow a changed destination:
// moving its baseUrl to another host needs the password again, changing
// its tokenUrl needs the client secret again.
func TestSecurityTrustedSiteCredentialsStayWithTheirHost(t *testing.T) {
	s := newSiteProc(t)
	first, second := httptest.NewServer(newReceiver()), httptest.NewServer(newReceiver())
	defer first.Close()
	defer second.Close()

	basic := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "Moving", "baseUrl": first.URL + "/hooks",
		"basicAuth": map[string]any{"username": "hook", "password": "stay-pa55word"},
	}))
	wantError(t, s.site("updateTrustedSite", map[string]any{"id": basic, "baseUrl": second.URL + "/hooks"}), 400, "JQL:JqlException", "basicAuth.password")
	s.site("updateTrustedSite", map[string]any{"id": basic, "baseUrl": first.URL + "/other"}).must(t)
	s.site("updateTrustedSite", map[string]any{"id": basic, "baseUrl": second.URL + "/hooks",
		"basicAuth": map[string]any{"username": "hook", "password": "new-pa55word"}}).must(t)

	headers := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "Keyed", "baseUrl": first.URL + "/keyed", "headers": map[string]any{"X-Api-Key": "stay-key-123"},
	}))
	wantError(t, s.site("updateTrustedSite", map[string]any{"id": headers, "baseUrl": second.URL + "/keyed"}), 400, "JQL:JqlException", "headers.X-Api-Key")

	oauth := siteID(t, s.site("createTrustedSite", map[string]any{
		"name": "Tokens", "baseUrl": first.URL + "/o",
		"oauth2": map[string]any{"tokenUrl": first.URL + "/token", "clientId": "c", "clientSecret": "stay-secret-123"},
	}))
	wantError(t, s.site("updateTrustedSite", map[string]any{"id": oauth,
		"oauth2": map[string]any{"tokenUrl": second.URL + "/token", "clientId": "c"}}), 400, "JQL:JqlException", "oauth2.clientSecret")
}
