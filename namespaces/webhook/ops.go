package webhook

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/input"
)

// Operations are the delivery side of system.Webhook: the attempt log, the
// queue of unfinished deliveries, retries, replays and test sends. Every
// subscription it is given has already been checked to be the caller's.
type Operations interface {
	// Attempts returns one page of the attempts q selects, newest first,
	// and how many it selects in all.
	Attempts(ctx context.Context, q jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int, error)
	// PendingTo returns the unfinished deliveries to any of subIDs (to
	// every subscription when all is true), newest event first.
	PendingTo(ctx context.Context, subIDs []string, all bool) ([]*jqlgate.PendingDelivery, error)
	// LatestAttempt returns a delivery's latest attempt; ENOTFOUND if none.
	LatestAttempt(ctx context.Context, deliveryID string) (*jqlgate.Attempt, error)
	// FailedSince returns the latest attempt of every delivery to subID
	// that ended Failed at or after since.
	FailedSince(ctx context.Context, subID string, since time.Time) ([]*jqlgate.Attempt, error)
	// Health returns the health of each of subIDs (see
	// jqlgate.WebhookHealth) in one call, from index reads only.
	Health(ctx context.Context, subIDs []string) (map[string]*jqlgate.WebhookHealth, error)
	// Event returns a stored event with the subscriptions it fanned out
	// to; ENOTFOUND if it is not, or no longer, stored.
	Event(ctx context.Context, id string) (*jqlgate.Fanout, error)
	// Retry sends the delivery whose latest attempt is last again now, as
	// its next attempt. It reports false when the delivery is already
	// pending and could not be made due now (in flight, or pending in
	// another process).
	Retry(ctx context.Context, sub *jqlgate.Subscription, last *jqlgate.Attempt) (bool, error)
	// Replay sends event f again now to sub under the delivery's
	// webhook-id, and returns that id and whether it was queued.
	Replay(ctx context.Context, sub *jqlgate.Subscription, f *jqlgate.Fanout) (string, bool, error)
	// Test sends ev to sub at once, signed like a real delivery, records
	// the attempt marked as a test, and returns it.
	Test(ctx context.Context, sub *jqlgate.Subscription, ev *jqlgate.Event) (*jqlgate.Attempt, error)
}

// Paging of the operator views.
const (
	defaultOpsLimit = 100
	maxOpsLimit     = 1000
)

// registerOps registers the operator intents when w has Operations.
func (w *webhooks) registerOps(m *namespaces.Mux) {
	if w.Operations == nil {
		return
	}
	m.HandleControllers(Namespace, opsSpecs, []namespaces.Route{
		{Intent: "getWebhookLogs", Fn: w.logs},
		{Intent: "getWebhookQueue", Fn: w.queue},
		{Intent: "retryDelivery", Fn: w.retry},
		{Intent: "replayEvent", Fn: w.replay},
		{Intent: "testWebhook", Fn: w.test},
	})
}

// statuses reads one delivery status or a list of them.
func (r *reader) statuses(field string, v any) []string {
	all := []string{jqlgate.StatusQueued, jqlgate.StatusResent, jqlgate.StatusFailed, jqlgate.StatusDone}
	if s, ok := v.(string); ok {
		return []string{r.OneOf(field, s, all...)}
	}
	var out []string
	for _, e := range r.List(field, v, len(all)) {
		out = append(out, r.OneOf(field, e, all...))
	}
	return out
}

// ownedSub returns the caller's subscription id; another owner's is
// ENOTFOUND on field.
func (w *webhooks) ownedSub(ctx context.Context, cmd *jqlgate.Command, field, id string) (*jqlgate.Subscription, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	sub, err := w.Store.GetOwned(ctx, own, id)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return nil, &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Webhook subscription not found.", Field: field, Err: err}
	}
	return sub, err
}

// checkEnabled refuses to send to a disabled subscription.
func checkEnabled(sub *jqlgate.Subscription) error {
	if sub.Enabled {
		return nil
	}
	return &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "id",
		Message: "The subscription is disabled; enable it (enableWebhook) before sending to it."}
}

// privateHeld reports whether the caller, sub's owner, may no longer see
// or act on sub's private receivers: sub was saved by a holder of
// system.Webhook:privateTargets (its deliveries may reach addresses only
// the address policy's allow list opens) and the caller does not hold it
// now. The dispatcher holds such a subscription's deliveries to public
// addresses from then on. An operator acting on another owner's webhook
// is not held.
func privateHeld(cmd *jqlgate.Command, sub *jqlgate.Subscription) bool {
	return sub != nil && !sub.PublicOnly && cmd.Principal != nil && sub.Owner == cmd.Principal.Owner() &&
		!input.CanReachPrivate(cmd.Principal)
}

// sendable is operable for the intents that send (retry, test): a webhook
// privateHeld holds is refused.
func (w *webhooks) sendable(ctx context.Context, cmd *jqlgate.Command, field, id string) (*jqlgate.Subscription, bool, error) {
	sub, operated, err := w.operable(ctx, cmd, field, id)
	if err == nil && privateHeld(cmd, sub) {
		return nil, false, errPrivateHeld(field)
	}
	return sub, operated, err
}

// errPrivateHeld answers a send to a webhook privateHeld holds.
func errPrivateHeld(field string) error {
	return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: field,
		Message: "This webhook was saved to reach private addresses, which takes the permission " + jqlgate.PermPrivateTargets +
			"; you no longer hold it. Point it at a public URL (updateWebhook) or regain the permission."}
}
