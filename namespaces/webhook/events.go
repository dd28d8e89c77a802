package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// System events about subscriptions themselves.
const (
	EventWebhookDisabled = Namespace + ":disabled"
	EventWebhookEnabled  = Namespace + ":enabled"
)

// systemEvents are the events system.Webhook adds to the catalogue.
var systemEvents = []jqlgate.EventType{
	{
		Name:        EventWebhookDisabled,
		Description: "A subscription was disabled: by its owner, or by the dispatcher when its receiver answered 410 Gone or kept failing.",
		Example:     subscriptionEventExample(false, "The receiver answered 410 Gone."),
	},
	{
		Name:        EventWebhookEnabled,
		Description: "A subscription was enabled again.",
		Example:     subscriptionEventExample(true, ""),
	},
}

func subscriptionEventExample(enabled bool, reason string) map[string]any {
	data := map[string]any{
		"id": "sub_01hx0000000000000000000000", "prefix": "YourAppPrefix",
		"trigger": "profile.Customer:create", "triggers": []string{"profile.Customer:create"},
		"webhookUrl": "https://yourapp.com/webhooks/handle",
		"enabled":    enabled,
	}
	if reason != "" {
		data["disabledReason"] = reason
	}
	return data
}

// events returns the whole trigger catalogue, sorted by name.
func (w *webhooks) events() []jqlgate.EventType {
	var out []jqlgate.EventType
	if w.Catalogue != nil {
		out = append(out, w.Catalogue.EventTypes()...)
	}
	out = append(out, systemEvents...)
	slices.SortFunc(out, func(a, b jqlgate.EventType) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b jqlgate.EventType) bool { return a.Name == b.Name })
}

// triggers returns every valid trigger: "*", each namespace's "app.Model:*"
// and each event name, sorted.
func (w *webhooks) triggers() []string {
	out := []string{"*"}
	for _, e := range w.events() {
		ns, _, _ := strings.Cut(e.Name, ":")
		out = append(out, ns+":*", e.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkTrigger refuses a trigger, named field in the request, that matches
// no event of the catalogue.
func (w *webhooks) checkTrigger(field, trigger string) error {
	valid := w.triggers()
	if _, found := slices.BinarySearch(valid, trigger); found {
		return nil
	}
	if field != "trigger" {
		// One of a list: the catalogue once per entry would drown the
		// answer.
		return jqlgate.Invalid(field, "unknown trigger %q; see listEvents for the valid ones (app.Model:action, app.Model:* or *)", trigger)
	}
	return jqlgate.Invalid(field, "unknown trigger %q; valid triggers: %s", trigger, strings.Join(valid, ", "))
}

// triggerField names the i-th of n triggers as the request gave them:
// "trigger" for Antly's single trigger, "triggers[i]" for a list.
func triggerField(r *reader, i, n int) string {
	if !r.listed {
		if n == 1 {
			return "trigger"
		}
		return fmt.Sprintf("triggers[%d]", i) // a stored list
	}
	if i < len(r.triggerAt) {
		i = r.triggerAt[i]
	}
	return fmt.Sprintf("triggers[%d]", i)
}

// checkReadPermission refuses a subscription with a trigger whose events
// the caller may not read: a webhook carries the records, so subscribing
// is reading. The trigger "*" needs the permission "*". The dispatcher
// applies the same rule (Principal.CanReceive) to the owner's current
// permissions, for every trigger, before every fan-out.
func checkReadPermission(r *reader, p *jqlgate.Principal, sub *jqlgate.Subscription) error {
	list := sub.TriggerList()
	for i, t := range list {
		if err := requireRead(p, t, "Subscribing to", triggerField(r, i, len(list))); err != nil {
			return err
		}
	}
	return nil
}

// canRead reports whether p may read the events of trigger (an event type
// such as profile.Customer:create, app.Model:* or *): the rule the
// dispatcher applies before fan-out too.
func canRead(p *jqlgate.Principal, trigger string) bool {
	return p != nil && p.CanReceive(trigger)
}

// requireRead refuses (EFORBIDDEN on field) what reveals the events of
// trigger to a caller who may not read them; doing names the act, such as
// "Replaying".
func requireRead(p *jqlgate.Principal, trigger, doing, field string) error {
	if canRead(p, trigger) {
		return nil
	}
	if trigger == "*" {
		return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: field,
			Message: doing + " every event (trigger *) requires the permission *."}
	}
	ns, _, _ := strings.Cut(trigger, ":")
	return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: field,
		Message: doing + " " + ns + " events requires the permission " + ns + ":" + jqlgate.ReadIntent(ns) + "."}
}

// listEvents answers the trigger catalogue, each event with an example of
// its payload's data.
func (w *webhooks) listEvents(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	r := &reader{}
	r.Unknown(cmd.Fields)
	if err := r.Err(); err != nil {
		return nil, err
	}
	events := w.events()
	return &jqlgate.Result{Data: events, Message: "Events listed.", Filtered: len(events), Display: len(events)}, nil
}
