package webhook

import (
	"context"
	"net/url"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
)

// maxScopeSubs bounds how many of one owner's subscriptions an
// account-wide log or queue reads (MaxPerOwner is far below it).
const maxScopeSubs = 10_000

// opsScope is the set of subscriptions a log or queue view covers: one
// subscription (id), an owner's (account-wide), or every owner's (an
// operator's owner "*").
type opsScope struct {
	subID string
	ids   []string
	all   bool
	// operated is true when the caller looks at another owner's
	// subscriptions as an operator: rows then name their owner.
	operated bool
	subs     map[string]*jqlgate.Subscription
	sites    map[string]string
}

// operable returns subscription id if it is the caller's or, for an
// operator, any owner's; operated tells which. Another owner's
// subscription is ENOTFOUND on field for everyone else.
func (w *webhooks) operable(ctx context.Context, cmd *jqlgate.Command, field, id string) (*jqlgate.Subscription, bool, error) {
	sub, err := w.ownedSub(ctx, cmd, field, id)
	if jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND || id == "" || !cmd.Principal.CanOperate() {
		return sub, false, err
	}
	other, gerr := w.Store.Get(ctx, id)
	if gerr != nil {
		if jqlgate.ErrorCode(gerr) == jqlgate.ENOTFOUND {
			return nil, false, err
		}
		return nil, false, gerr
	}
	return other, true, nil
}

// refuseOperator turns the not-found answer an operator gets for another
// owner's subscription into a refusal: operators see that subscription,
// but its signing secret and options are its owner's alone.
func (w *webhooks) refuseOperator(ctx context.Context, cmd *jqlgate.Command, err error) error {
	if jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND || !cmd.Principal.CanOperate() {
		return err
	}
	id, _ := cmd.Fields["id"].(string)
	if _, gerr := w.Store.Get(ctx, id); gerr != nil {
		return err
	}
	return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: "id",
		Message: "Only the subscription's owner may read or change its secret and options; operators may view, test, retry, replay, enable and disable it."}
}

// scopeOf reads which subscriptions a log or queue covers: id (one of the
// caller's, or any owner's for an operator), else the owner's every
// subscription, narrowed by subscriptionId. owner names another owner, or
// "*" for every owner, and requires system.Webhook:operate.
func (w *webhooks) scopeOf(ctx context.Context, cmd *jqlgate.Command, id, subID, ownerKey string) (*opsScope, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	sc := &opsScope{subs: map[string]*jqlgate.Subscription{}, sites: map[string]string{}}
	if id != "" {
		sub, operated, err := w.operable(ctx, cmd, "id", id)
		if err != nil {
			return nil, err
		}
		sc.subID, sc.operated, sc.subs[sub.ID] = sub.ID, operated, sub
		return sc, nil
	}
	q := jqlgate.SubscriptionQuery{Owner: own, Limit: maxScopeSubs}
	switch ownerKey {
	case "", own:
	case "*":
		q.AllOwners = true
	default:
		q.Owner = ownerKey
	}
	if q.AllOwners || q.Owner != own {
		if !cmd.Principal.CanOperate() {
			return nil, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: "owner",
				Message: "Viewing another owner's webhook logs and queue requires the permission " + Namespace + ":operate."}
		}
		sc.operated = true
	}
	if subID != "" {
		sub, err := w.Store.Get(ctx, subID)
		if err == nil && !q.AllOwners && sub.Owner != q.Owner {
			err = &jqlgate.Error{Code: jqlgate.ENOTFOUND}
		}
		if err != nil {
			if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
				return nil, &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Webhook subscription not found.", Field: "subscriptionId", Err: err}
			}
			return nil, err
		}
		sc.subID, sc.subs[sub.ID] = sub.ID, sub
		return sc, nil
	}
	if q.AllOwners {
		sc.all = true
		return sc, nil
	}
	subs, _, err := w.Store.List(ctx, q)
	if err != nil {
		return nil, err
	}
	sc.ids = make([]string, len(subs))
	for i, s := range subs {
		sc.ids[i], sc.subs[s.ID] = s.ID, s
	}
	return sc, nil
}

// sub returns a subscription of the scope, looked up once; nil if it is
// gone.
func (w *webhooks) scopeSub(ctx context.Context, sc *opsScope, id string) *jqlgate.Subscription {
	if s, ok := sc.subs[id]; ok {
		return s
	}
	s, err := w.Store.Get(ctx, id)
	if err != nil {
		s = nil
	}
	sc.subs[id] = s
	return s
}

// siteName returns the name of the trusted site sub uses, if any.
func (w *webhooks) siteName(ctx context.Context, sc *opsScope, sub *jqlgate.Subscription) string {
	if sub.TrustedSite == "" || w.Sites == nil {
		return ""
	}
	if n, ok := sc.sites[sub.TrustedSite]; ok {
		return n
	}
	n := ""
	if site, err := w.Sites.GetOwned(ctx, sub.Owner, sub.TrustedSite); err == nil {
		n = site.Name
	}
	sc.sites[sub.TrustedSite] = n
	return n
}

// rowInfo is what every log and queue row tells about its subscription
// and record.
type rowInfo struct {
	EntityID        string `json:"entityId,omitempty"`
	EntityURL       string `json:"entityUrl,omitempty"`
	WebhookURL      string `json:"webhookUrl,omitempty"`
	TrustedSiteName string `json:"trustedSiteName,omitempty"`
	// Owner is named in operator views only.
	Owner string `json:"owner,omitempty"`
}

// rowInfo describes the row of subID about entityID of event; readable
// is false when the caller may not read the event's records, which then
// leaves the record out.
func (w *webhooks) rowInfo(ctx context.Context, sc *opsScope, subID, event, entityID string, readable bool) rowInfo {
	var ri rowInfo
	if sub := w.scopeSub(ctx, sc, subID); sub != nil {
		ri.WebhookURL, ri.TrustedSiteName = sub.WebhookURL, w.siteName(ctx, sc, sub)
		if sc.operated {
			ri.Owner = sub.Owner
		}
	}
	if readable && entityID != "" {
		ri.EntityID, ri.EntityURL = entityID, w.entityURL(event, entityID)
	}
	return ri
}

// entityURL is where the console shows the record an event is about;
// empty without a public URL.
func (w *webhooks) entityURL(event, entityID string) string {
	if w.PublicURL == "" {
		return ""
	}
	ns, _, _ := strings.Cut(event, ":")
	return strings.TrimSuffix(w.PublicURL, "/") + "/console/records/" + url.PathEscape(ns) + "/" + url.PathEscape(entityID)
}
