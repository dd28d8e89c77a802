package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the responses")

// routes is the test's namespace table: namespace → schema and intents.
// (The real router lives in namespaces, which gateway must not import.)
var routes = map[string]struct {
	schema  string
	intents []string
}{
	"system.Schema":    {"controller", []string{"describe"}},
	"profile.Customer": {"model", []string{"create", "retrieve", "boom", "leak", "slow"}},
	"system.User":      {"controller", []string{"authenticate"}},
}

func isPublic(ns, intent string) bool {
	return ns == "system.Schema" || ns == "system.User" && intent == "authenticate"
}

func isKnown(ns, intent string) bool {
	r, ok := routes[ns]
	return ok && slices.Contains(r.intents, intent)
}

// route is a hand-written stand-in for namespaces.Mux with the same errors.
func route(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	m := cmd.Meta
	r, ok := routes[m.Namespace]
	switch {
	case !ok:
		return nil, &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Namespace " + m.Namespace + " does not exist.", Field: "__meta__.namespace"}
	case m.Schema != r.schema:
		return nil, jqlgate.Invalid("__meta__.schema", "%s is a %s namespace.", m.Namespace, r.schema)
	case !slices.Contains(r.intents, m.Intent):
		return nil, jqlgate.Invalid("__meta__.intent", "%s has no intent %q; valid intents: %s.", m.Namespace, m.Intent, strings.Join(r.intents, ", "))
	}
	return intentResult(ctx, cmd)
}

func intentResult(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	switch cmd.Meta.Intent {
	case "boom":
		panic("boom")
	case "leak":
		return nil, fmt.Errorf("dial tcp 10.0.0.7:27017: secret-password rejected")
	case "slow":
		<-ctx.Done()
		return nil, ctx.Err()
	case "authenticate":
		return &jqlgate.Result{Message: "Logged in.", Cookies: []*http.Cookie{{Name: "jwt", Value: "tok", HttpOnly: true}}}, nil
	}
	jqlgate.CountQuery(ctx)
	jqlgate.CountQuery(ctx)
	data := map[string]any{"meta": cmd.Meta, "fields": cmd.Fields}
	if p := jqlgate.PrincipalFromContext(ctx); p != nil && cmd.Principal == p {
		data["principal"] = p.ID
	}
	return &jqlgate.Result{Data: data, Message: "Done.", Filtered: 1, Display: 1}, nil
}

// fakeAuth accepts "good" (all of profile.Customer) and "reader"
// (retrieve only), for any class, and records the class it was asked for.
type fakeAuth struct{ classes []string }

func (f *fakeAuth) Authenticate(ctx context.Context, class, token string) (*jqlgate.Principal, error) {
	f.classes = append(f.classes, class)
	switch token {
	case "good":
		return &jqlgate.Principal{ID: "c1", Kind: jqlgate.PrincipalClient, Permissions: []string{"profile.Customer:*"}}, nil
	case "reader":
		return &jqlgate.Principal{ID: "c2", Kind: jqlgate.PrincipalClient, Permissions: []string{"profile.Customer:retrieve"}}, nil
	}
	return nil, jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication failed: the token is invalid or expired.")
}

// newTestServer starts the gateway on an httptest server.
func newTestServer(t testing.TB, lim Limits) (*Server, *httptest.Server) {
	t.Helper()
	s := NewServer("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.Handler = jqlgate.HandlerFunc(route)
	s.Public = isPublic
	s.Known = isKnown
	s.Authenticator = &fakeAuth{}
	s.Limits = lim
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func post(t *testing.T, url string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp, b
}

var requestIDs = regexp.MustCompile(`req_[0-9a-z]{26}`)

// checkGolden compares a response body with testdata/name.golden.json,
// after indenting it and replacing request ids, which are random.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, body)
	}
	got := requestIDs.ReplaceAll(buf.Bytes(), []byte("req_ID"))
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response body:\n%s\nwant (%s):\n%s", got, path, want)
	}
}
