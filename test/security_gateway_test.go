package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServe starts `jqlgate serve` like serve does, without waiting for
// it to be ready (it may be meant to fail).
func startServe(t *testing.T, dataDir string, env ...string) *proc {
	t.Helper()
	env = append(env, "JQLGATE_ADDR=127.0.0.1:0", "JQLGATE_DATA_DIR="+dataDir)
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		env = append(env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	}
	return startProc(t, env, "serve")
}

// writeSchema writes one schema file into a new schema dir and returns it.
func writeSchema(t *testing.T, name, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Item 5: a schema file naming an internal collection (auth_users let a
// model client create an all-permission user; subscriptions exposed every
// owner's webhooks) or declaring a system.* namespace (system.Webhook made
// serve panic) stops serve at start with one clean line.
func TestSecuritySchemaCannotReachInternalCollections(t *testing.T) {
	tests := []struct{ name, file, body, want string }{
		{"auth_users", "evil.yaml", "namespace: evil.Users\ncollection: auth_users\nfields:\n  - {name: username, type: string}\n  - {name: permissions, type: array}\n",
			`collection: "auth_users" must start with "model_"`},
		{"subscriptions", "subs.json", `{"namespace":"evil.Subs","collection":"subscriptions","fields":[{"name":"owner","type":"string"}]}`,
			`collection: "subscriptions" must start with "model_"`},
		{"system namespace", "hook.yaml", "namespace: system.Webhook\nfields:\n  - {name: x, type: string}\n",
			`namespace: "system.Webhook" is reserved`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startServe(t, t.TempDir(), "JQLGATE_SCHEMA_DIR="+writeSchema(t, tt.file, tt.body))
			if code := p.wait(60 * time.Second); code == 0 {
				t.Fatalf("serve exited 0 with %s, want it refused:\n%s", tt.file, p.logs.String())
			}
			out := p.logs.String()
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Fatalf("serve panicked:\n%s", out)
			}
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "jqlgate: ") {
					line = l
				}
			}
			if !strings.Contains(line, tt.want) || !strings.Contains(line, tt.file) {
				t.Errorf("error line %q, want one naming %s and saying %q\noutput:\n%s", line, tt.file, tt.want, out)
			}
		})
	}
}

// Item 5: the built-in profile.Customer keeps its collection (so existing
// data stays readable), and a schema file may still choose a model_
// collection of its own.
func TestSecuritySchemaModelCollectionsStillWork(t *testing.T) {
	schemas := writeSchema(t, "order.yaml", "namespace: shop.Order\ncollection: model_orders\nfields:\n  - {name: total, type: number}\n")
	dir := t.TempDir()
	p := serve(t, dir, "JQLGATE_SCHEMA_DIR="+schemas, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret)
	logs := p.logs.String()
	for _, want := range []string{`"namespace":"profile.Customer","collection":"model_profile_customer"`, `"namespace":"shop.Order","collection":"model_orders"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("start log lacks %s:\n%s", want, logs)
		}
	}
	tok := p.token(adminID, adminSecret)
	p.jql(map[string]any{"__meta__": meta("shop.Order", "model", "create", tok), "total": 12.5}).must(t)
	created := p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Ada", "email": "ada@example.com"}).must(t)

	// A restart reads the same records: the collection name did not move.
	p.signal(os.Interrupt)
	p.wait(30 * time.Second)
	p = serve(t, dir, "JQLGATE_SCHEMA_DIR="+schemas, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret)
	tok = p.token(adminID, adminSecret)
	var rec struct{ ID string }
	created.decode(t, &rec)
	m := meta("profile.Customer", "model", "retrieve", tok)
	m["uniqueObject"] = map[string]any{"id": rec.ID}
	p.jql(map[string]any{"__meta__": m}).must(t)
}

// Item 8: a client's X-Request-Id is kept only when it is a short safe
// token, and probes are not logged at info: 20 probes with a 1 MB id once
// grew the log by 19 MiB.
func TestSecurityRequestIDIsBounded(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	huge := strings.Repeat("A", 1<<20-8192)
	before := len(p.logs.String())
	for range 20 {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp := p.raw(http.MethodGet, path, nil, http.Header{"X-Request-Id": {huge}})
			if got := resp.Header.Get("X-Request-Id"); len(got) > 64 || got == "" {
				t.Fatalf("GET %s answered X-Request-Id of %d bytes, want a generated short one", path, len(got))
			}
		}
	}
	// A /jql request with a long id gets a new one; a short safe id is kept.
	body := `{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"}}`
	resp := p.raw(http.MethodPost, "/jql", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {strings.Repeat("b", 65)}})
	if got := resp.Header.Get("X-Request-Id"); !strings.HasPrefix(got, "req_") {
		t.Errorf("65-byte id: answer X-Request-Id = %q, want a generated req_ id", got)
	}
	resp = p.raw(http.MethodPost, "/jql", strings.NewReader(body), http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"trace-42.a_b"}})
	if got := resp.Header.Get("X-Request-Id"); got != "trace-42.a_b" {
		t.Errorf("safe id: answer X-Request-Id = %q, want it kept", got)
	}
	waitFor(t, func() bool { return strings.Contains(p.logs.String(), `"id":"trace-42.a_b"`) })
	grown := len(p.logs.String()) - before
	if grown > 4096 || strings.Contains(p.logs.String(), "AAAAAAAA") || strings.Contains(p.logs.String(), "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") {
		t.Errorf("the log grew by %d bytes for 40 probes and 2 requests, or holds a client's long id", grown)
	}
	if n := strings.Count(p.logs.String()[before:], `"path":"/healthz"`); n != 0 {
		t.Errorf("%d probe lines logged at info, want none", n)
	}
}

