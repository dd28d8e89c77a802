package main

import (
	"context"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/namespaces/webhook"
)

var _ webhook.Operations = (*webhookOps)(nil)

// webhookOps serves system.Webhook's operator intents: reads from the
// delivery store's query side, sends through the dispatcher. The queue view
// is derived from the store (events fanned out to the subscription since
// the oldest node watermark, less those whose latest attempt is terminal),
// so it is right whichever process owns a delivery.
type webhookOps struct {
	deliveryQuery
	d *dispatcher.Dispatcher
}

// PendingTo implements webhook.Operations, naming the deliveries that have
// no attempt yet.
func (o *webhookOps) PendingTo(ctx context.Context, subIDs []string, all bool) ([]*jqlgate.PendingDelivery, error) {
	out, err := o.deliveryQuery.PendingTo(ctx, subIDs, all)
	for _, p := range out {
		if p.DeliveryID == "" {
			p.DeliveryID = dispatcher.DeliveryID(p.EventID, p.SubscriptionID)
		}
	}
	return out, err
}

// Retry implements system.Operations: a delivery waiting in memory for a
// retry is made due now, one whose retry waits in the store gets its next
// attempt now (superseding the stored one), and a finished one gets a new
// attempt.
func (o *webhookOps) Retry(ctx context.Context, sub *jqlgate.Subscription, last *jqlgate.Attempt) (bool, error) {
	if last.Status == jqlgate.StatusResent && o.d.Expedite(last.DeliveryID) {
		return true, nil
	}
	f, err := o.Event(ctx, last.EventID)
	if err != nil {
		return false, err
	}
	if last.Status == jqlgate.StatusResent {
		return o.d.ResendStored(ctx, f, sub.ID, last)
	}
	return true, o.d.Resend(ctx, f, sub.ID, last.Attempt)
}

// Replay implements webhook.Operations.
func (o *webhookOps) Replay(ctx context.Context, sub *jqlgate.Subscription, f *jqlgate.Fanout) (string, bool, error) {
	id := dispatcher.DeliveryID(f.Event.ID, sub.ID)
	last, err := o.LatestAttempt(ctx, id)
	switch {
	case jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND:
		return id, true, o.d.Resend(ctx, f, sub.ID, 0)
	case err != nil:
		return id, false, err
	}
	ok, err := o.Retry(ctx, sub, last)
	return id, ok, err
}

// Test implements webhook.Operations.
func (o *webhookOps) Test(ctx context.Context, sub *jqlgate.Subscription, ev *jqlgate.Event) (*jqlgate.Attempt, error) {
	a := o.d.SendNow(ctx, sub, ev)
	a.EntityID = ev.EntityID
	return a, o.InsertTestAttempt(ctx, a)
}
