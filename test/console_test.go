package test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The console's browser tests drive Debian's chromium with chromedp
// against the real serve binary. Screenshots of every page go to
// $CONSOLE_SCREENSHOTS when set, else to a temporary directory.

const consolePassword = "correct horse battery staple"

// browserPath finds a Chrome or Chromium binary; without one the test is
// skipped, or fails when CI=true (CI installs chromium).
func browserPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if p := "/usr/bin/chromium"; fileExists(p) {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium or chrome binary found, and CI=true: the console's browser tests must run in CI (apt-get install chromium)")
	}
	t.Skip("skipping the console's browser tests: no chromium or chrome binary found (apt-get install chromium)")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// createConsoleUser runs `jqlgate user create` before serve takes the data dir.
func createConsoleUser(t testing.TB, dir, name, scope string) {
	t.Helper()
	cmd := exec.Command(binary, "user", "create", "--init", "--username", name, "--scope", scope, "--data-dir", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	}
	cmd.Stdin = strings.NewReader(consolePassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jqlgate user create %s: %v\n%s", name, err, out)
	}
}

// browser is one headless chromium tab on a running server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := browserPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, base: base, dir: dir}
}

// run runs actions with a timeout, failing the test on error.
func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, body string
		_ = chromedp.Run(b.ctx, chromedp.Location(&loc), chromedp.Text("main", &body, chromedp.ByQuery))
		b.t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, body)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady("body", chromedp.ByQuery))
}

// text is the visible text of the page's main element.
func (b *browser) text() string {
	b.t.Helper()
	var s string
	b.run("read the page", chromedp.Text("main", &s, chromedp.ByQuery))
	return s
}

func (b *browser) location() string {
	b.t.Helper()
	var s string
	b.run("read the location", chromedp.Location(&s))
	return s
}

// shot saves a full-page PNG screenshot as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	var png []byte
	b.run("screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// eventually reloads path until its text contains want.
func (b *browser) eventually(path, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.open(path)
		s := b.text()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %q; it shows:\n%s", path, want, s)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (b *browser) signIn(user, password string) {
	b.t.Helper()
	b.open("/console/")
	b.run("sign in as "+user,
		chromedp.WaitVisible("#username", chromedp.ByQuery),
		chromedp.SetValue("#username", user, chromedp.ByQuery),
		chromedp.SetValue("#password", password, chromedp.ByQuery),
		chromedp.Click(`form[action="/console/signin"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("header.top nav", chromedp.ByQuery),
	)
}

func (b *browser) signOut() {
	b.t.Helper()
	b.run("sign out", chromedp.Click(`form.signout button`, chromedp.ByQuery), chromedp.WaitVisible("#username", chromedp.ByQuery))
}

// addWebhook fills the Add webhook form and submits it; it returns the
// new webhook's id from the page it lands on.
func (b *browser) addWebhook(url, prefix, event, schedule string) string {
	b.t.Helper()
	var extra []chromedp.Action
	if schedule != "" {
		extra = append(extra, chromedp.Click("#retry-custom", chromedp.ByQuery), chromedp.SetValue("#schedule", schedule, chromedp.ByQuery))
	}
	return b.addWebhookWith(url, prefix, []string{event}, extra...)
}

// addWebhookWith ticks each of events on the Add webhook form, runs
// extra on it, and submits it.
func (b *browser) addWebhookWith(url, prefix string, events []string, extra ...chromedp.Action) string {
	b.t.Helper()
	b.open("/console/webhooks/new")
	actions := []chromedp.Action{
		chromedp.SetValue("#webhookUrl", url, chromedp.ByQuery),
		chromedp.SetValue("#prefix", prefix, chromedp.ByQuery),
	}
	for _, ev := range events {
		actions = append(actions, chromedp.Click(fmt.Sprintf(`input[name=event][value=%q]`, ev), chromedp.ByQuery))
	}
	b.run("fill the webhook form", append(actions, extra...)...)
	if prefix == "app" {
		b.shot("webhook-add")
	}
	b.run("submit the webhook form", chromedp.Click(`form.wide button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible("section h2", chromedp.ByQuery))
	m := regexp.MustCompile(`/console/webhooks/(sub_[a-z0-9]+)$`).FindStringSubmatch(b.location())
	if m == nil {
		b.t.Fatalf("adding a webhook landed on %s:\n%s", b.location(), b.text())
	}
	return m[1]
}

// count is how many elements match a CSS selector on the page.
func (b *browser) count(sel string) int {
	b.t.Helper()
	var n int
	b.run("count "+sel, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n))
	return n
}

// recordingReceiver answers 200 and keeps one header of every request.
type recordingReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecordingReceiver(t *testing.T, header string) *recordingReceiver {
	r := &recordingReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Header.Get(header))
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// waitFor waits until the receiver has seen want.
func (r *recordingReceiver) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r.mu.Lock()
		seen := slices.Clone(r.seen)
		r.mu.Unlock()
		if slices.Contains(seen, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver never got %q; it got %q", want, seen)
		}
	}
}

