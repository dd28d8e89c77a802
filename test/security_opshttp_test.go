package test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// Item 10: --body-limit bounds a compressed body after decompression: a
// few KiB of gzip that inflate to 16 MiB are a 413 (not read to the end);
// an encoding the server does not decode is a 415, never read as JSON.
func TestSecurityCompressedBodyLimit(t *testing.T) {
	p := serve(t, t.TempDir(), "JQLGATE_BODY_LIMIT=64KiB", "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret)
	// A JSON string of 16 MiB of spaces: valid once decompressed, were it
	// not far over the limit.
	bomb := append([]byte(`{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"},"x":"`), bytes.Repeat([]byte(" "), 16<<20)...)
	bomb = append(bomb, `"}`...)
	for _, enc := range []string{"gzip", "deflate"} {
		t.Run(enc+" bomb", func(t *testing.T) {
			z := compress(t, enc, bomb)
			if len(z) > 64<<10 {
				t.Fatalf("the bomb is %d bytes compressed, want it under the limit", len(z))
			}
			a := p.raw(http.MethodPost, "/jql", bytes.NewReader(z), jsonHeader(enc))
			if a.StatusCode != 413 || !strings.Contains(a.body, "JQL:JqlException") {
				t.Fatalf("got %d %s, want 413", a.StatusCode, a.body)
			}
		})
	}
	t.Run("many empty gzip members", func(t *testing.T) {
		// Inflates to nothing, so only the compressed bound stops it.
		var buf bytes.Buffer
		for buf.Len() <= 80<<10 {
			w := gzip.NewWriter(&buf)
			w.Close()
		}
		a := p.raw(http.MethodPost, "/jql", bytes.NewReader(buf.Bytes()), jsonHeader("gzip"))
		if a.StatusCode != 413 {
			t.Fatalf("got %d %s, want 413", a.StatusCode, a.body)
		}
	})
	t.Run("token bomb", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {adminID}, "client_secret": {adminSecret}}.Encode() + "&pad=" + strings.Repeat("a", 16<<20)
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Encoding": {"gzip"}}
		a := p.raw(http.MethodPost, "/oauth2/token", bytes.NewReader(compress(t, "gzip", []byte(form))), h)
		if a.StatusCode == 200 || a.StatusCode >= 500 {
			t.Fatalf("got %d %s, want the oversized form refused", a.StatusCode, a.body)
		}
	})
	for _, enc := range []string{"br", "zstd", "gzip, br", "compress"} {
		t.Run(enc, func(t *testing.T) {
			a := p.raw(http.MethodPost, "/jql", strings.NewReader(`{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"}}`), jsonHeader(enc))
			if a.StatusCode != 415 || !strings.Contains(a.body, "JQL:JqlException") || !strings.Contains(a.body, "Content-Encoding") {
				t.Fatalf("got %d %s, want a 415 naming the Content-Encoding", a.StatusCode, a.body)
			}
		})
	}
	t.Run("br on token", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Encoding": {"br"}}
		a := p.raw(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials"), h)
		if a.StatusCode != 415 {
			t.Fatalf("got %d %s, want 415", a.StatusCode, a.body)
		}
	})
}

