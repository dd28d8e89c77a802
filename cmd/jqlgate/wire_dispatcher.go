package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/namespaces/model"
)

var (
	_ model.Publisher = (*dispatcher.Dispatcher)(nil)
)

// dispatcherConfig is the dispatcher part of serveConfig.
type dispatcherConfig struct {
	// NodeID names this process's deliveries in the store; it must be the
	// same across restarts and different for every process sharing the
	// store.
	NodeID  string
	Workers int
	// MaxPerOwner and MaxPerHost: see dispatcher.Config (0: the default
	// share of Workers).
	MaxPerOwner, MaxPerHost int
	// TakeoverAfter and RetryHorizon: see dispatcher.Config (0 here
	// disables each).
	TakeoverAfter time.Duration
	RetryHorizon  time.Duration
	// DisableAfterFailures and DisableAfter: see dispatcher.Config (0
	// here disables each criterion).
	DisableAfterFailures int
	DisableAfter         time.Duration
	// Retention is how long attempt records and events are kept (0:
	// forever).
	Retention time.Duration
}

// parseDispatcherConfig reads the dispatcher's options. The default node
// id is the host name and, on MongoDB, where several processes of one host
// may share the store, the listen address; on the embedded store, which
// one process at a time opens, "embedded", so a restart on another address
// (or port 0) recovers its own deliveries at once instead of waiting to
// take them over.
func parseDispatcherConfig(s *optionSet, addr string, embedded bool) (dispatcherConfig, error) {
	c := dispatcherConfig{NodeID: s.str("node-id")}
	if c.NodeID == "" {
		host, err := os.Hostname()
		if err != nil {
			return c, fmt.Errorf("--node-id: no host name to default to (%v); set it", err)
		}
		c.NodeID = host + "/" + addr
		if embedded {
			c.NodeID = host + "/embedded"
		}
	}
	var err error
	if c.Workers, err = s.int("dispatcher-workers"); err != nil {
		return c, err
	}
	if c.Workers <= 0 {
		return c, fmt.Errorf("--dispatcher-workers: must be at least 1, got %d", c.Workers)
	}
	for flag, v := range map[string]*int{"dispatcher-max-per-owner": &c.MaxPerOwner, "dispatcher-max-per-host": &c.MaxPerHost} {
		if *v, err = s.int(flag); err != nil {
			return c, err
		}
		if *v < 0 {
			return c, fmt.Errorf("--%s: must be 0 (the default share) or more, got %d", flag, *v)
		}
	}
	if c.TakeoverAfter, err = s.duration("takeover-after"); err != nil {
		return c, err
	}
	if c.RetryHorizon, err = s.duration("retry-horizon"); err != nil {
		return c, err
	}
	if c.TakeoverAfter < 0 || c.RetryHorizon < 0 {
		return c, fmt.Errorf("--takeover-after and --retry-horizon must not be negative")
	}
	return c, parseHealthConfig(s, &c)
}

// parseHealthConfig reads the endpoint health and retention options.
func parseHealthConfig(s *optionSet, c *dispatcherConfig) error {
	var err error
	if c.DisableAfterFailures, err = s.int("disable-after-failures"); err != nil {
		return err
	}
	if c.DisableAfter, err = s.duration("disable-after"); err != nil {
		return err
	}
	if c.Retention, err = s.duration("retention"); err != nil {
		return err
	}
	if c.DisableAfterFailures < 0 || c.DisableAfter < 0 || c.Retention < 0 {
		return fmt.Errorf("--disable-after-failures, --disable-after and --retention must not be negative")
	}
	return nil
}

// orNever turns an option's 0 ("never") into the dispatcher's negative.
func orNever(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// countOrNever turns an option's 0 ("never") into the dispatcher's
// negative.
func countOrNever(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// dispatcherParts are what the dispatcher wiring shares with the rest of
// start: the dispatcher, the Publisher of the model namespaces and the
// refresher of system.Webhook.
type dispatcherParts struct {
	dispatcher *dispatcher.Dispatcher
}

// wireDispatcher opens the delivery store and starts the dispatcher over
// the subscription store, recovering this node's unfinished deliveries.
// On shutdown the dispatcher stops (in-flight attempts finish, records are
// flushed) before the delivery store's batches close.
func wireDispatcher(ctx context.Context, a *app, cfg serveConfig) error {
	store := a.store.deliveries
	d := dispatcher.New(dispatcher.Config{
		Store: store, Source: a.subscriptions, Disabler: a.subscriptions, Counter: a.subscriptions, Sites: a.sites,
		Owners: &ownerResolver{store: a.store.auth, external: cfg.Auth.External.JWKSURL != "" || cfg.Auth.External.IntrospectionURL != ""},
		Node:   cfg.Dispatcher.NodeID, Workers: cfg.Dispatcher.Workers, Policy: cfg.Webhook.Policy,
		MaxPerOwner: cfg.Dispatcher.MaxPerOwner, MaxPerHost: cfg.Dispatcher.MaxPerHost,
		Version: version, Registry: a.metrics, Logger: a.logger, PublicURL: cfg.Webhook.PublicURL,
		TakeoverAfter: orNever(cfg.Dispatcher.TakeoverAfter), RetryHorizon: orNever(cfg.Dispatcher.RetryHorizon),
		DisableAfterFailures: countOrNever(cfg.Dispatcher.DisableAfterFailures),
		DisableAfter:         orNever(cfg.Dispatcher.DisableAfter),
	})
	if err := d.Start(ctx); err != nil {
		_ = store.Close(ctx)
		return fmt.Errorf("dispatcher: %w", err)
	}
	a.dispatcher = d
	a.workers = append(a.workers, store.Close, d.Close)
	return wireRetention(ctx, a, cfg)
}
