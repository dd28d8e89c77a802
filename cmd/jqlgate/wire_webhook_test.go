package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLoadSecretKeyConfigured(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name, value, uri string
		wantErr          string
	}{
		{"standard base64", base64.StdEncoding.EncodeToString(key), "", ""},
		{"url base64 without padding", base64.RawURLEncoding.EncodeToString(key), "mongodb://db", ""},
		{"too short", base64.StdEncoding.EncodeToString(key[:16]), "", "must be 32 bytes, got 16"},
		{"not base64", "not base64!", "", "32 bytes in base64"},
		{"none with MongoDB", "", "mongodb://db", "JQLGATE_SECRET_KEY (or --secret-key) is required with MONGODB_URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serveConfig{MongoDBURI: tt.uri, DataDir: t.TempDir(), Webhook: webhookConfig{SecretKey: tt.value}}
			got, err := loadSecretKey(cfg, quiet)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("key = %x, %v; want %x", got, err, key)
			}
		})
	}
}

func TestLoadSecretKeyEmbeddedGeneratesOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig{DataDir: filepath.Join(dir, "data")}
	first, err := loadSecretKey(cfg, quiet)
	if err != nil || len(first) != 32 {
		t.Fatalf("first load: %x, %v", first, err)
	}
	path := filepath.Join(dir, "data", secretKeyFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %v, want 0600", perm)
	}
	again, err := loadSecretKey(cfg, quiet)
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("second load = %x, %v; want the first key %x", again, err, first)
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSecretKey(cfg, quiet); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt key file: err = %v, want one naming %s", err, path)
	}
}

func TestParseWebhookConfig(t *testing.T) {
	env := map[string]string{"JQLGATE_WEBHOOK_ALLOW_CIDRS": "127.0.0.1, 10.0.0.0/8", "JQLGATE_WEBHOOK_REQUIRE_HTTPS": "true"}
	s := newOptionSet("serve", "", serveOptions, func(k string) string { return env[k] })
	if err := s.parse(nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	c, err := parseWebhookConfig(s)
	if err != nil || len(c.Policy.Allow) != 2 || !c.Policy.RequireHTTPS {
		t.Errorf("config = %+v, %v; want two ranges and https required", c, err)
	}
	env["JQLGATE_WEBHOOK_ALLOW_CIDRS"] = "not-a-range"
	s = newOptionSet("serve", "", serveOptions, func(k string) string { return env[k] })
	_ = s.parse(nil, io.Discard)
	if _, err := parseWebhookConfig(s); err == nil || !strings.Contains(err.Error(), "--webhook-allow-cidrs") {
		t.Errorf("bad range: err = %v", err)
	}
}
