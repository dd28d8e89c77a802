package webhook

import (
	"context"
	"net"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/input"
)

// Namespace is the namespace of webhook subscriptions.
const Namespace = jqlgate.WebhookNamespace

// Store keeps subscriptions. Every method but Create, Get and an
// AllOwners List is scoped to one owner: another owner's subscription is
// ENOTFOUND. Get and AllOwners serve operators only.
type Store interface {
	// Get returns any owner's subscription by id.
	Get(ctx context.Context, id string) (*jqlgate.Subscription, error)
	// Create inserts sub, or returns the owner's existing subscription with
	// the same prefix, trigger and URL and created false.
	Create(ctx context.Context, sub *jqlgate.Subscription) (_ *jqlgate.Subscription, created bool, err error)
	GetOwned(ctx context.Context, owner, id string) (*jqlgate.Subscription, error)
	FindByKey(ctx context.Context, owner, prefix, trigger, webhookURL string) (*jqlgate.Subscription, error)
	List(ctx context.Context, q jqlgate.SubscriptionQuery) ([]*jqlgate.Subscription, int, error)
	Update(ctx context.Context, sub *jqlgate.Subscription) error
	Delete(ctx context.Context, owner, id string) error
}

// Catalogue lists the events subscriptions can be triggered by.
type Catalogue interface {
	EventTypes() []jqlgate.EventType
}

// Notifier learns about every subscription write, so the dispatcher can
// refresh its index and cancel pending deliveries of a subscription that
// was removed or disabled.
type Notifier interface {
	SubscriptionChanged(ctx context.Context, id string)
}

// Deps are what the system.Webhook handlers need.
type Deps struct {
	Store     Store
	Catalogue Catalogue
	// Notifier is told about every write; nil tells no one.
	Notifier Notifier
	// Policy decides which receiver URLs and addresses are acceptable.
	Policy jqlgate.AddrPolicy
	// Resolver resolves receiver hosts at subscribe time; nil uses
	// net.DefaultResolver. The dispatcher checks again when it connects.
	Resolver input.Resolver
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// MaxPerOwner caps how many subscriptions one owner may have; 0 does
	// not cap.
	MaxPerOwner int
	// Sites finds the trusted site a subscription names; nil refuses
	// trustedSite.
	Sites SiteLookup
	// PublicURL is where this gateway is reached from outside; log and
	// queue rows link the record an event is about under it
	// (PublicURL/console/records/<namespace>/<id>). Empty leaves the link
	// out.
	PublicURL string
	// Operations serve the operator intents (getWebhookLogs,
	// getWebhookQueue, retryDelivery, replayEvent, testWebhook); nil
	// leaves them unregistered.
	Operations Operations
}

// webhooks holds the system.Webhook handlers.
type webhooks struct {
	Deps
	testLimit *ownerLimiter // testWebhook sends per owner
}

// Register registers every system.Webhook intent on m.
func Register(m *namespaces.Mux, deps Deps) {
	if deps.Resolver == nil {
		deps.Resolver = net.DefaultResolver
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	w := &webhooks{Deps: deps, testLimit: newOwnerLimiter(testRate, testBurst)}
	m.HandleControllers(Namespace, webhookSpecs, []namespaces.Route{
		{Intent: "subscribeToWebhook", Fn: w.subscribe},
		{Intent: "unsubscribeFromWebhook", Fn: w.unsubscribe},
		{Intent: "listWebhooks", Fn: w.list},
		{Intent: "getWebhook", Fn: w.get},
		{Intent: "updateWebhook", Fn: w.update},
		{Intent: "enableWebhook", Fn: w.enable},
		{Intent: "disableWebhook", Fn: w.disable},
		{Intent: "getWebhookSecret", Fn: w.getSecret},
		{Intent: "rotateWebhookSecret", Fn: w.rotateSecret},
		{Intent: "listEvents", Fn: w.listEvents},
	})
	w.registerOps(m)
}

// now returns the current time as the store keeps it: UTC, milliseconds.
func (w *webhooks) now() time.Time {
	return w.Now().UTC().Truncate(time.Millisecond)
}

func (w *webhooks) notify(ctx context.Context, id string) {
	if w.Notifier != nil {
		w.Notifier.SubscriptionChanged(ctx, id)
	}
}

// notFound is the answer for a subscription the caller does not own or
// that does not exist: the two are indistinguishable on purpose.
func notFound(err error) error {
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Webhook subscription not found.", Field: "id", Err: err}
	}
	return err
}

// ownedFor returns the caller's subscription id, unless r holds a problem
// with the id (then r's problems, every one).
func (w *webhooks) ownedFor(ctx context.Context, cmd *jqlgate.Command, r *reader, id string) (*jqlgate.Subscription, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	if r.Failed("id") {
		return nil, r.Err()
	}
	sub, err := w.Store.GetOwned(ctx, own, id)
	return sub, notFound(err)
}

// ownedByID reads the "id" field and returns the caller's subscription.
func (w *webhooks) ownedByID(ctx context.Context, cmd *jqlgate.Command, allowed ...string) (*jqlgate.Subscription, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	r := &reader{}
	r.Unknown(cmd.Fields, append(allowed, "id")...)
	id := r.Required(cmd.Fields, "id")
	if err := r.Err(); err != nil {
		return nil, err
	}
	sub, err := w.Store.GetOwned(ctx, own, id)
	return sub, notFound(err)
}
