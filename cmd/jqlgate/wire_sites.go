package main

import (
	"context"
	"log/slog"

	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/trustedsite"
)

var (
	_ siteRefresher = (*dispatcher.Dispatcher)(nil)
)

// registerTrustedSite registers system.TrustedSite on mux; d is told about
// every site write.
func registerTrustedSite(a *app, cfg serveConfig, mux *namespaces.Mux, d siteRefresher) {
	trustedsite.Register(mux, trustedsite.Deps{Store: a.sites,
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

// TrustedSiteChanged implements trustedsite.Notifier.
func (n siteNotifier) TrustedSiteChanged(ctx context.Context, id string) {
	if n.d == nil {
		return
	}
	if err := n.d.SiteChanged(ctx, id); err != nil {
		n.logger.WarnContext(ctx, "refresh trusted site in the dispatcher", "site", id, "error", err.Error())
	}
}