// switchReceiver is a webhook receiver whose answer can be switched.
type switchReceiver struct {
	*httptest.Server
	status atomic.Int32
	hits   atomic.Int32
}

func newSwitchReceiver(t *testing.T, status int, body string) *switchReceiver {
	r := &switchReceiver{}
	r.status.Store(int32(status))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Receiver", "test")
		w.WriteHeader(int(r.status.Load()))
		fmt.Fprint(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

// userToken signs in through /jql as a system.User, for class jwt calls.
func userToken(t *testing.T, p *proc, user string) string {
	t.Helper()
	a := p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
		"username": user, "password": consolePassword}).must(t)
	var d struct{ Token string }
	a.decode(t, &d)
	return d.Token
}

// consoleRenameCustomer updates a customer through /jql.
func consoleRenameCustomer(t *testing.T, p *proc, token, id, name string) {
	t.Helper()
	m := map[string]any{"namespace": "profile.Customer", "schema": "model", "intent": "update", "authenticationClass": "jwt", "authenticationToken": token,
		"uniqueObject": map[string]any{"id": id}}
	p.jql(map[string]any{"__meta__": m, "name": name}).must(t)
}

func consoleCustomer(t *testing.T, p *proc, token, name string) string {
	t.Helper()
	m := map[string]any{"namespace": "profile.Customer", "schema": "model", "intent": "create", "authenticationClass": "jwt", "authenticationToken": token}
	a := p.jql(map[string]any{"__meta__": m, "name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"}).must(t)
	var d struct{ ID string }
	a.decode(t, &d)
	return d.ID
}

const hostileBody = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">ok`

