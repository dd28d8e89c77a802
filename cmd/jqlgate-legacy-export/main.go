// Command jqlgate-legacy-export writes the embedded store of earlier
// jqlgate versions (FerretDB on SQLite files in <data-dir>/store) as a
// jqlgate store export on standard output, for `jqlgate store import`:
//
//	go run ./cmd/jqlgate-legacy-export --data-dir D | jqlgate store import --data-dir D
//
// It starts FerretDB in process on those files, reads them through the
// MongoDB adapter and seals the secrets with the data dir's master key
// (secret.key, or --secret-key). It is a separate binary so that FerretDB
// stays out of jqlgate's.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/internal/ferret"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/storeio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "jqlgate-legacy-export:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jqlgate-legacy-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("JQLGATE_DATA_DIR", "data"), "the data dir whose store/ folder holds the earlier embedded store")
	database := fs.String("database", "jqlgate", "the database name the earlier serve used")
	secretKey := fs.String("secret-key", os.Getenv("JQLGATE_SECRET_KEY"), "the master key (base64); default: <data-dir>/secret.key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := filepath.Join(*dataDir, "store")
	if old, _ := filepath.Glob(filepath.Join(dir, "*.sqlite")); len(old) == 0 {
		return fmt.Errorf("no earlier embedded store in %s (no *.sqlite files)", dir)
	}
	sealer, err := loadSealer(*dataDir, *secretKey)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	uri, stopFerret, err := ferret.Start(ctx, dir, logger)
	if err != nil {
		return fmt.Errorf("starting FerretDB on %s: %w", dir, err)
	}
	defer stopFerret()
	db, err := mongodb.Open(ctx, mongodb.Config{URI: uri, Database: *database, ConnectTimeout: 30 * time.Second, Logger: logger})
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(stderr, "jqlgate-legacy-export: reading %s (database %s)\n", dir, *database)
	_, err = storeio.Export(ctx, newPort(db.Database, sealer), stdout, sealer,
		storeio.Options{Progress: stderr, Source: "earlier embedded store in " + dir})
	return err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// loadSealer returns the sealer of the key given, or of <dataDir>/secret.key.
func loadSealer(dataDir, key string) (*jqlgate.Sealer, error) {
	from := "--secret-key"
	if key == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, "secret.key"))
		if err != nil {
			return nil, fmt.Errorf("master key: %w (give --secret-key)", err)
		}
		key, from = string(b), filepath.Join(dataDir, "secret.key")
	}
	key = strings.TrimSpace(key)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(key); err == nil {
			s, err := jqlgate.NewSealer(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", from, err)
			}
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s: the key must be %d bytes in base64", from, jqlgate.KeySize)
}