// Item 12: a /jql request the jwt cookie authenticates needs
// application/json and must come from the server's own origin; bearer and
// __meta__ tokens are unaffected.
func TestSecurityCookieRequestsAreSameOrigin(t *testing.T) {
	dir := t.TempDir()
	createUser(t, dir, "csrf", "system.Webhook:* system.Webhook:privateTargets profile.Customer:retrieve")
	p := serveWithAdmin(t, dir)
	login := p.jql(map[string]any{
		"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate", "authenticationClass": "jwt", "return": map[string]any{"token": nil}},
		"username": "csrf", "password": "correct horse battery staple",
	}).must(t)
	var user struct{ Token string }
	login.decode(t, &user)

	subscribe := func(url string) string {
		b, _ := json.Marshal(map[string]any{
			"__meta__": map[string]any{"namespace": "system.Webhook", "schema": "controller", "intent": "subscribeToWebhook", "authenticationClass": "jwt"},
			"prefix":   "profile", "trigger": "profile.Customer:create", "webhookUrl": url,
		})
		return string(b)
	}
	cookie := "jwt=" + user.Token
	tests := []struct {
		name   string
		header http.Header
		status int
		want   string
	}{
		{"no content type, cookie only", http.Header{"Cookie": {cookie}}, 415, "send application/json"},
		{"text/plain form post", http.Header{"Cookie": {cookie}, "Content-Type": {"text/plain"}, "Origin": {"http://evil.example"}}, 415, "send application/json"},
		{"no origin evidence", http.Header{"Cookie": {cookie}, "Content-Type": {"application/json"}}, 403, "Cross-origin request refused"},
		{"same-site page", http.Header{"Cookie": {cookie}, "Content-Type": {"application/json"}, "Origin": {"http://evil.127.0.0.1.nip.io"}, "Sec-Fetch-Site": {"same-site"}}, 403, "Cross-origin request refused"},
		{"other origin", http.Header{"Cookie": {cookie}, "Content-Type": {"application/json"}, "Origin": {"http://evil.example"}}, 403, "Cross-origin request refused"},
		{"other referer", http.Header{"Cookie": {cookie}, "Content-Type": {"application/json"}, "Referer": {"http://evil.example/page"}}, 403, "Cross-origin request refused"},
		{"own origin", http.Header{"Cookie": {cookie}, "Content-Type": {"application/json"}, "Origin": {p.URL}}, 200, `"status":"OK"`},
		{"own referer", http.Header{"Cookie": {cookie}, "Content-Type": {"application/json"}, "Referer": {p.URL + "/console"}}, 200, `"status":"OK"`},
		{"bearer from anywhere", http.Header{"Authorization": {"Bearer " + user.Token}, "Content-Type": {"application/json"}, "Origin": {"http://evil.example"}}, 200, `"status":"OK"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.raw(http.MethodPost, "/jql", strings.NewReader(subscribe("http://127.0.0.1:9/hook"+string(rune('a'+i)))), tt.header)
			if resp.StatusCode != tt.status || !strings.Contains(resp.body, tt.want) {
				t.Errorf("got %d %s, want %d with %s", resp.StatusCode, resp.body, tt.status, tt.want)
			}
		})
	}
	// Only the three allowed requests made subscriptions.
	list := p.raw(http.MethodPost, "/jql", strings.NewReader(`{"__meta__":{"namespace":"system.Webhook","schema":"controller","intent":"listWebhooks","authenticationClass":"jwt","authenticationToken":"`+user.Token+`"}}`), http.Header{"Content-Type": {"application/json"}})
	if n := strings.Count(list.body, `"webhookUrl"`); list.StatusCode != 200 || n != 3 {
		t.Errorf("the user has %d subscriptions, want 3:\n%s", n, list.body)
	}
}

// Item 14: every answer is nosniff; /jql and /oauth2/* answers are no-store.
func TestSecurityResponseHeaders(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		method, path string
		body         string
		header       http.Header
		noStore      bool
	}{
		{http.MethodGet, "/healthz", "", nil, false},
		{http.MethodGet, "/readyz", "", nil, false},
		{http.MethodGet, "/nope", "", nil, false},
		{http.MethodPost, "/jql", `{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"}}`, http.Header{"Content-Type": {"application/json"}}, true},
		{http.MethodPost, "/jql", `{`, http.Header{"Content-Type": {"application/json"}}, true},
		{http.MethodPost, "/oauth2/token", "grant_type=client_credentials&client_id=" + adminID + "&client_secret=" + adminSecret, form, true},
		{http.MethodPost, "/oauth2/token", "grant_type=client_credentials&client_id=nobody&client_secret=x", form, true},
	}
	for _, tt := range tests {
		resp := p.raw(tt.method, tt.path, strings.NewReader(tt.body), tt.header)
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options = %q, want nosniff", tt.method, tt.path, resp.StatusCode, got)
		}
		if got := resp.Header.Get("Cache-Control"); tt.noStore && got != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control = %q, want no-store", tt.method, tt.path, resp.StatusCode, got)
		}
	}
}

