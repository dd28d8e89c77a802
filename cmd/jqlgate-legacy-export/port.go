package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
)

// port is the earlier store, through the MongoDB adapter, as a
// storeio.Source.
type port struct {
	*mongodb.AuthStore
	subs       *mongodb.SubscriptionStore
	sites      *mongodb.TrustedSiteStore
	records    *mongodb.RecordStore
	deliveries *mongodb.DeliveryStore
}

func newPort(db *mongo.Database, sealer *jqlgate.Sealer) *port {
	return &port{AuthStore: mongodb.NewAuthStore(db), subs: mongodb.NewSubscriptionStore(db, sealer),
		sites: mongodb.NewTrustedSiteStore(db, sealer), records: mongodb.NewRecordStore(db, mongodb.BatcherOptions{}),
		deliveries: mongodb.NewDeliveryStore(db)}
}

// SubscriptionPage returns a page of every owner's subscriptions by id.
func (p *port) SubscriptionPage(ctx context.Context, offset, limit int) ([]*jqlgate.Subscription, error) {
	subs, _, err := p.subs.List(ctx, jqlgate.SubscriptionQuery{AllOwners: true, Offset: offset, Limit: limit})
	return subs, err
}

// TrustedSitePage returns a page of every owner's trusted sites by id.
func (p *port) TrustedSitePage(ctx context.Context, offset, limit int) ([]*jqlgate.TrustedSite, error) {
	sites, _, err := p.sites.List(ctx, jqlgate.TrustedSiteQuery{AllOwners: true, Offset: offset, Limit: limit})
	return sites, err
}

// Collections lists the record collections.
func (p *port) Collections(ctx context.Context) ([]string, error) { return p.records.Collections(ctx) }

// RecordsAfter returns a page of coll's records by id.
func (p *port) RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error) {
	return p.records.RecordsAfter(ctx, coll, after, limit)
}

// EventsAfter returns a page of events by id.
func (p *port) EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error) {
	return p.deliveries.EventsAfter(ctx, after, limit)
}

// AttemptsAfter returns a page of attempts by id.
func (p *port) AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error) {
	return p.deliveries.AttemptsAfter(ctx, after, limit)
}

// NodeStates lists the node checkpoints.
func (p *port) NodeStates(ctx context.Context) ([]jqlgate.NodeState, error) {
	return p.deliveries.NodeStates(ctx)
}
