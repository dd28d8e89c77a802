package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return out.String(), err
}

func TestClientCommands(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "client", "create", "--init", "--data-dir", dir, "--name", "ci", "--scope", "system.Webhook:* profile.Customer:create")
	if err != nil {
		t.Fatal(err)
	}
	var cc struct{ ClientID, ClientSecret string }
	if err := json.Unmarshal([]byte(strings.ReplaceAll(out, "client_", "Client")), &cc); err != nil || cc.ClientID == "" || len(cc.ClientSecret) != 64 {
		t.Fatalf("create printed %q (%v), want client_id and client_secret", out, err)
	}
	out, err = runCLI(t, "client", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, cc.ClientID) || strings.Contains(out, cc.ClientSecret) {
		t.Errorf("list: %q %v; want the id and never the secret", out, err)
	}
	if _, err := runCLI(t, "client", "create", "--data-dir", dir, "--name", "x", "--scope", "profile.Cust"); err == nil || !strings.Contains(err.Error(), "--scope") {
		t.Errorf("bad scope: got %v, want a --scope error", err)
	}
	// While another process holds the data dir, the CLI refuses at once.
	unlock, err := lockDataDir("", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := runCLI(t, "client", "list", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "in use by another jqlgate process") {
		t.Errorf("locked data dir: got %v, want the in-use message", err)
	}
}
