package dispatcher

import (
	"context"
	"errors"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate"
)

// Defaults for subscriptions that leave a limit unset.
const (
	defaultTimeout     = 10 * time.Second
	defaultMaxInFlight = 8
)

// newTarget prepares sub for delivery, reusing prev's token source and
// rate limiter when the subscription has not changed since prev was built.
func (d *Dispatcher) newTarget(sub *jqlgate.Subscription, prev *target) *target {
	if prev != nil && prev.sub.UpdatedAt.Equal(sub.UpdatedAt) && !sub.UpdatedAt.IsZero() {
		prev.sub = sub
		return prev
	}
	t := &target{sub: sub, maxInFlight: sub.MaxInFlight, timeout: time.Duration(sub.TimeoutSeconds) * time.Second}
	if t.maxInFlight <= 0 {
		t.maxInFlight = defaultMaxInFlight
	}
	if t.timeout <= 0 {
		t.timeout = defaultTimeout
	}
	if len(sub.Filter) > 0 {
		t.conds, t.filterErr = jqlgate.ParseFilter("filter", sub.Filter)
		if t.filterErr != nil {
			d.log.Warn("subscription filter does not parse; it receives nothing", "subscription", sub.ID, "error", t.filterErr.Error())
		}
	}
	if sub.RateLimitPerSecond > 0 {
		burst := max(1, int(sub.RateLimitPerSecond))
		t.limiter = rate.NewLimiter(rate.Limit(sub.RateLimitPerSecond), burst)
	}
	if o := sub.OAuth2; o != nil && o.TokenURL != "" {
		t.tokens = d.tokenSource(o)
	}
	return t
}

// tokenSource fetches and caches a receiver's client-credentials token. The
// token endpoint is called through the same guarded client as receivers,
// since its URL is user-supplied too.
func (d *Dispatcher) tokenSource(o *jqlgate.ReceiverOAuth2) oauth2.TokenSource {
	cc := &clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
	if o.Audience != "" {
		cc.EndpointParams = map[string][]string{"audience": {o.Audience}}
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, d.tokenClient)
	return oauth2.ReuseTokenSource(nil, cc.TokenSource(ctx))
}

// reload rebuilds the index from every enabled subscription and cancels the
// pending deliveries of subscriptions that left it.
func (d *Dispatcher) reload(ctx context.Context) error {
	version, err := d.cfg.Source.Version(ctx)
	if err != nil {
		return err
	}
	subs, err := d.cfg.Source.ListEnabled(ctx)
	if err != nil {
		return err
	}
	targets := make(map[string]*target, len(subs))
	for _, s := range subs {
		targets[s.ID] = d.newTarget(s, d.idx.get(s.ID))
	}
	for _, id := range d.idx.replace(targets, version) {
		d.cancelSubscription(ctx, id)
	}
	return nil
}

// ensureIndex loads the index on first use, so events published before
// Start still fan out.
func (d *Dispatcher) ensureIndex(ctx context.Context) error {
	if loaded, _ := d.idx.state(); loaded {
		return nil
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if loaded, _ := d.idx.state(); loaded {
		return nil
	}
	return d.reload(ctx)
}

// pollSubscriptions reloads the index when the subscription version
// changes, which picks up changes made by other processes.
func (d *Dispatcher) pollSubscriptions(ctx context.Context) {
	_, have := d.idx.state()
	v, err := d.cfg.Source.Version(ctx)
	if err != nil {
		d.log.Warn("subscription version", "error", err.Error())
		return
	}
	if v == have {
		return
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if err := d.reload(ctx); err != nil {
		d.log.Warn("reload subscriptions", "error", err.Error())
	}
}

// SubscriptionChanged refreshes one subscription after it was written. If
// it is gone or disabled, its pending deliveries are cancelled: recorded
// Failed without being sent.
func (d *Dispatcher) SubscriptionChanged(ctx context.Context, id string) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	sub, err := d.cfg.Source.Get(ctx, id)
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		return err
	}
	if err == nil && sub.Enabled {
		d.idx.put(id, d.newTarget(sub, d.idx.get(id)))
		return nil
	}
	d.idx.put(id, nil)
	d.cancelSubscription(ctx, id)
	return nil
}

// cancelSubscription records every pending delivery to id as Failed.
func (d *Dispatcher) cancelSubscription(ctx context.Context, id string) {
	dels := d.q.removeSub(id)
	if len(dels) == 0 {
		return
	}
	reason := d.goneReason(ctx, id)
	for _, dl := range dels {
		d.finish(ctx, dl, &jqlgate.Attempt{Status: jqlgate.StatusFailed, Error: reason})
	}
}

// goneReason says why a subscription no longer receives deliveries.
func (d *Dispatcher) goneReason(ctx context.Context, id string) string {
	sub, err := d.cfg.Source.Get(ctx, id)
	var je *jqlgate.Error
	if err != nil && errors.As(err, &je) && je.Code == jqlgate.ENOTFOUND {
		return "subscription removed"
	}
	if err == nil && sub.Enabled {
		return "subscription changed"
	}
	return "subscription disabled"
}
