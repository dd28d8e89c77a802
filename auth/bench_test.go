package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

// BenchmarkVerifyAccess measures what authenticating one oauth2 request
// adds: parse, ES256 verify, claim checks (keys are in memory).
func BenchmarkVerifyAccess(b *testing.B) {
	e := newEnv(b)
	tok := e.token(b, e.client(b, "*"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessCurrent is BenchmarkVerifyAccess acting with the
// client's current state (Principals, as serve runs): what the
// per-request principal check adds to every authenticated request.
func BenchmarkVerifyAccessCurrent(b *testing.B) {
	e := withPrincipals(newEnv(b))
	e.principals.Poll = 0 // serve's default, 500ms
	tok := e.token(b, e.client(b, "*"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.authn.Authenticate(ctx, jqlgate.AuthOAuth2, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenEndpoint measures POST /oauth2/token over HTTP against the
// real store (one client lookup, one signature per token).
func BenchmarkTokenEndpoint(b *testing.B) {
	e := newEnv(b)
	cfg := e.client(b, "*")
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, cfg.TokenURL, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(cfg.ClientID, cfg.ClientSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("token: %v %v", resp, err)
			}
			resp.Body.Close()
		}
	})
}
