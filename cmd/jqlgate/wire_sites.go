package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/system"
)

var (
	_ system.TrustedSiteStore = (*mongodb.TrustedSiteStore)(nil)
	_ system.SiteLookup       = (*mongodb.TrustedSiteStore)(nil)
	_ dispatcher.SiteSource   = (*mongodb.TrustedSiteStore)(nil)
	_ siteRefresher           = (*dispatcher.Dispatcher)(nil)
)

// openTrustedSites opens the trusted site store, sealed with the same
// master key as the subscriptions, with its indexes.
func openTrustedSites(ctx context.Context, cfg serveConfig, db *mongodb.DB, logger *slog.Logger) (*mongodb.TrustedSiteStore, error) {
	key, err := loadSecretKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		return nil, err
	}
	sites := mongodb.NewTrustedSiteStore(db.Database, sealer)
	if err := sites.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("trusted site indexes: %w", err)
	}
	return sites, nil
}

// registerTrustedSite registers system.TrustedSite on mux; d is told about
// every site write.
func registerTrustedSite(a *app, cfg serveConfig, mux *namespaces.Mux, d siteRefresher) {
	system.RegisterTrustedSite(mux, system.TrustedSiteDeps{Store: a.sites,
		Notifier: siteNotifier{d, a.logger}, Policy: cfg.Webhook.Policy})
}

// siteRefresher is the dispatcher's side of a trusted site write.
type siteRefresher interface {
	SiteChanged(ctx context.Context, id string) error
}

// siteNotifier tells the dispatcher about a site write. A failed refresh
// is only logged: the version poll picks the change up.
type siteNotifier struct {
	d      siteRefresher
	logger *slog.Logger
}

// TrustedSiteChanged implements system.SiteNotifier.
func (n siteNotifier) TrustedSiteChanged(ctx context.Context, id string) {
	if n.d == nil {
		return
	}
	if err := n.d.SiteChanged(ctx, id); err != nil {
		n.logger.WarnContext(ctx, "refresh trusted site in the dispatcher", "site", id, "error", err.Error())
	}
}
