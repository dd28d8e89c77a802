package test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// compress encodes b with the named Content-Encoding (gzip, deflate as
// zlib, or raw-deflate).
func compress(t testing.TB, enc string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "raw-deflate":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	default:
		t.Fatalf("unknown encoding %q", enc)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jsonHeader is the header of a JSON request with the given
// Content-Encoding.
func jsonHeader(enc string) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {enc}}
}

// Compressed request bodies: gzip and deflate (zlib, and raw deflate as
// some clients send it) reach the handler decompressed, on /jql and on
// /oauth2/token; a damaged one is a 400 that says so.
func TestOpsHTTPCompressedBodies(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	create := func(name string) []byte {
		b, _ := json.Marshal(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": name, "email": strings.ToLower(name) + "@example.com"})
		return b
	}
	for _, enc := range []string{"gzip", "deflate", "raw-deflate"} {
		t.Run(enc, func(t *testing.T) {
			name := strings.ReplaceAll(enc, "-", "")
			header := enc
			if enc == "raw-deflate" {
				header = "deflate"
			}
			a := p.raw(http.MethodPost, "/jql", bytes.NewReader(compress(t, enc, create(name))), jsonHeader(header))
			if a.StatusCode != 200 || !strings.Contains(a.body, `"status":"OK"`) || !strings.Contains(a.body, name+"@example.com") {
				t.Fatalf("got %d %s, want the customer created", a.StatusCode, a.body)
			}
		})
	}
	t.Run("gzip token request", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {adminID}, "client_secret": {adminSecret}}.Encode()
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Encoding": {"gzip"}}
		a := p.raw(http.MethodPost, "/oauth2/token", bytes.NewReader(compress(t, "gzip", []byte(form))), h)
		if a.StatusCode != 200 || !strings.Contains(a.body, "access_token") {
			t.Fatalf("got %d %s, want a token", a.StatusCode, a.body)
		}
	})
	t.Run("identity", func(t *testing.T) {
		a := p.raw(http.MethodPost, "/jql", bytes.NewReader(create("Identity")), jsonHeader("identity"))
		if a.StatusCode != 200 {
			t.Fatalf("got %d %s, want 200", a.StatusCode, a.body)
		}
	})
	t.Run("damaged gzip", func(t *testing.T) {
		z := compress(t, "gzip", create("Damaged"))
		a := p.raw(http.MethodPost, "/jql", bytes.NewReader(z[:len(z)/2]), jsonHeader("gzip"))
		if a.StatusCode != 400 || !strings.Contains(a.body, "Content-Encoding") {
			t.Fatalf("got %d %s, want 400 naming the Content-Encoding", a.StatusCode, a.body)
		}
	})
}

// corsServe starts a server whose CORS origins are origins.
func corsServe(t *testing.T, dir, origins string) *proc {
	t.Helper()
	return serve(t, dir, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_CORS_ALLOW_ORIGINS="+origins)
}

// CORS: a listed origin's preflight and actual requests to /jql and
// /oauth2/token get the headers a browser needs, credentials included; a
// wildcard lets any other origin in without credentials.
func TestOpsHTTPCORS(t *testing.T) {
	const app = "https://app.example.com"
	p := corsServe(t, t.TempDir(), app+", *")
	for _, path := range []string{"/jql", "/oauth2/token"} {
		t.Run("preflight "+path, func(t *testing.T) {
			a := p.raw(http.MethodOptions, path, nil, http.Header{"Origin": {app}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type,authorization"}})
			h := a.Header
			if a.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != app || h.Get("Access-Control-Allow-Credentials") != "true" ||
				!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
				h.Get("Access-Control-Max-Age") == "" {
				t.Fatalf("preflight: %d %v", a.StatusCode, h)
			}
		})
	}
	t.Run("actual request", func(t *testing.T) {
		h := jsonHeader("identity")
		h.Set("Origin", app)
		a := p.raw(http.MethodPost, "/jql", strings.NewReader(`{"__meta__":{"namespace":"system.Schema","schema":"controller","intent":"describe"}}`), h)
		if a.StatusCode != 200 || a.Header.Get("Access-Control-Allow-Origin") != app || a.Header.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(a.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
			t.Fatalf("got %d %v", a.StatusCode, a.Header)
		}
	})
	t.Run("wildcard", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {adminID}, "client_secret": {adminSecret}}.Encode()
		a := p.raw(http.MethodPost, "/oauth2/token", strings.NewReader(form), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://other.example"}})
		if a.StatusCode != 200 || a.Header.Get("Access-Control-Allow-Origin") != "*" || a.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("got %d %v, want * without credentials", a.StatusCode, a.Header)
		}
	})
	t.Run("not an API route", func(t *testing.T) {
		a := p.raw(http.MethodGet, "/metrics", nil, http.Header{"Origin": {app}})
		if a.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("/metrics answered with CORS headers: %v", a.Header)
		}
	})
}

// The LICENSE file is the Apache License 2.0, unchanged, and the README
// says so.
func TestOpsHTTPLicense(t *testing.T) {
	b, err := os.ReadFile("../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "http://www.apache.org/licenses/",
		"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(s, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	if n := strings.Count(s, "\n"); n < 190 {
		t.Errorf("LICENSE has %d lines, want the full text (about 200)", n)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "## License") || !strings.Contains(string(readme), "Apache License 2.0") {
		t.Error("README has no License section naming the Apache License 2.0")
	}
}
