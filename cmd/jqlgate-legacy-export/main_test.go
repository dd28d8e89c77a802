package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/internal/ferret"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/sqlite"
)

// TestLegacyExport writes a store as the earlier serve did (FerretDB on
// <dir>/store, database jqlgate), exports it with this command and pipes
// it into the real `jqlgate store import` on the same data dir.
func TestLegacyExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sealer, err := loadSealer(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	uri, stop, err := ferret.Start(ctx, filepath.Join(dir, "store"), logger)
	if err != nil {
		t.Fatal(err)
	}
	db, err := mongodb.Open(ctx, mongodb.Config{URI: uri, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mongodb.NewAuthStore(db.Database).CreateClient(ctx, &jqlgate.Client{ID: "cl_old", Name: "old", SecretHash: []byte("h"), CreatedAt: at, UpdatedAt: at}))
	secret := jqlgate.NewSigningSecret(jqlgate.SchemeV1)
	_, _, err = mongodb.NewSubscriptionStore(db.Database, sealer).Create(ctx, &jqlgate.Subscription{ID: "sub_old", Owner: "client:cl_old",
		Trigger: "profile.Customer:create", Triggers: []string{"profile.Customer:create"}, WebhookURL: "https://h.example.com/",
		Method: "POST", ContentType: "application/json", Enabled: true, SignatureScheme: jqlgate.SchemeV1,
		Secrets: []jqlgate.Secret{{Value: secret, CreatedAt: at}}, CreatedAt: at, UpdatedAt: at})
	must(err)
	recs := mongodb.NewRecordStore(db.Database, mongodb.BatcherOptions{})
	for i := range 3 {
		must(recs.Insert(ctx, "customers", map[string]any{"id": "cus_" + string(rune('a'+i)), "name": "n", "points": int64(i)}))
	}
	must(recs.Close(ctx))
	dels := mongodb.NewDeliveryStore(db.Database)
	must(dels.InsertEvents(ctx, []*jqlgate.Fanout{{Event: &jqlgate.Event{ID: "evt_old", Type: "profile.Customer:create", Timestamp: at},
		Targets: []string{"sub_old"}, Node: "n1", Accepted: at}}))
	must(dels.Close(ctx))
	must(db.Close(ctx))
	stop()

	var export bytes.Buffer
	if err := run(ctx, []string{"--data-dir", dir}, &export, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(export.String(), secret) {
		t.Error("the export holds a plaintext signing secret")
	}
	bin := filepath.Join(t.TempDir(), "jqlgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../jqlgate").CombinedOutput(); err != nil {
		t.Fatalf("build jqlgate: %v\n%s", err, out)
	}
	// serve (any store command) refuses the data dir while it has only the
	// earlier store, and names the commands to run.
	if out, err := exec.Command(bin, "client", "list", "--data-dir", dir).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "jqlgate-legacy-export --data-dir") {
		t.Errorf("before the import: %v %s", err, out)
	}
	cmd := exec.Command(bin, "store", "import", "--data-dir", dir)
	cmd.Stdin = &export
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}

	sdb, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, sqlite.FileName), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close(ctx)
	if c, err := sqlite.NewAuthStore(sdb).Client(ctx, "cl_old"); err != nil || c.Name != "old" {
		t.Errorf("client: %v %v", c, err)
	}
	sub, err := sqlite.NewSubscriptionStore(sdb, sealer).Get(ctx, "sub_old")
	if err != nil || len(sub.Secrets) != 1 || sub.Secrets[0].Value != secret {
		t.Errorf("subscription: %+v %v", sub, err)
	}
	if n, err := sqlite.NewRecordStore(sdb).Count(ctx, "customers", &jqlgate.Query{}); err != nil || n != 3 {
		t.Errorf("customers: %d %v", n, err)
	}
	if evs, err := sqlite.NewDeliveryStore(sdb).EventsByID(ctx, []string{"evt_old"}); err != nil || len(evs) != 1 {
		t.Errorf("events: %v %v", evs, err)
	}
}
