// Package storeio moves every kind of data jqlgate keeps between two
// stores of any adapter, through a portable file: JSON lines, one object
// per line with its "kind". The first line is a header (format version,
// export time, where the data came from), the last a trailer with the
// count of each kind, so an import tells a complete file from a truncated
// one. In between come clients, API keys, users, signing keys, trusted
// sites, subscriptions, the records of every model collection, events,
// attempts and node checkpoints, in that order.
//
// Secrets the stores hand out opened (subscriptions' signing secrets,
// receiver passwords, client secrets and header values, trusted sites'
// credentials, unsealed signing keys) are sealed in the file with
// jqlgate.Sealer under the master key, bound to "export/<kind>/<id>/<field>";
// an import opens them with the key it is given and the target store seals
// them again under its own. Hashes (client secrets, API keys, passwords)
// and signing keys already sealed by auth are copied as they are.
//
// Both sides are small interfaces (Source, Sink) that each adapter
// satisfies; reads go in keyset pages and writes in batches, so the
// memory an export or import takes does not grow with the store. The
// package imports only the root package and the standard library.
package storeio

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// FormatVersion is the version of the file format this package writes and
// the newest it reads.
const FormatVersion = 1

// PrincipalSource lists the principals of the built-in authorization
// server and its signing keys (small tables, read whole).
type PrincipalSource interface {
	Clients(ctx context.Context) ([]*jqlgate.Client, error)
	APIKeys(ctx context.Context) ([]*jqlgate.APIKey, error)
	Users(ctx context.Context) ([]*jqlgate.User, error)
	SigningKeys(ctx context.Context) ([]*jqlgate.SigningKey, error)
}

// WebhookSource lists every owner's subscriptions (enabled or not) and
// trusted sites, secrets opened, one page at a time by id.
type WebhookSource interface {
	SubscriptionPage(ctx context.Context, offset, limit int) ([]*jqlgate.Subscription, error)
	TrustedSitePage(ctx context.Context, offset, limit int) ([]*jqlgate.TrustedSite, error)
}

// RecordSource lists the record collections and pages through one by id.
type RecordSource interface {
	Collections(ctx context.Context) ([]string, error)
	// RecordsAfter returns up to limit records whose id sorts after
	// after ("" for the first page), by id.
	RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error)
}

// DeliverySource pages through the dispatcher's events and attempts by id
// and lists the node checkpoints.
type DeliverySource interface {
	EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error)
	AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error)
	NodeStates(ctx context.Context) ([]jqlgate.NodeState, error)
}

// Source is a store to export.
type Source interface {
	PrincipalSource
	WebhookSource
	RecordSource
	DeliverySource
}

// PrincipalSink stores principals and signing keys as they are; an id
// already taken is ECONFLICT.
type PrincipalSink interface {
	CreateClient(ctx context.Context, c *jqlgate.Client) error
	CreateAPIKey(ctx context.Context, k *jqlgate.APIKey) error
	CreateUser(ctx context.Context, u *jqlgate.User) error
	CreateSigningKey(ctx context.Context, k *jqlgate.SigningKey) error
}

// WebhookSink stores subscriptions and trusted sites as they are (state,
// times and all), sealing their secrets under the store's own key; one
// that clashes with a stored one is ECONFLICT.
type WebhookSink interface {
	PutSubscription(ctx context.Context, sub *jqlgate.Subscription) error
	PutTrustedSite(ctx context.Context, site *jqlgate.TrustedSite) error
}

// RecordSink stores a batch of one collection's records.
type RecordSink interface {
	PutRecords(ctx context.Context, coll string, recs []map[string]any) error
}

// DeliverySink stores batches of events and attempts, and checkpoints, as
// they are.
type DeliverySink interface {
	PutEvents(ctx context.Context, fans []*jqlgate.Fanout) error
	PutAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error
	PutNodeState(ctx context.Context, st jqlgate.NodeState) error
}

// Sink is a store to import into.
type Sink interface {
	PrincipalSink
	WebhookSink
	RecordSink
	DeliverySink
}
