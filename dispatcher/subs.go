package dispatcher

import (
	"context"
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
	// A subscription stored before its options were bounded (at subscribe
	// and update) is held to the same bounds here.
	maxTimeout     = 30 * time.Second
	maxMaxInFlight = 50
)

// newTarget prepares sub for delivery, reusing prev's token source and
// rate limiter when the subscription has not changed since prev was built.
func (d *Dispatcher) newTarget(sub *jqlgate.Subscription, prev *target) *target {
	if prev != nil && prev.sub.UpdatedAt.Equal(sub.UpdatedAt) && !sub.UpdatedAt.IsZero() && prev.sub.PublicOnly == sub.PublicOnly {
		prev.sub = sub
		return prev
	}
	t := &target{sub: sub, maxInFlight: sub.MaxInFlight, timeout: time.Duration(sub.TimeoutSeconds) * time.Second, host: receiverHost(sub.WebhookURL)}
	if t.maxInFlight <= 0 {
		t.maxInFlight = defaultMaxInFlight
	}
	if t.timeout <= 0 {
		t.timeout = defaultTimeout
	}
	t.maxInFlight, t.timeout = min(t.maxInFlight, maxMaxInFlight), min(t.timeout, maxTimeout)
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
		t.tokens = d.tokenSource(o, sub.PublicOnly)
	}
	return t
}

// tokenSource fetches and caches a receiver's client-credentials token. The
// token endpoint is called through the same guarded client as receivers,
// since its URL is user-supplied too.
func (d *Dispatcher) tokenSource(o *jqlgate.ReceiverOAuth2, publicOnly bool) oauth2.TokenSource {
	cc := &clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
	if o.Audience != "" {
		cc.EndpointParams = map[string][]string{"audience": {o.Audience}}
	}
	client := d.tokenClient
	if publicOnly {
		client = d.publicTokenClient
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	return oauth2.ReuseTokenSource(nil, cc.TokenSource(ctx))
}

// reload rebuilds the index from every enabled subscription whose owner
// may still receive its events: deliveries of subscriptions that left it
// are parked (or cancelled if they were removed), and parked ones of
// subscriptions back in it are queued.
func (d *Dispatcher) reload(ctx context.Context) error {
	version, err := d.cfg.Source.Version(ctx)
	if err != nil {
		return err
	}
	subs, err := d.cfg.Source.ListEnabled(ctx)
	if err != nil {
		return err
	}
	owners, ownersVersion, err := d.ownerStates(ctx, subs)
	if err != nil {
		return err
	}
	targets := make(map[string]*target, len(subs))
	for _, s := range subs {
		if why := withheld(s, owners[s.Owner]); why != "" {
			d.log.Debug("subscription withheld", "subscription", s.ID, "owner", s.Owner, "reason", why)
			continue
		}
		targets[s.ID] = d.newTarget(effective(s, owners[s.Owner]), d.idx.get(s.ID))
	}
	d.refreshSites(ctx)
	for _, id := range d.idx.replace(targets, owners, version, ownersVersion) {
		d.parkOrCancelSub(ctx, id)
	}
	for _, id := range d.parkedSubs() {
		if targets[id] != nil {
			d.unpark(id)
		} else {
			d.parkOrCancelSub(ctx, id)
		}
	}
	return nil
}

// parkOrCancelSub parks the queued deliveries of subscription id, which
// is not in the index, or cancels them and its parked ones if it was
// removed.
func (d *Dispatcher) parkOrCancelSub(ctx context.Context, id string) {
	_, err := d.cfg.Source.Get(ctx, id)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		d.cancelSubscription(ctx, id)
		return
	}
	if err != nil {
		d.log.Warn("look up subscription", "subscription", id, "error", err.Error())
	}
	d.park(id, d.q.removeSub(id))
}

// ensureIndex loads the index on first use, so events published before
// Start still fan out.
func (d *Dispatcher) ensureIndex(ctx context.Context) error {
	if loaded, _, _ := d.idx.state(); loaded {
		return nil
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if loaded, _, _ := d.idx.state(); loaded {
		return nil
	}
	return d.reload(ctx)
}

// pollSubscriptions reloads the index when the subscription version or
// the owners version changes, which picks up changes made by other
// processes.
func (d *Dispatcher) pollSubscriptions(ctx context.Context) {
	_, have, haveOwners := d.idx.state()
	v, err := d.cfg.Source.Version(ctx)
	if err != nil {
		d.log.Warn("subscription version", "error", err.Error())
		return
	}
	ov := haveOwners
	if d.cfg.Owners != nil {
		if ov, err = d.cfg.Owners.Version(ctx); err != nil {
			d.log.Warn("owners version", "error", err.Error())
			return
		}
	}
	if v == have && ov == haveOwners {
		return
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if err := d.reload(ctx); err != nil {
		d.log.Warn("reload subscriptions", "error", err.Error())
	}
}

// SubscriptionChanged refreshes one subscription after this process
// wrote it. Its pending deliveries are parked if it is now disabled (or
// its owner may no longer receive its events),
// queued again if it is enabled again, and recorded Failed without being
// sent if it is gone. A change of enabled state publishes
// system.Webhook:disabled or system.Webhook:enabled to the owner's
// subscriptions: only here, in the process that made the change, never on
// the version poll, so each change is published once however many
// processes share the store.
func (d *Dispatcher) SubscriptionChanged(ctx context.Context, id string) error {
	d.reloadMu.Lock()
	sub, err := d.cfg.Source.Get(ctx, id)
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		d.reloadMu.Unlock()
		return err
	}
	was := d.idx.get(id) != nil
	why := ""
	if err == nil && sub.Enabled {
		o, oerr := d.ownerOf(ctx, sub)
		if oerr != nil {
			d.reloadMu.Unlock()
			return oerr
		}
		why = withheld(sub, o)
		sub = effective(sub, o)
	}
	switch {
	case err != nil:
		d.idx.put(id, nil)
		d.cancelSubscription(ctx, id)
	case sub.Enabled && why == "":
		d.idx.put(id, d.newTarget(sub, d.idx.get(id)))
		d.unpark(id)
	default:
		d.idx.put(id, nil)
		d.health.forget(id)
		d.park(id, d.q.removeSub(id))
	}
	d.reloadMu.Unlock()
	if err == nil && sub.Enabled != was && !created(sub) {
		d.announce(ctx, sub)
	}
	return nil
}

// created reports whether sub was just created (never updated since), so
// entering the index is no enabling.
func created(sub *jqlgate.Subscription) bool {
	return sub.UpdatedAt.Equal(sub.CreatedAt)
}

// cancelSubscription records every pending delivery to id, queued or
// parked, as Failed: the subscription was removed.
func (d *Dispatcher) cancelSubscription(ctx context.Context, id string) {
	d.health.forget(id)
	dels := append(d.q.removeSub(id), d.takeParked(id)...)
	for _, dl := range dels {
		d.finish(ctx, dl, &jqlgate.Attempt{Status: jqlgate.StatusFailed, Error: "subscription removed"})
	}
}
