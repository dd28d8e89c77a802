package system

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
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
	handleControllers(m, WebhookNamespace, opsSpecs, []route{
		{"getWebhookLogs", w.logs},
		{"getWebhookQueue", w.queue},
		{"retryDelivery", w.retry},
		{"replayEvent", w.replay},
		{"testWebhook", w.test},
	})
}

// page reads limit and offset from the fields or __meta__ (fields win).
func page(r *reader, cmd *jqlgate.Command) (limit, offset int) {
	limit = defaultOpsLimit
	if l := cmd.Meta.Limit; l != nil {
		limit = r.integer("__meta__.limit", *l, 1, maxOpsLimit)
	}
	if o := cmd.Meta.Offset; o != nil {
		offset = r.integer("__meta__.offset", *o, 0, 1<<30)
	}
	if v, ok := cmd.Fields["limit"]; ok {
		limit = r.integer("limit", v, 1, maxOpsLimit)
	}
	if v, ok := cmd.Fields["offset"]; ok {
		offset = r.integer("offset", v, 0, 1<<30)
	}
	return limit, offset
}

// timestamp reads an RFC 3339 time.
func (r *reader) timestamp(field string, v any) time.Time {
	s := r.str(field, v, 64)
	if r.failed(field) {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail(field, "must be an RFC 3339 time such as 2024-05-01T12:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// statuses reads one delivery status or a list of them.
func (r *reader) statuses(field string, v any) []string {
	all := []string{jqlgate.StatusQueued, jqlgate.StatusResent, jqlgate.StatusFailed, jqlgate.StatusDone}
	if s, ok := v.(string); ok {
		return []string{r.oneOf(field, s, all...)}
	}
	var out []string
	for _, e := range r.list(field, v, len(all)) {
		out = append(out, r.oneOf(field, e, all...))
	}
	return out
}

// ownedSub returns the caller's subscription id; another owner's is
// ENOTFOUND on field.
func (w *webhooks) ownedSub(ctx context.Context, cmd *jqlgate.Command, field, id string) (*jqlgate.Subscription, error) {
	own, err := owner(cmd)
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
