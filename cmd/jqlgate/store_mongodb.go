package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jqlgate/jqlgate/mongodb"
)

// openMongoBackend connects to MongoDB and makes sure every index its
// stores read by exists.
func openMongoBackend(ctx context.Context, cfg storeConfig, logger *slog.Logger) (*backend, error) {
	db, err := mongodb.Open(ctx, mongodb.Config{URI: cfg.MongoDBURI, Database: cfg.Database, ConnectTimeout: cfg.ConnectTimeout, Logger: logger})
	if err != nil {
		return nil, err
	}
	sealer, err := cfg.sealer()
	if err != nil {
		_ = db.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	authStore := mongodb.NewAuthStore(db.Database)
	deliveries := mongodb.NewDeliveryStore(db.Database)
	query := mongodb.NewDeliveryQuery(db.Database)
	b := &backend{
		where:         fmt.Sprintf("MongoDB %s, database %s", mongodb.MaskURI(cfg.MongoDBURI), db.Database.Name()),
		auth:          authStore,
		subscriptions: mongodb.NewSubscriptionStore(db.Database, sealer),
		sites:         mongodb.NewTrustedSiteStore(db.Database, sealer),
		deliveries:    deliveries,
		query:         query,
		records:       mongodb.NewRecordStore(db.Database, mongodb.BatcherOptions{}),
		ping:          db.Ping,
		close:         db.Close,
		drop:          db.Database.Drop,
	}
	b.retention = func(ctx context.Context, keep time.Duration, logger *slog.Logger) (func(context.Context) error, error) {
		ttl, err := deliveries.EnsureRetention(ctx, keep)
		if err != nil || keep == 0 {
			return nil, err
		}
		logger.Info("retention", "keep", keep.String(), "attempts_ttl_index", ttl)
		sw := mongodb.NewSweeper(deliveries, mongodb.SweeperOptions{Retention: keep, Attempts: !ttl, Logger: logger})
		sw.Start()
		return sw.Stop, nil
	}
	indexes := []func(context.Context) error{authStore.EnsureIndexes, deliveries.EnsureIndexes, query.EnsureIndexes,
		b.subscriptions.(*mongodb.SubscriptionStore).EnsureIndexes, b.sites.(*mongodb.TrustedSiteStore).EnsureIndexes}
	for _, ensure := range indexes {
		if err := ensure(ctx); err != nil {
			_ = db.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("store indexes: %w", err)
		}
	}
	return b, nil
}
