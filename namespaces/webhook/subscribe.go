package webhook

import (
	"context"
	"fmt"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
	"github.com/jqlgate/jqlgate/schemas"
)

// subscribe creates a subscription, or returns the caller's existing one
// with the same prefix, trigger and URL, with its signing secret.
func (w *webhooks) subscribe(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	var in schemas.SubscribeInput
	r := readInput(cmd.Fields, &in)
	sub := newSubscription()
	r.apply(sub, &in.WebhookFields)
	if sub.SignatureScheme == "" {
		sub.SignatureScheme = jqlgate.SchemeV1
	}
	secret := readSecret(r, in.Secret, sub.SignatureScheme)
	warnings, err := w.validate(ctx, r, cmd.Principal, sub, true)
	if err != nil {
		return nil, err
	}
	sub.Owner = own
	sub.PublicOnly = !input.CanReachPrivate(cmd.Principal)
	existing, err := w.Store.FindByKey(ctx, own, sub.Prefix, jqlgate.TriggerKey(sub.TriggerList()), sub.WebhookURL)
	if err == nil {
		return subscribed(existing, false, warnings), nil
	}
	if jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		return nil, err
	}
	if err := w.checkCap(ctx, own); err != nil {
		return nil, err
	}
	now := w.now()
	sub.ID = jqlgate.NewID("sub")
	sub.Secrets = []jqlgate.Secret{{Value: secret, CreatedAt: now}}
	sub.CreatedAt, sub.UpdatedAt = now, now
	saved, created, err := w.Store.Create(ctx, sub)
	if err != nil {
		return nil, err
	}
	if created {
		w.notify(ctx, saved.ID)
	}
	return subscribed(saved, created, warnings), nil
}

// checkCap refuses a new subscription to an owner who has MaxPerOwner
// already. Two subscribes racing may both pass: the cap bounds the load
// one write can cause, it is not an exact quota.
func (w *webhooks) checkCap(ctx context.Context, own string) error {
	if w.MaxPerOwner <= 0 {
		return nil
	}
	_, n, err := w.Store.List(ctx, jqlgate.SubscriptionQuery{Owner: own, Limit: 1})
	if err != nil {
		return err
	}
	if n < w.MaxPerOwner {
		return nil
	}
	return &jqlgate.Error{Code: jqlgate.ECONFLICT, Message: fmt.Sprintf(
		"You have %d webhook subscriptions, the most one owner may have (max-subscriptions-per-owner is %d); unsubscribe from one first.",
		n, w.MaxPerOwner)}
}

func subscribed(sub *jqlgate.Subscription, created bool, warnings []string) *jqlgate.Result {
	v := viewOf(sub)
	v.Secret = currentSecret(sub)
	v.Warnings = warnings
	triggers := strings.Join(sub.TriggerList(), ", ")
	msg := "Subscribed to " + triggers + "."
	if !created {
		msg = "Already subscribed to " + triggers + " at this URL; the existing subscription is returned unchanged."
	}
	return &jqlgate.Result{Data: v, Message: withWarnings(msg, warnings), Filtered: 1, Display: 1}
}

// withWarnings appends warnings to an answer's message.
func withWarnings(msg string, warnings []string) string {
	for _, w := range warnings {
		msg += " Warning: " + w
	}
	return msg
}

// currentSecret returns what verifies the newest signing secret's
// signatures: the whsec_ secret itself, or the whpk_ public key of a v1a
// subscription's whsk_ signing key (which never leaves the server).
func currentSecret(sub *jqlgate.Subscription) string {
	if len(sub.Secrets) == 0 {
		return ""
	}
	return jqlgate.PublicSecret(sub.Secrets[0].Value)
}

// unsubscribe removes a subscription named by id, or by prefix, trigger and
// webhookUrl as Antly names it (triggers instead of trigger for one with
// several, in any order).
func (w *webhooks) unsubscribe(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	sub, err := w.findForUnsubscribe(ctx, own, cmd.Fields)
	if err != nil {
		return nil, err
	}
	if err := w.Store.Delete(ctx, own, sub.ID); err != nil {
		return nil, notFound(err)
	}
	w.notify(ctx, sub.ID)
	data := map[string]any{"id": sub.ID, "prefix": sub.Prefix, "trigger": sub.Trigger, "triggers": sub.TriggerList(), "webhookUrl": sub.WebhookURL}
	return &jqlgate.Result{Data: data, Message: "Unsubscribed from " + strings.Join(sub.TriggerList(), ", ") + ".", Filtered: 1, Display: 1}, nil
}

func (w *webhooks) findForUnsubscribe(ctx context.Context, own string, fields map[string]any) (*jqlgate.Subscription, error) {
	var in schemas.UnsubscribeInput
	r := readInput(fields, &in)
	given := in.Members.Given
	if given("id") {
		r.Require("id", in.ID)
		if err := r.Err(); err != nil {
			return nil, err
		}
		sub, err := w.Store.GetOwned(ctx, own, in.ID)
		return sub, notFound(err)
	}
	r.Require("prefix", in.Prefix)
	key := in.Trigger
	if given("triggers") {
		probe := &jqlgate.Subscription{}
		r.triggers(probe, in.Triggers)
		key = jqlgate.TriggerKey(probe.TriggerList())
		if given("trigger") {
			r.Fail("triggers", "give either trigger (one event) or triggers (a list of events), not both")
		}
	} else {
		r.Require("trigger", in.Trigger)
	}
	r.Require("webhookUrl", in.WebhookURL)
	if err := r.Err(); err != nil {
		return nil, err
	}
	sub, err := w.Store.FindByKey(ctx, own, in.Prefix, key, in.WebhookURL)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return nil, &jqlgate.Error{Code: jqlgate.ENOTFOUND, Err: err,
			Message: "No webhook subscription matches this prefix, trigger and webhookUrl."}
	}
	return sub, err
}
