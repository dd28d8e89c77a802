package dispatcher

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"

	"github.com/jqlgate/jqlgate"
)

// SiteSource returns a trusted site with its credentials decrypted (the
// trusted site store implements it); ENOTFOUND if it is gone.
type SiteSource interface {
	Get(ctx context.Context, id string) (*jqlgate.TrustedSite, error)
}

// siteCache holds the trusted sites subscriptions use, with one token
// source per OAuth2 site shared by all its subscriptions. An entry is
// replaced when its site changes: at once in the process that changed it
// (SiteChanged), and on the version poll in the others (refreshSites). The
// zero value is ready to use.
type siteCache struct {
	mu sync.Mutex
	m  map[string]*siteEntry
}

// siteEntry is one cached site and its token source (nil unless OAuth2).
type siteEntry struct {
	site   *jqlgate.TrustedSite
	tokens oauth2.TokenSource
}

func (c *siteCache) get(id string) *siteEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[id]
}

// put stores e for id unless the cache holds an entry of the same site
// version or a newer one (a slow first load racing a change), and returns
// the entry in the cache.
func (c *siteCache) put(id string, e *siteEntry) *siteEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[id]; old != nil && !e.site.UpdatedAt.After(old.site.UpdatedAt) {
		return old
	}
	if c.m == nil {
		c.m = map[string]*siteEntry{}
	}
	c.m[id] = e
	return e
}

func (c *siteCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (c *siteCache) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.m))
	for id := range c.m {
		out = append(out, id)
	}
	return out
}

// site returns the cached entry of site id, loading it on first use.
func (d *Dispatcher) site(ctx context.Context, id string) (*siteEntry, error) {
	if e := d.sites.get(id); e != nil {
		return e, nil
	}
	if d.cfg.Sites == nil {
		return nil, fmt.Errorf("trusted site %s: no site source configured", id)
	}
	s, err := d.cfg.Sites.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.sites.put(id, d.newSiteEntry(s)), nil
}

func (d *Dispatcher) newSiteEntry(s *jqlgate.TrustedSite) *siteEntry {
	e := &siteEntry{site: s}
	if s.OAuth2 != nil && s.OAuth2.TokenURL != "" {
		e.tokens = d.tokenSource(s.OAuth2, s.PublicOnly)
	}
	return e
}

// SiteChanged refreshes trusted site id after this process wrote it, so
// the next delivery of every subscription using it carries its new
// credentials.
func (d *Dispatcher) SiteChanged(ctx context.Context, id string) error {
	if d.cfg.Sites == nil || d.sites.get(id) == nil {
		return nil
	}
	return d.refreshSite(ctx, id)
}

func (d *Dispatcher) refreshSite(ctx context.Context, id string) error {
	s, err := d.cfg.Sites.Get(ctx, id)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		d.sites.drop(id)
		return nil
	}
	if err != nil {
		return err
	}
	d.sites.put(id, d.newSiteEntry(s))
	return nil
}

// refreshSites re-reads every cached site, on the version poll: a site
// another process changed gets a new entry (and token source), unchanged
// ones keep theirs.
func (d *Dispatcher) refreshSites(ctx context.Context) {
	if d.cfg.Sites == nil {
		return
	}
	for _, id := range d.sites.ids() {
		if err := d.refreshSite(ctx, id); err != nil {
			d.log.Warn("refresh trusted site", "site", id, "error", err.Error())
		}
	}
}

// authorizeTarget adds the receiver's credentials to req: the trusted
// site's when the subscription names one, else its own. It returns the
// names of the site's authentication headers, to redact in the log.
func (d *Dispatcher) authorizeTarget(req *http.Request, t *target) ([]string, error) {
	id := t.sub.TrustedSite
	if id == "" {
		return nil, authorize(req, t)
	}
	e, err := d.site(req.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("trusted site %s: %w", id, err)
	}
	s := e.site
	var names []string
	switch {
	case s.BasicAuth != nil:
		req.SetBasicAuth(s.BasicAuth.Username, s.BasicAuth.Password)
	case e.tokens != nil:
		tok, err := e.tokens.Token()
		if err != nil {
			return nil, fmt.Errorf("trusted site %s OAuth2 token: %w", id, err)
		}
		tok.SetAuthHeader(req)
	default:
		for k, v := range s.Headers {
			req.Header.Set(k, v)
			names = append(names, http.CanonicalHeaderKey(k))
		}
	}
	return names, nil
}

// redactNames marks the named headers of a logged request as redacted.
func redactNames(h map[string]string, names []string) {
	for _, n := range names {
		if _, ok := h[n]; ok {
			h[n] = "[redacted]"
		}
	}
}
