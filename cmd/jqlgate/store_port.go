package main

import (
	"context"
	"fmt"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/storeio"
)

// recordPorter is what both adapters' record stores add for export and
// import (sqlite/export.go, mongodb/export.go).
type recordPorter interface {
	Collections(ctx context.Context) ([]string, error)
	RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error)
	InsertRecords(ctx context.Context, coll string, recs []map[string]any) error
}

// deliveryPorter is what both adapters' delivery stores add for export
// and import.
type deliveryPorter interface {
	EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error)
	AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error)
	ImportAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error
	PutNodeState(ctx context.Context, st jqlgate.NodeState) error
}

// storePort is a backend seen as a storeio.Source and storeio.Sink.
type storePort struct {
	authStore
	b          *backend
	records    recordPorter
	deliveries deliveryPorter
}

var (
	_ storeio.Source = (*storePort)(nil)
	_ storeio.Sink   = (*storePort)(nil)
)

// portOf returns b as a source and sink of store export and import.
func portOf(b *backend) (*storePort, error) {
	rp, ok := b.records.(recordPorter)
	if !ok {
		return nil, fmt.Errorf("the record store %T can't be exported", b.records)
	}
	dp, ok := b.deliveries.(deliveryPorter)
	if !ok {
		return nil, fmt.Errorf("the delivery store %T can't be exported", b.deliveries)
	}
	return &storePort{authStore: b.auth, b: b, records: rp, deliveries: dp}, nil
}

// SubscriptionPage returns a page of every owner's subscriptions by id.
func (p *storePort) SubscriptionPage(ctx context.Context, offset, limit int) ([]*jqlgate.Subscription, error) {
	subs, _, err := p.b.subscriptions.List(ctx, jqlgate.SubscriptionQuery{AllOwners: true, Offset: offset, Limit: limit})
	return subs, err
}

// TrustedSitePage returns a page of every owner's trusted sites by id.
func (p *storePort) TrustedSitePage(ctx context.Context, offset, limit int) ([]*jqlgate.TrustedSite, error) {
	sites, _, err := p.b.sites.List(ctx, jqlgate.TrustedSiteQuery{AllOwners: true, Offset: offset, Limit: limit})
	return sites, err
}

// Collections lists the record collections.
func (p *storePort) Collections(ctx context.Context) ([]string, error) {
	return p.records.Collections(ctx)
}

// RecordsAfter returns a page of coll's records by id.
func (p *storePort) RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error) {
	return p.records.RecordsAfter(ctx, coll, after, limit)
}

// EventsAfter returns a page of events by id.
func (p *storePort) EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error) {
	return p.deliveries.EventsAfter(ctx, after, limit)
}

// AttemptsAfter returns a page of attempts by id.
func (p *storePort) AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error) {
	return p.deliveries.AttemptsAfter(ctx, after, limit)
}

// NodeStates lists the node checkpoints.
func (p *storePort) NodeStates(ctx context.Context) ([]jqlgate.NodeState, error) {
	return p.b.deliveries.NodeStates(ctx)
}

// conflict names what an ECONFLICT from the target store clashed with.
func conflict(err error, what string) error {
	if jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
		return fmt.Errorf("conflict: the target store already holds %s", what)
	}
	return err
}

// CreateClient stores a client as it is.
func (p *storePort) CreateClient(ctx context.Context, c *jqlgate.Client) error {
	return conflict(p.authStore.CreateClient(ctx, c), "client "+c.ID)
}

// CreateAPIKey stores an API key as it is.
func (p *storePort) CreateAPIKey(ctx context.Context, k *jqlgate.APIKey) error {
	return conflict(p.authStore.CreateAPIKey(ctx, k), "API key "+k.ID)
}

// CreateUser stores a user as it is.
func (p *storePort) CreateUser(ctx context.Context, u *jqlgate.User) error {
	return conflict(p.authStore.CreateUser(ctx, u), fmt.Sprintf("user %s or the username %q", u.ID, u.Username))
}

// CreateSigningKey stores a signing key as it is.
func (p *storePort) CreateSigningKey(ctx context.Context, k *jqlgate.SigningKey) error {
	return conflict(p.authStore.CreateSigningKey(ctx, k), "signing key "+k.ID)
}

// PutSubscription stores a subscription as it is; one of the same owner,
// prefix, triggers and URL already there is a conflict.
func (p *storePort) PutSubscription(ctx context.Context, sub *jqlgate.Subscription) error {
	got, created, err := p.b.subscriptions.Create(ctx, sub)
	if err != nil {
		return conflict(err, "subscription "+sub.ID)
	}
	if !created {
		return fmt.Errorf("conflict: the target store already holds subscription %s of the same owner, prefix, triggers and URL as %s", got.ID, sub.ID)
	}
	return nil
}

// PutTrustedSite stores a trusted site as it is.
func (p *storePort) PutTrustedSite(ctx context.Context, site *jqlgate.TrustedSite) error {
	return conflict(p.b.sites.Create(ctx, site), fmt.Sprintf("trusted site %s or one named %q of the same owner", site.ID, site.Name))
}

// PutRecords stores a batch of coll's records.
func (p *storePort) PutRecords(ctx context.Context, coll string, recs []map[string]any) error {
	return conflict(p.records.InsertRecords(ctx, coll, recs), "a record of "+coll+" with one of these ids or unique values")
}

// PutEvents stores a batch of events.
func (p *storePort) PutEvents(ctx context.Context, fans []*jqlgate.Fanout) error {
	return conflict(p.b.deliveries.InsertEvents(ctx, fans), "some of these events")
}

// PutAttempts stores a batch of attempts.
func (p *storePort) PutAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error {
	return conflict(p.deliveries.ImportAttempts(ctx, attempts), "some of these attempts")
}

// PutNodeState stores a node checkpoint as it is.
func (p *storePort) PutNodeState(ctx context.Context, st jqlgate.NodeState) error {
	return conflict(p.deliveries.PutNodeState(ctx, st), "node "+st.Node)
}
