package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jqlgate/jqlgate/sqlite"
)

// openSQLiteBackend opens the embedded store in the data dir.
func openSQLiteBackend(ctx context.Context, cfg storeConfig, logger *slog.Logger) (*backend, error) {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	path := filepath.Join(dir, sqlite.FileName)
	if err := refuseLegacyStore(dir, path); err != nil {
		return nil, err
	}
	sealer, err := cfg.sealer()
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: path, Sync: cfg.EmbeddedSync, Logger: logger})
	if err != nil {
		return nil, err
	}
	deliveries := sqlite.NewDeliveryStore(db)
	b := &backend{
		embedded:      true,
		where:         "embedded in " + path,
		auth:          sqlite.NewAuthStore(db),
		subscriptions: sqlite.NewSubscriptionStore(db, sealer),
		sites:         sqlite.NewTrustedSiteStore(db, sealer),
		deliveries:    deliveries,
		query:         sqlite.NewDeliveryQuery(db),
		records:       sqlite.NewRecordStore(db),
		ping:          db.Ping,
		close:         db.Close,
	}
	b.retention = func(_ context.Context, keep time.Duration, logger *slog.Logger) (func(context.Context) error, error) {
		if keep == 0 {
			return nil, nil
		}
		logger.Info("retention", "keep", keep.String())
		sw := sqlite.NewSweeper(deliveries, sqlite.SweeperOptions{Retention: keep, Logger: logger})
		sw.Start()
		return sw.Stop, nil
	}
	return b, nil
}

// legacyStoreDir is where the embedded store of earlier versions (FerretDB
// on SQLite) kept its files, inside the data dir.
const legacyStoreDir = "store"

// refuseLegacyStore stops a start on a data dir that holds only a store of
// the earlier format, which this version does not read: starting empty
// beside it would look like lost data.
func refuseLegacyStore(dir, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	old, err := filepath.Glob(filepath.Join(dir, legacyStoreDir, "*.sqlite"))
	if err != nil || len(old) == 0 {
		return nil
	}
	if _, err := os.Stat(old[0]); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("the data dir %s holds an embedded store of the earlier format (%s, FerretDB), which this version does not read; "+
		"copy it into the new store with `go run ./cmd/jqlgate-legacy-export --data-dir %s | jqlgate store import --data-dir %s`, "+
		"or start with another --data-dir", dir, old[0], dir, dir)
}