// Item 14: bad input is answered in words naming the field and the form
// expected, never with Go's own texts (strconv errors, fmt's map[…]).
func TestSecurityErrorMessagesHideInternals(t *testing.T) {
	schemas := writeSchema(t, "item.yaml", "namespace: shop.Item\nfields:\n  - {name: age, type: integer}\n  - {name: price, type: number}\n  - {name: seen, type: datetime}\n  - {name: extra, type: object}\n")
	p := serve(t, t.TempDir(), "JQLGATE_SCHEMA_DIR="+schemas, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret)
	tok := p.token(adminID, adminSecret)
	with := func(ns, intent string, extra map[string]any, fields map[string]any) map[string]any {
		m := meta(ns, "model", intent, tok)
		for k, v := range extra {
			m[k] = v
		}
		body := map[string]any{"__meta__": m}
		for k, v := range fields {
			body[k] = v
		}
		return body
	}
	op := func(k string, v any) map[string]any { return map[string]any{k: v} }
	huge := json.RawMessage("1e999")
	tests := []struct {
		name string
		body map[string]any
	}{
		{"customer filter operator object", with("profile.Customer", "retrieve", op("filter", op("age", op("$gt", "abc"))), nil)},
		{"customer filter $ne", with("profile.Customer", "retrieve", op("filter", op("name", op("$ne", ""))), nil)},
		{"customer uniqueObject id object", with("profile.Customer", "retrieve", op("uniqueObject", op("id", op("$ne", ""))), nil)},
		{"customer uniqueObject id number", with("profile.Customer", "retrieve", op("uniqueObject", op("id", 12)), nil)},
		{"customer uniqueObject email object", with("profile.Customer", "retrieve", op("uniqueObject", op("email", op("$ne", ""))), nil)},
		{"customer metadata huge number", with("profile.Customer", "create", nil, map[string]any{"name": "A", "email": "a@example.com", "metadata": op("x", huge)})},
		{"filter integer garbage", with("shop.Item", "retrieve", op("filter", op("age__gt", "abc")), nil)},
		{"filter number garbage", with("shop.Item", "retrieve", op("filter", op("price__lte", "x")), nil)},
		{"filter number out of range", with("shop.Item", "retrieve", op("filter", op("price", "1e999")), nil)},
		{"filter operator object on number", with("shop.Item", "retrieve", op("filter", op("price", op("$gt", 1))), nil)},
		{"filter in with objects", with("shop.Item", "retrieve", op("filter", op("age__in", []any{op("$gt", 1)})), nil)},
		{"filter datetime garbage", with("shop.Item", "retrieve", op("filter", op("seen__gte", "yesterday")), nil)},
		{"exclude lookup unknown", with("shop.Item", "retrieve", op("exclude", op("age__regex", ".*")), nil)},
		{"create integer garbage", with("shop.Item", "create", nil, map[string]any{"age": "12abc", "price": "abc", "seen": "soon"})},
		{"create integer fraction and huge", with("shop.Item", "create", nil, map[string]any{"age": 1.5, "price": huge})},
		{"create object huge number", with("shop.Item", "create", nil, map[string]any{"extra": op("n", []any{huge})})},
		{"limit garbage", with("shop.Item", "retrieve", op("limit", "abc"), nil)},
		{"limit huge", with("shop.Item", "retrieve", op("limit", huge), nil)},
	}
	leaks := []string{"strconv", "map[", "%!", "interface", "json:", "reflect", "runtime", "parsing ", "invalid syntax", "value out of range", "[]", "<nil>", "0x"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := p.jql(tt.body)
			if a.HTTPStatus != 400 || len(a.Errors) == 0 {
				t.Fatalf("got %d %s, want 400 with errors", a.HTTPStatus, a.Raw)
			}
			texts := []string{a.Message}
			for _, e := range a.Errors {
				if e.Field == "" {
					t.Errorf("error %q names no field", e.ErrorMessage)
				}
				texts = append(texts, e.ErrorMessage)
			}
			for _, s := range texts {
				for _, leak := range leaks {
					if strings.Contains(s, leak) {
						t.Errorf("message %q shows %q", s, leak)
					}
				}
			}
		})
	}
}