// TestConsoleBrowser walks the console in chromium: sign-in, adding a
// webhook, watching deliveries, retries, records, isolation, CSRF and
// inert receiver markup.
func TestConsoleBrowser(t *testing.T) {
	browserPath(t)
	dir := t.TempDir()
	createConsoleUser(t, dir, "admin", "*")
	createConsoleUser(t, dir, "alice", "system.Webhook:subscribeToWebhook system.Webhook:listWebhooks system.Webhook:getWebhook "+
		"system.Webhook:getWebhookLogs system.Webhook:getWebhookQueue system.Webhook:listEvents system.Webhook:privateTargets profile.Customer:retrieve")
	p := serve(t, dir, "JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8")
	ok := newSwitchReceiver(t, http.StatusOK, hostileBody)
	failing := newSwitchReceiver(t, http.StatusInternalServerError, "down for maintenance")
	b := newBrowser(t, p.URL)

	// Sign-in: a wrong password is refused.
	b.open("/console/")
	b.run("wrong password",
		chromedp.WaitVisible("#username", chromedp.ByQuery),
		chromedp.SetValue("#username", "admin", chromedp.ByQuery),
		chromedp.SetValue("#password", "not the password", chromedp.ByQuery),
		chromedp.Click(`form[action="/console/signin"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(".error", chromedp.ByQuery))
	if s := b.text(); !strings.Contains(s, "Wrong username or password") {
		t.Fatalf("a wrong password was not refused:\n%s", s)
	}
	b.shot("signin")
	b.signIn("admin", consolePassword)
	if s := b.text(); !strings.Contains(s, "Deliveries, last 24 hours") {
		t.Fatalf("signing in did not open the overview:\n%s", s)
	}

	// A webhook added through the form, then a customer created through /jql.
	sub := b.addWebhook(ok.URL+"/hooks", "app", "profile.Customer:create", "")
	token := userToken(t, p, "admin")
	cus := consoleCustomer(t, p, token, "Ada Lovelace")

	// View events: the delivery is Done, with its request and response.
	b.eventually("/console/webhooks/"+sub, "Done")
	var reqBody, respBody string
	var pwned any
	b.run("expand the delivery",
		chromedp.Click("details.attempt summary", chromedp.ByQuery),
		chromedp.WaitVisible("details.attempt[open] .attempt-body", chromedp.ByQuery),
		chromedp.Text("details.attempt[open] pre.body", &reqBody, chromedp.ByQuery),
		chromedp.Text("details.attempt[open] pre.body:last-of-type", &respBody, chromedp.ByQuery),
		chromedp.Evaluate(`window.pwned === undefined ? null : window.pwned`, &pwned))
	if !strings.Contains(reqBody, cus) {
		t.Errorf("the request body shown does not hold the customer %s:\n%s", cus, reqBody)
	}
	if !strings.Contains(b.text(), hostileBody) || pwned != nil {
		t.Errorf("the receiver's markup was not shown as inert text (window.pwned=%v); response shown: %q", pwned, respBody)
	}
	b.shot("webhook-detail")

	// Reveal the secret.
	b.run("reveal the secret", chromedp.Click(`form[action$="/secret"] button`, chromedp.ByQuery), chromedp.WaitVisible("#secret", chromedp.ByQuery))
	var secret string
	b.run("read the secret", chromedp.Text("#secret", &secret, chromedp.ByQuery))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("revealed secret %q", secret)
	}

	// A failing receiver: Resent in Logs, its retry in the Queue.
	failSub := b.addWebhook(failing.URL+"/hooks", "flaky", "profile.Customer:create", "60")
	cus2 := consoleCustomer(t, p, token, "Grace Hopper")
	b.eventually("/console/logs?webhook="+failSub, "Resent")
	b.shot("logs")
	b.eventually("/console/queue", failing.URL)
	b.shot("queue")

	// Retry now delivers it once the receiver is back.
	failing.status.Store(http.StatusOK)
	b.run("retry now", chromedp.Click(`form[action^="/console/deliveries/"] button`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	b.eventually("/console/logs?status=Done&webhook="+failSub, "Done")
	// Once a later attempt succeeded, the older Resent one offers no Retry,
	// also when a filter hides the later attempt.
	for _, path := range []string{"/console/logs?webhook=" + failSub, "/console/logs?status=Resent&webhook=" + failSub, "/console/webhooks/" + failSub} {
		b.open(path)
		if s := b.text(); !strings.Contains(s, "Resent") {
			t.Fatalf("%s does not show the Resent attempt:\n%s", path, s)
		}
		if n := b.count(`form[action^="/console/deliveries/"]`); n != 0 {
			t.Errorf("%s offers Retry on %d attempts of a delivery that is Done", path, n)
		}
	}

	// The customer link opens the record, with its deliveries.
	b.open("/console/logs?webhook=" + failSub)
	b.run("open the customer", chromedp.Click(`#log-rows a[href="/console/records/profile.Customer/`+cus2+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible("section h2", chromedp.ByQuery))
	if s := b.text(); !strings.Contains(s, cus2) || !strings.Contains(s, "Grace Hopper") {
		t.Fatalf("the customer link did not open the record:\n%s", s)
	}
	b.shot("record")

	// A webhook with two events, through the form: both arrive.
	multi := newRecordingReceiver(t, "X-Webhook-Event")
	multiSub := b.addWebhookWith(multi.URL+"/hooks", "multi", []string{"profile.Customer:create", "profile.Customer:update"})
	if s := b.text(); !strings.Contains(s, "profile.Customer:create") || !strings.Contains(s, "profile.Customer:update") {
		t.Errorf("the webhook page does not list both events:\n%s", s)
	}
	cus3 := consoleCustomer(t, p, token, "Katherine Johnson")
	consoleRenameCustomer(t, p, token, cus3, "Katherine G. Johnson")
	multi.waitFor(t, "profile.Customer:create")
	multi.waitFor(t, "profile.Customer:update")
	b.open("/console/webhooks")
	if s := b.text(); !strings.Contains(s, multi.URL) || !strings.Contains(s, "profile.Customer:update") {
		t.Errorf("the list does not show the two-event webhook's events:\n%s", s)
	}
	b.eventually("/console/webhooks/"+multiSub+"/edit", "Save webhook")
	var ticked int
	b.run("count ticked events", chromedp.Evaluate(`document.querySelectorAll("input[name=event]:checked").length`, &ticked))
	if ticked != 2 {
		t.Errorf("the Edit form ticks %d events, want 2", ticked)
	}

	// A v1a webhook shows its whpk_ public key; a host that does not
	// resolve is saved with a warning.
	b.addWebhookWith("http://receiver.invalid/hooks", "signed", []string{"profile.Customer:delete"},
		chromedp.Click("#scheme-v1a", chromedp.ByQuery))
	s := b.text()
	if !strings.Contains(s, "does not resolve") {
		t.Errorf("no warning after adding a webhook whose host does not resolve:\n%s", s)
	}
	var pub string
	b.run("read the public key", chromedp.Text("#public-key", &pub, chromedp.ByQuery))
	if !strings.HasPrefix(pub, "whpk_") || strings.Contains(s, "whsk_") {
		t.Errorf("a v1a webhook's page shows key %q:\n%s", pub, s)
	}
	b.shot("webhook-v1a")

	// A trusted site added through the form and picked on the Add webhook
	// form: its basic auth reaches the receiver.
	guarded := newRecordingReceiver(t, "Authorization")
	b.open("/console/sites/new")
	b.run("fill the site form",
		chromedp.SetValue("#name", "Billing", chromedp.ByQuery),
		chromedp.SetValue("#baseUrl", guarded.URL, chromedp.ByQuery),
		chromedp.Click("#auth-basic", chromedp.ByQuery),
		chromedp.SetValue("#username", "billing", chromedp.ByQuery),
		chromedp.SetValue("#password", "s3cret-pass", chromedp.ByQuery))
	b.shot("site-add")
	b.run("save the site", chromedp.Click(`form.wide button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	if s := b.text(); !strings.Contains(s, "Billing") || !strings.Contains(s, guarded.URL) || strings.Contains(s, "s3cret-pass") {
		t.Fatalf("the sites page after adding one:\n%s", s)
	}
	siteSub := b.addWebhookWith(guarded.URL+"/in", "billing", []string{"profile.Customer:create"},
		chromedp.Click("#auth-site", chromedp.ByQuery),
		chromedp.Evaluate(`(() => { const s = document.querySelector("#trustedSite"); s.value = [...s.options].find(o => o.text.startsWith("Billing")).value; })()`, nil))
	if s := b.text(); !strings.Contains(s, "Billing") {
		t.Errorf("the webhook page does not name its trusted site:\n%s", s)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("billing:s3cret-pass"))
	consoleCustomer(t, p, token, "Dorothy Vaughan")
	guarded.waitFor(t, basic)
	b.eventually("/console/logs?webhook="+siteSub, "Billing")

	// Editing the site with the password left blank keeps it.
	b.open("/console/sites")
	b.run("open the site", chromedp.Click(`a[href$="/edit"]`, chromedp.ByQuery), chromedp.WaitVisible("#name", chromedp.ByQuery))
	if s := b.text(); !strings.Contains(s, guarded.URL+"/in") {
		t.Errorf("the site's page does not list the webhook using it:\n%s", s)
	}
	var pw string
	b.run("read the password field", chromedp.Value("#password", &pw, chromedp.ByQuery))
	if pw != "" {
		t.Errorf("the site form shows the stored password %q", pw)
	}
	b.shot("site-edit")
	b.run("rename the site", chromedp.SetValue("#name", "Billing EU", chromedp.ByQuery),
		chromedp.Click(`form.wide button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	guarded.mu.Lock()
	guarded.seen = nil
	guarded.mu.Unlock()
	consoleCustomer(t, p, token, "Mary Jackson")
	guarded.waitFor(t, basic)

	// Deleting a site in use is refused, naming the webhooks using it.
	b.open("/console/sites")
	b.run("delete the site", chromedp.Click(`details.confirm summary`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/delete"] button`, chromedp.ByQuery), chromedp.WaitVisible("#site-in-use", chromedp.ByQuery))
	if s := b.text(); !strings.Contains(s, "still in use") || !strings.Contains(s, guarded.URL+"/in") {
		t.Errorf("deleting a site in use:\n%s", s)
	}
	b.shot("site-in-use")

	// Another owner's webhook: alice subscribes through /jql; the operator
	// sees it named by its owner, with its logs, but no secret and no edit.
	aliceRcv := newRecordingReceiver(t, "X-Webhook-Event")
	aliceToken := userToken(t, p, "alice")
	var aliceSub struct{ ID string }
	p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.Webhook", "schema": "controller", "intent": "subscribeToWebhook",
		"authenticationClass": "jwt", "authenticationToken": aliceToken},
		"prefix": "alice", "trigger": "profile.Customer:create", "webhookUrl": aliceRcv.URL + "/alice"}).must(t).decode(t, &aliceSub)
	consoleCustomer(t, p, token, "Annie Easley")
	aliceRcv.waitFor(t, "profile.Customer:create")
	b.open("/console/webhooks")
	if s := b.text(); !strings.Contains(s, aliceRcv.URL) || !strings.Contains(s, "user:") {
		t.Errorf("the operator does not see alice's webhook with its owner:\n%s", s)
	}
	if s := b.eventually("/console/webhooks/"+aliceSub.ID, "Done"); !strings.Contains(s, "belongs to") {
		t.Errorf("the operator's view of alice's webhook:\n%s", s)
	}
	if n := b.count(`form[action$="/secret"], a[href$="/edit"], a[href$="/delete"]`); n != 0 {
		t.Errorf("the operator is offered %d secret, edit or delete controls on alice's webhook", n)
	}
	b.shot("webhook-operated")
	b.eventually("/console/logs?webhook="+aliceSub.ID, aliceRcv.URL)
	b.open("/console/webhooks/" + aliceSub.ID + "/edit")
	if s := b.text(); !strings.Contains(s, "Only its owner") {
		t.Errorf("editing alice's webhook as an operator:\n%s", s)
	}

	// The remaining pages, for the screenshots.
	for _, pg := range []struct{ path, name, want string }{
		{"/console/", "overview", "Queue"},
		{"/console/webhooks", "webhooks", ok.URL},
		{"/console/webhooks/" + sub + "/edit", "webhook-edit", "Save webhook"},
		{"/console/records/profile.Customer", "records", cus},
		{"/console/events", "events", "profile.Customer:create"},
		{"/console/sites", "sites", "Trusted sites"},
	} {
		b.open(pg.path)
		if s := b.text(); !strings.Contains(s, pg.want) {
			t.Errorf("%s does not show %q:\n%s", pg.path, pg.want, s)
		}
		b.shot(pg.name)
	}

	// A form POST without the CSRF token is refused, even from the console's
	// own origin with the session cookie.
	var status int
	b.run("post without a token", chromedp.Evaluate(`fetch("/console/webhooks/`+sub+`/disable", {method: "POST", body: new URLSearchParams({back: "/console/"})}).then(r => r.status)`,
		&status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if status != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token got %d, want 403", status)
	}
	b.open("/console/webhooks/" + sub)
	if s := b.text(); strings.Contains(s, "Disabled") {
		t.Errorf("the webhook was disabled by a POST without the CSRF token")
	}

	// A narrow screen still reads.
	b.run("narrow window", chromedp.EmulateViewport(375, 800))
	for _, pg := range []struct{ path, name string }{
		{"/console/logs", "logs-375"}, {"/console/webhooks", "webhooks-375"}, {"/console/webhooks/" + sub, "webhook-detail-375"},
		{"/console/webhooks/new", "webhook-add-375"}, {"/console/queue", "queue-375"}, {"/console/sites", "sites-375"},
		{"/console/", "overview-375"}, {"/console/webhooks/" + aliceSub.ID, "webhook-operated-375"},
	} {
		b.open(pg.path)
		b.shot(pg.name)
	}
	b.run("wide window", chromedp.EmulateViewport(1280, 900))

	// A user without system.Webhook:operate sees neither another owner's
	// webhook in the list nor its page by URL.
	b.signOut()
	b.signIn("alice", consolePassword)
	b.open("/console/webhooks")
	if s := b.text(); strings.Contains(s, ok.URL) || strings.Contains(s, failing.URL) {
		t.Errorf("alice sees admin's webhooks:\n%s", s)
	}
	if s := b.text(); !strings.Contains(s, aliceRcv.URL) || strings.Contains(s, "user:") {
		t.Errorf("alice does not see her own webhook, or sees owners:\n%s", s)
	}
	b.open("/console/logs")
	if s := b.text(); strings.Contains(s, ok.URL) || strings.Contains(s, guarded.URL) || !strings.Contains(s, aliceRcv.URL) {
		t.Errorf("alice's logs show other owners' deliveries, or not hers:\n%s", s)
	}
	var code int
	b.run("open admin's webhook by URL", chromedp.Navigate(p.URL+"/console/webhooks/"+sub),
		chromedp.Evaluate(`performance.getEntriesByType("navigation")[0].responseStatus`, &code))
	if s := b.text(); strings.Contains(s, ok.URL) || code != http.StatusNotFound && code != http.StatusForbidden {
		t.Errorf("alice opened admin's webhook by URL (status %d):\n%s", code, s)
	}
	b.shot("not-found")
}

// TestConsoleHeaders checks, without a browser, that every console
// response carries the CSP and framing headers, and that sign-in pages
// need no JavaScript.
func TestConsoleHeaders(t *testing.T) {
	p := serve(t, t.TempDir())
	for _, path := range []string{"/console/signin", "/console/static/console.css", "/console/nope"} {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q, want DENY", path, got)
		}
	}
	// Signed out, a page sends the browser to sign in.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(p.URL + "/console/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin") {
		t.Errorf("signed out: %d to %q, want 303 to the sign-in page", resp.StatusCode, loc)
	}
}

// BenchmarkConsolePages times each console page with 10,000 deliveries in
// the store (one webhook, 10,000 customers created through /jql), in
// ms/page. The logs, queue and overview read attempts and events through
// the store's indexes; the records pages read the records:
//
//	go test ./test/ -run '^$' -bench BenchmarkConsolePages -benchtime 20x
func BenchmarkConsolePages(b *testing.B) {
	dir := b.TempDir()
	createConsoleUser(b, dir, "admin", "*")
	p := serve(b, dir, "JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_RATE_LIMIT=-1")
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer rcv.Close()
	token := benchUserToken(b, p)
	jwt := func(ns, schema, intent string) map[string]any {
		return map[string]any{"namespace": ns, "schema": schema, "intent": intent, "authenticationClass": "jwt", "authenticationToken": token}
	}
	var sub struct{ ID string }
	p.jql(map[string]any{"__meta__": jwt("system.Webhook", "controller", "subscribeToWebhook"),
		"prefix": "bench", "trigger": "profile.Customer:create", "webhookUrl": rcv.URL}).must(b).decode(b, &sub)
	const n = 10000
	var wg sync.WaitGroup
	next := atomic.Int32{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= n; i = next.Add(1) {
				p.jql(map[string]any{"__meta__": jwt("profile.Customer", "model", "create"), "name": fmt.Sprintf("Customer %d", i),
					"email": fmt.Sprintf("c%d@example.com", i)}).must(b)
			}
		}()
	}
	wg.Wait()
	var lastCus struct{ ID string }
	for deadline := time.Now().Add(5 * time.Minute); ; {
		a := p.jql(map[string]any{"__meta__": jwt("system.Webhook", "controller", "getWebhookLogs"), "id": sub.ID, "status": "Done", "limit": 1}).must(b)
		if a.Extras["filtered"] >= n {
			var rows []struct {
				Request struct{ Headers map[string]string }
			}
			a.decode(b, &rows)
			lastCus.ID = rows[0].Request.Headers["X-Webhook-Entity-Id"]
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d deliveries done", a.Extras["filtered"], n)
		}
		time.Sleep(time.Second)
	}
	client := consoleClient(b, p)
	for _, pg := range []struct{ name, path string }{
		{"overview", "/console/"},
		{"webhooks", "/console/webhooks"},
		{"webhook", "/console/webhooks/" + sub.ID},
		{"logs", "/console/logs"},
		{"logs-filtered", "/console/logs?status=Done&customer=" + lastCus.ID},
		{"queue", "/console/queue"},
		{"records", "/console/records/profile.Customer"},
		{"record", "/console/records/profile.Customer/" + lastCus.ID},
		{"events", "/console/events"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := client.Get(p.URL + pg.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}

func benchUserToken(b testing.TB, p *proc) string {
	a := p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate"},
		"username": "admin", "password": consolePassword}).must(b)
	var d struct{ Token string }
	a.decode(b, &d)
	return d.Token
}

// consoleClient signs in to the console with a plain HTTP client.
func consoleClient(t testing.TB, p *proc) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	resp, err := c.Get(p.URL + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", body)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = c.PostForm(p.URL+"/console/signin", url.Values{"csrf": {string(m[1])}, "username": {"admin"}, "password": {consolePassword}, "next": {"/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("signing in answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c.CheckRedirect = nil
	return c
}
