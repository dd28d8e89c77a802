package main

import (
	"context"
	"fmt"

	"github.com/jqlgate/jqlgate/mongodb"
)

// wireRetention keeps attempt records and events for --retention: a TTL
// index expires attempt records where the server has them, and a sweeper
// deletes events (and, without the TTL index, attempt records) in small
// batches every 10 minutes, the first a minute after the start. It stops
// on shutdown before the dispatcher. A retention of 0 keeps everything.
func wireRetention(ctx context.Context, a *app, cfg serveConfig, store *mongodb.DeliveryStore) error {
	retention := cfg.Dispatcher.Retention
	ttl, err := store.EnsureRetention(ctx, retention)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if retention == 0 {
		return nil
	}
	a.logger.Info("retention", "keep", retention.String(), "attempts_ttl_index", ttl)
	sw := mongodb.NewSweeper(store, mongodb.SweeperOptions{Retention: retention, Attempts: !ttl, Logger: a.logger})
	sw.Start()
	a.workers = append(a.workers, sw.Stop)
	return nil
}
