package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/namespaces/model"
	"github.com/jqlgate/jqlgate/namespaces/trustedsite"
	"github.com/jqlgate/jqlgate/namespaces/webhook"
)

// backend is the store serve and the CLI run on, whichever adapter: the
// embedded SQLite store (sqlite/, the default) or MongoDB (mongodb/). Each
// field is one store, seen through what the components need of it, so the
// rest of the wiring does not know which adapter it has.
type backend struct {
	// embedded reports the SQLite store in the data dir.
	embedded bool
	// where names the store for logs, with any password masked.
	where string

	auth          authStore
	subscriptions subscriptionStore
	sites         siteStore
	deliveries    deliveryStore
	query         deliveryQuery
	records       recordStore
	// retention starts deleting attempts and events older than keep; it
	// returns the worker's stop function (nil when keep is 0).
	retention func(ctx context.Context, keep time.Duration, logger *slog.Logger) (func(context.Context) error, error)

	ping  func(context.Context) error
	close func(context.Context) error
	// drop deletes the whole database (the benchmark's); nil where
	// removing the data dir does it.
	drop func(context.Context) error
}

// authStore is everything serve and the CLI keep of principals.
type authStore interface {
	auth.Store
	User(ctx context.Context, id string) (*jqlgate.User, error)
	SetClientPermissions(ctx context.Context, id string, perms []string) error
	SetAPIKeyPermissions(ctx context.Context, id string, perms []string) error
	SetAPIKeyHash(ctx context.Context, id string, hash []byte) error
	SetUserPermissions(ctx context.Context, id string, perms []string) error
	SetUserPassword(ctx context.Context, id string, hash []byte) error
	Version(ctx context.Context) (int64, error)
}

// subscriptionStore keeps webhook subscriptions for system.Webhook and the
// dispatcher.
type subscriptionStore interface {
	webhook.Store
	dispatcher.Source
	dispatcher.Disabler
	dispatcher.SubscriptionCounter
	DisableOwned(ctx context.Context, owner, reason string) (int, error)
}

// siteStore keeps trusted sites for system.TrustedSite and the dispatcher.
type siteStore interface {
	trustedsite.Store
	webhook.SiteLookup
	dispatcher.SiteSource
}

// deliveryStore is the dispatcher's store; Close flushes its writes.
type deliveryStore interface {
	dispatcher.Store
	Close(ctx context.Context) error
}

// deliveryQuery is the read side of the delivery store that
// system.Webhook's logs, queue and operator intents use.
type deliveryQuery interface {
	Attempts(ctx context.Context, aq jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int, error)
	PendingTo(ctx context.Context, subIDs []string, all bool) ([]*jqlgate.PendingDelivery, error)
	LatestAttempt(ctx context.Context, deliveryID string) (*jqlgate.Attempt, error)
	FailedSince(ctx context.Context, subID string, since time.Time) ([]*jqlgate.Attempt, error)
	Health(ctx context.Context, subIDs []string) (map[string]*jqlgate.WebhookHealth, error)
	Event(ctx context.Context, id string) (*jqlgate.Fanout, error)
	InsertTestAttempt(ctx context.Context, a *jqlgate.Attempt) error
}

// recordStore keeps the records of model namespaces; Close flushes its
// writes.
type recordStore interface {
	model.Store
	Close(ctx context.Context) error
}

// storeConfig says which store to open.
type storeConfig struct {
	DataDir        string
	MongoDBURI     string
	Database       string
	EmbeddedSync   string
	ConnectTimeout time.Duration
	// Sealer loads the sealer of secrets at rest, once the store is
	// reached (so a wrong URI is reported before a missing key); nil for a
	// CLI command that reads no secret.
	Sealer func() (*jqlgate.Sealer, error)
}

// sealer returns cfg.Sealer's sealer, nil when there is none.
func (cfg storeConfig) sealer() (*jqlgate.Sealer, error) {
	if cfg.Sealer == nil {
		return nil, nil
	}
	return cfg.Sealer()
}

// openBackend opens the store cfg names: MongoDB when it has a URI, the
// embedded SQLite store in the data dir otherwise.
func openBackend(ctx context.Context, cfg storeConfig, logger *slog.Logger) (*backend, error) {
	if cfg.MongoDBURI != "" {
		return openMongoBackend(ctx, cfg, logger)
	}
	return openSQLiteBackend(ctx, cfg, logger)
}

// sealerFor loads the master key serve's configuration names and returns
// its sealer.
func sealerFor(cfg serveConfig, logger *slog.Logger) (*jqlgate.Sealer, error) {
	key, err := loadSecretKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	s, err := jqlgate.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return s, nil
}