// rawAnswer is an HTTP answer with its body read.
type rawAnswer struct {
	*http.Response
	body string
}

// raw sends one request with exactly the given headers.
func (p *proc) raw(method, path string, body io.Reader, header http.Header) rawAnswer {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp, string(b)}
}

// createUser makes a system.User with the password "correct horse battery
// staple", before the server takes the data dir.
func createUser(t *testing.T, dir, name, scope string) {
	t.Helper()
	cmd := exec.Command(binary, "user", "create", "--init", "--username", name, "--scope", scope, "--data-dir", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(t.Name()))
	}
	cmd.Stdin = strings.NewReader("correct horse battery staple\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("jqlgate user create: %v\n%s", err, out.String())
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// Console pages draw on the same per-principal rate limit as /jql: a user
// who has spent it gets 429 with Retry-After there too.
func TestSecurityConsoleIsRateLimited(t *testing.T) {
	dir := t.TempDir()
	createConsoleUser(t, dir, "admin", "*")
	p := serve(t, dir, "JQLGATE_RATE_LIMIT=2", "JQLGATE_RATE_BURST=2")
	client := consoleClient(t, p)
	limited := 0
	for range 20 {
		resp, err := client.Get(p.URL + "/console/records/profile.Customer")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("a limited console page has no Retry-After")
			}
		default:
			t.Fatalf("console page answered %d", resp.StatusCode)
		}
	}
	if limited < 15 {
		t.Errorf("%d of 20 console pages at --rate-limit 2 were limited, want most", limited)
	}
}
