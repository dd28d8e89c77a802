package webhook

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// SiteLookup finds an owner's trusted site for a subscription that names
// it (the trusted site store implements it).
type SiteLookup interface {
	GetOwned(ctx context.Context, owner, id string) (*jqlgate.TrustedSite, error)
}

// checkSiteForm refuses credentials given beside a trusted site: the
// site's authenticate the requests.
func (w *webhooks) checkSiteForm(r *reader, sub *jqlgate.Subscription) {
	if sub.TrustedSite == "" {
		return
	}
	if sub.BasicAuth != nil {
		r.Fail("basicAuth", "can't be combined with trustedSite: the trusted site's credentials authenticate the requests")
	}
	if sub.OAuth2 != nil {
		r.Fail("oauth2", "can't be combined with trustedSite: the trusted site's credentials authenticate the requests")
	}
}

// checkSite checks the subscription's trusted site: one of the caller's,
// whose base URL covers the webhookUrl.
func (w *webhooks) checkSite(ctx context.Context, p *jqlgate.Principal, sub *jqlgate.Subscription) error {
	if sub.TrustedSite == "" {
		return nil
	}
	if w.Sites == nil {
		return jqlgate.Invalid("trustedSite", "trusted sites are not available on this server")
	}
	site, err := w.Sites.GetOwned(ctx, p.Owner(), sub.TrustedSite)
	if err != nil {
		return jqlgate.SiteNotFound("trustedSite", err)
	}
	if !site.Covers(sub.WebhookURL) {
		return jqlgate.Invalid("webhookUrl", "must lie under the trusted site's baseUrl %s (same scheme, host, port and path prefix)", site.BaseURL)
	}
	for name := range sub.Headers {
		if _, ok := site.Headers[name]; ok {
			return jqlgate.Invalid("headers."+name, "is set by the trusted site")
		}
		if name == "Authorization" && site.AuthKind() != jqlgate.SiteAuthHeaders {
			return jqlgate.Invalid("headers.Authorization", "can't be set together with a trusted site's %s authentication", site.AuthKind())
		}
	}
	return nil
}