// Item 11: CORS headers go to listed origins only, credentials to listed
// origins only (never with *), and a listed origin's page may use the jwt
// cookie while any other origin's may not.
func TestSecurityCORSCredentialsOnlyForListedOrigins(t *testing.T) {
	const app = "https://console.example.com"
	dir := t.TempDir()
	createUser(t, dir, "corsuser", "system.Webhook:* system.Webhook:privateTargets")
	p := corsServe(t, dir, app)
	var user struct{ Token string }
	login := func() {
		p.jql(map[string]any{
			"__meta__": map[string]any{"namespace": "system.User", "schema": "controller", "intent": "authenticate", "authenticationClass": "jwt", "return": map[string]any{"token": nil}},
			"username": "corsuser", "password": "correct horse battery staple",
		}).must(t).decode(t, &user)
	}
	login()
	list := `{"__meta__":{"namespace":"system.Webhook","schema":"controller","intent":"listWebhooks","authenticationClass":"jwt"}}`
	call := func(method, origin string, cookie bool) rawAnswer {
		h := http.Header{"Origin": {origin}}
		var body *strings.Reader
		if method == http.MethodPost {
			h.Set("Content-Type", "application/json")
			body = strings.NewReader(list)
		} else {
			h.Set("Access-Control-Request-Method", "POST")
			h.Set("Access-Control-Request-Headers", "content-type")
			body = strings.NewReader("")
		}
		if cookie {
			h.Set("Cookie", "jwt="+user.Token)
		}
		return p.raw(method, "/jql", body, h)
	}

	for _, m := range []string{http.MethodOptions, http.MethodPost} {
		a := call(m, app, true)
		if a.Header.Get("Access-Control-Allow-Origin") != app || a.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("%s from %s: %d %v, want its origin with credentials", m, app, a.StatusCode, a.Header)
		}
		if m == http.MethodPost && a.StatusCode != 200 {
			t.Errorf("cookie request from the listed origin: %d %s, want 200", a.StatusCode, a.body)
		}
		for _, evil := range []string{"https://evil.example", "https://console.example.com.evil.example", "http://console.example.com", "null"} {
			a := call(m, evil, true)
			for k := range a.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s from %s: answered %s: %s", m, evil, k, a.Header.Get(k))
				}
			}
			if m == http.MethodPost && a.StatusCode != 403 {
				t.Errorf("cookie request from %s: %d %s, want 403", evil, a.StatusCode, a.body)
			}
		}
	}

	// With "*" too, other origins get no credentials.
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(30e9)
	p = corsServe(t, dir, "*,"+app)
	login() // the issuer is the new process's URL
	a := p.raw(http.MethodPost, "/jql", strings.NewReader(list), http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}, "Cookie": {"jwt=" + user.Token}})
	if a.Header.Get("Access-Control-Allow-Origin") != "*" || a.Header.Get("Access-Control-Allow-Credentials") != "" || a.StatusCode != 403 {
		t.Errorf("with *: %d %v %s, want * without credentials and the cookie refused", a.StatusCode, a.Header, a.body)
	}
	a = p.raw(http.MethodPost, "/jql", strings.NewReader(list), http.Header{"Content-Type": {"application/json"}, "Origin": {app}, "Cookie": {"jwt=" + user.Token}})
	if a.Header.Get("Access-Control-Allow-Origin") != app || a.Header.Get("Access-Control-Allow-Credentials") != "true" || a.StatusCode != 200 {
		t.Errorf("with * and %s: %d %v", app, a.StatusCode, a.Header)
	}
}

// Item 8: the image makes /data for the non-root user before declaring
// the volume, the build context leaves out data/ (secret.key) and
// node_modules, and compose publishes only on loopback and says how a
// receiver on the host is reached.
func TestSecurityDockerImageAndCompose(t *testing.T) {
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(df)
	chown := strings.Index(s, "--chown=65532:65532")
	volume := strings.Index(s, "VOLUME")
	if chown < 0 || volume < chown || !strings.Contains(s[chown:volume], "/data") {
		t.Errorf("Dockerfile does not copy /data owned by 65532 (nonroot) before VOLUME:\n%s", s)
	}
	if !strings.Contains(s, "mkdir") {
		t.Error("Dockerfile never makes the /data directory")
	}
	if !strings.Contains(s, "USER 65532:65532") && !strings.Contains(s, "USER nonroot:nonroot") {
		t.Error("Dockerfile does not run as nonroot")
	}

	ign, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ign))
	for _, want := range []string{"data/", "**/node_modules", ".git", "*.test", "**/secret.key", ".env"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}

	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  "..",
		ConfigFiles: []types.ConfigFile{{Filename: "docker-compose.yml", Content: b}},
		Environment: types.Mapping{"JQLGATE_SECRET_KEY": "k", "JQLGATE_BOOTSTRAP_CLIENT_SECRET": "s"},
	}
	proj, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) { o.SetProjectName("jqlgate", true) })
	if err != nil {
		t.Fatal(err)
	}
	gw, err := proj.GetService("jqlgate")
	if err != nil {
		t.Fatal(err)
	}
	if len(gw.Ports) == 0 {
		t.Error("jqlgate publishes no port")
	}
	for _, port := range gw.Ports {
		if port.HostIP != "127.0.0.1" {
			j, _ := json.Marshal(port)
			t.Errorf("port %s is published on %q, want 127.0.0.1", j, port.HostIP)
		}
	}
	if got := gw.ExtraHosts["host.docker.internal"]; !slices.Contains(got, "host-gateway") {
		t.Errorf("extra_hosts = %v, want host.docker.internal:host-gateway", gw.ExtraHosts)
	}
	cidrs := gw.Environment["JQLGATE_WEBHOOK_ALLOW_CIDRS"]
	if cidrs == nil || *cidrs == "" {
		t.Error("JQLGATE_WEBHOOK_ALLOW_CIDRS is not set, so a receiver on the host is refused as private")
	}
}
