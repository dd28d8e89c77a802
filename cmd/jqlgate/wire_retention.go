package main

import (
	"context"
	"fmt"
)

// wireRetention keeps attempt records and events for --retention: a TTL
// index expires attempt records where the server has them, and a sweeper
// deletes events (and, without the TTL index, attempt records) in small
// batches every 10 minutes, the first a minute after the start. It stops
// on shutdown before the dispatcher. A retention of 0 keeps everything.
func wireRetention(ctx context.Context, a *app, cfg serveConfig) error {
	stop, err := a.store.retention(ctx, cfg.Dispatcher.Retention, a.logger)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if stop != nil {
		a.workers = append(a.workers, stop)
	}
	return nil
}
