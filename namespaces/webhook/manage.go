package webhook

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
	"github.com/jqlgate/jqlgate/schemas"
)

// Paging and rotation limits.
const (
	defaultRotateGrace = 24 * time.Hour
	maxRotateGrace     = 7 * 24 * time.Hour
	maxSecrets         = 10
)

// subscriptionView is a subscription as clients see it: never a password,
// client secret or secret header value (redacted), the retry schedule in
// seconds, and the signing secret only where an intent returns it.
type subscriptionView struct {
	*jqlgate.Subscription
	// Triggers is always the list, also for a subscription stored with
	// only trigger.
	Triggers    []string          `json:"triggers"`
	Headers     map[string]string `json:"headers,omitempty"`
	RetryPolicy retryView         `json:"retryPolicy"`
	Secret      string            `json:"secret,omitempty"`
	// Warnings say why an accepted subscription will not deliver yet.
	Warnings []string `json:"warnings,omitempty"`
	// Owner is named in operator views only.
	Owner string `json:"owner,omitempty"`
	// Health is the subscription's health, where listWebhooks was asked
	// for it.
	Health *jqlgate.WebhookHealth `json:"health,omitempty"`
}

type retryView struct {
	Preset   string    `json:"preset,omitempty"`
	Schedule []float64 `json:"schedule"`
}

func viewOf(sub *jqlgate.Subscription) *subscriptionView {
	rv := retryView{Preset: sub.RetryPolicy.Preset, Schedule: make([]float64, len(sub.RetryPolicy.Schedule))}
	for i, d := range sub.RetryPolicy.Schedule {
		rv.Schedule[i] = d.Seconds()
	}
	return &subscriptionView{Subscription: sub, Triggers: sub.TriggerList(), Headers: sub.RedactedHeaders(), RetryPolicy: rv}
}

// list answers one page of the caller's subscriptions, narrowed by prefix,
// trigger or enabled given as fields or in __meta__.filter. An operator
// may name another owner, or "*" for every owner; its rows name their
// owner and, like every view, carry no secret.
func (w *webhooks) list(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	q, err := listQuery(own, cmd)
	if err != nil {
		return nil, err
	}
	operated := q.AllOwners || q.Owner != own
	if operated && !cmd.Principal.CanOperate() {
		return nil, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: "owner",
			Message: "Listing another owner's webhooks requires the permission " + Namespace + ":operate."}
	}
	subs, total, err := w.Store.List(ctx, q)
	if err != nil {
		return nil, err
	}
	views := make([]*subscriptionView, len(subs))
	ids := make([]string, len(subs))
	for i, s := range subs {
		if operated {
			views[i] = operatorView(s)
		} else {
			views[i] = viewOf(s)
		}
		ids[i] = s.ID
	}
	if withHealth, _ := cmd.Fields["health"].(bool); withHealth && w.Operations != nil && len(ids) > 0 {
		// One store call for the page, whatever the number of attempts.
		health, err := w.Operations.Health(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i, v := range views {
			v.Health = health[ids[i]]
		}
	}
	return &jqlgate.Result{Data: views, Message: "Webhooks listed.", Filtered: total, Display: len(views)}, nil
}

func listQuery(own string, cmd *jqlgate.Command) (jqlgate.SubscriptionQuery, error) {
	q := jqlgate.SubscriptionQuery{Owner: own, Limit: input.DefaultListLimit}
	r := &reader{}
	for _, src := range []map[string]any{cmd.Meta.Filter, cmd.Fields} {
		r.Unknown(src, "prefix", "trigger", "enabled", "owner", "health")
		if v, ok := src["health"]; ok {
			r.Boolean("health", v)
		}
		if v, ok := src["owner"]; ok {
			if o := r.Str("owner", v, 200); o == "*" {
				q.AllOwners = true
			} else if o != "" {
				q.Owner = o
			}
		}
		if v, ok := src["prefix"]; ok {
			q.Prefix = r.Str("prefix", v, 128)
		}
		if v, ok := src["trigger"]; ok {
			q.Trigger = r.Str("trigger", v, 200)
		}
		if v, ok := src["enabled"]; ok {
			b := r.Boolean("enabled", v)
			q.Enabled = &b
		}
	}
	if l := cmd.Meta.Limit; l != nil {
		q.Limit = r.Integer("__meta__.limit", *l, 1, input.MaxListLimit)
	}
	if o := cmd.Meta.Offset; o != nil {
		q.Offset = r.Integer("__meta__.offset", *o, 0, 1<<30)
	}
	return q, r.Err()
}

// get answers one of the caller's subscriptions, without secrets; an
// operator gets any owner's, named by owner and with header values hidden.
func (w *webhooks) get(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	sub, operated, err := w.operableByID(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return &jqlgate.Result{Data: viewFor(sub, operated), Message: "Webhook found.", Filtered: 1, Display: 1}, nil
}

// operableByID reads the "id" field and returns the caller's subscription
// or, for an operator, any owner's (operated).
func (w *webhooks) operableByID(ctx context.Context, cmd *jqlgate.Command, allowed ...string) (*jqlgate.Subscription, bool, error) {
	r := &reader{}
	r.Unknown(cmd.Fields, append(allowed, "id")...)
	id := r.Required(cmd.Fields, "id")
	if err := r.Err(); err != nil {
		return nil, false, err
	}
	return w.operable(ctx, cmd, "id", id)
}

// viewFor is the view of sub for its owner or, operated, for an operator.
func viewFor(sub *jqlgate.Subscription, operated bool) *subscriptionView {
	if operated {
		return operatorView(sub)
	}
	return viewOf(sub)
}

// update changes any option of one of the caller's subscriptions and
// validates the result as a whole.
func (w *webhooks) update(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	var in schemas.UpdateWebhookInput
	r := readInput(cmd.Fields, &in)
	sub, err := w.ownedFor(ctx, cmd, r, in.ID)
	if err != nil {
		return nil, w.refuseOperator(ctx, cmd, err)
	}
	oldURL, oldToken, oldScheme := sub.WebhookURL, tokenURL(sub), sub.SignatureScheme
	r.apply(sub, &in.WebhookFields)
	r.CheckCarried(input.Carried{URLField: "webhookUrl", OldURL: oldURL, NewURL: sub.WebhookURL, OldToken: oldToken, NewToken: tokenURL(sub),
		BasicAuth: sub.BasicAuth, OAuth2: sub.OAuth2, Headers: sub.Headers, Secret: sub.IsSecretHeader}, cmd.Fields)
	if sub.SignatureScheme != oldScheme && !r.Failed("signatureScheme") {
		r.Fail("signatureScheme", "is changed by rotateWebhookSecret, which makes a key of the new kind while the old one keeps signing for the grace period")
	}
	// A caller without PermPrivateTargets has the URLs checked again
	// even if unchanged: the subscription becomes public-only.
	private := input.CanReachPrivate(cmd.Principal)
	resolve := sub.WebhookURL != oldURL || tokenURL(sub) != oldToken || !private
	warnings, err := w.validate(ctx, r, cmd.Principal, sub, resolve)
	if err != nil {
		return nil, err
	}
	sub.PublicOnly = !private
	res, err := w.save(ctx, sub, withWarnings("Webhook updated.", warnings))
	if err == nil {
		res.Data.(*subscriptionView).Warnings = warnings
	}
	return res, err
}

func tokenURL(sub *jqlgate.Subscription) string {
	if sub.OAuth2 == nil {
		return ""
	}
	return sub.OAuth2.TokenURL
}

// save writes a changed subscription and tells the dispatcher.
func (w *webhooks) save(ctx context.Context, sub *jqlgate.Subscription, msg string) (*jqlgate.Result, error) {
	sub.UpdatedAt = w.now()
	if err := w.Store.Update(ctx, sub); err != nil {
		if jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
			return nil, &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "webhookUrl", Err: err,
				Message: "Another of your subscriptions already has this prefix, trigger and webhookUrl."}
		}
		return nil, notFound(err)
	}
	w.notify(ctx, sub.ID)
	return &jqlgate.Result{Data: viewOf(sub), Message: msg, Filtered: 1, Display: 1}, nil
}

// enable switches a subscription on again, if the caller may still read
// the events of every one of its triggers. An operator may switch on any
// owner's subscription; the dispatcher still withholds it while its owner
// may not read every trigger's events.
func (w *webhooks) enable(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	sub, operated, err := w.operableByID(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if !operated {
		if err := checkReadPermission(&reader{}, cmd.Principal, sub); err != nil {
			return nil, err
		}
	}
	sub.Enabled, sub.DisabledReason = true, ""
	return w.saveFor(ctx, sub, operated, "Webhook enabled.")
}

// disable switches a subscription off; the dispatcher holds (parks) its
// pending deliveries until it is enabled again. An operator may switch off any owner's subscription.
func (w *webhooks) disable(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	sub, operated, err := w.operableByID(ctx, cmd)
	if err != nil {
		return nil, err
	}
	sub.Enabled, sub.DisabledReason = false, "Disabled by its owner."
	if operated {
		sub.DisabledReason = "Disabled by an operator."
	}
	return w.saveFor(ctx, sub, operated, "Webhook disabled.")
}

// saveFor saves sub and answers the view of it for its owner or, operated,
// for an operator.
func (w *webhooks) saveFor(ctx context.Context, sub *jqlgate.Subscription, operated bool, msg string) (*jqlgate.Result, error) {
	res, err := w.save(ctx, sub, msg)
	if err == nil && operated {
		res.Data = operatorView(sub)
	}
	return res, err
}

// operatorView is another owner's subscription as an operator sees it:
// named by owner, and with custom header values hidden too, since they may
// carry the receiver's credentials (signing secrets, passwords and client
// secrets are in no view).
func operatorView(sub *jqlgate.Subscription) *subscriptionView {
	v := viewOf(sub)
	for k := range v.Headers {
		v.Headers[k] = jqlgate.RedactedValue
	}
	v.Owner = sub.Owner
	return v
}

// secretView is one signing secret as getWebhookSecret shows it.
type secretView struct {
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// getSecret answers the current signing secret and every older one still
// signing during a rotation.
func (w *webhooks) getSecret(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	sub, err := w.ownedByID(ctx, cmd)
	if err != nil {
		return nil, w.refuseOperator(ctx, cmd, err)
	}
	now := w.now()
	var active []secretView
	for _, s := range sub.Secrets {
		if s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt) {
			active = append(active, secretView{jqlgate.PublicSecret(s.Value), s.CreatedAt, s.ExpiresAt})
		}
	}
	data := map[string]any{"id": sub.ID, "secret": currentSecret(sub), "secrets": active}
	return &jqlgate.Result{Data: data, Message: "Webhook secret.", Filtered: 1, Display: 1}, nil
}

// rotateSecret makes a new signing secret (or takes the caller's secret);
// the previous one keeps signing beside it for expiresInSeconds (24 hours
// unless given, at most 7 days). signatureScheme switches the scheme: the
// new key is of the new kind, and during the grace period both sign.
func (w *webhooks) rotateSecret(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	var in schemas.RotateSecretInput
	r := readInput(cmd.Fields, &in)
	sub, err := w.ownedFor(ctx, cmd, r, in.ID)
	if err != nil {
		return nil, w.refuseOperator(ctx, cmd, err)
	}
	grace := defaultRotateGrace
	if in.ExpiresInSeconds != nil {
		grace = time.Duration(*in.ExpiresInSeconds) * time.Second
	}
	if in.Members.Given("signatureScheme") {
		sub.SignatureScheme = schemas.Fold(or(in.SignatureScheme, jqlgate.SchemeV1), "v1 v1a")
		checkSigning(r, sub)
	}
	fresh := readSecret(r, in.Secret, sub.SignatureScheme)
	if err := r.Err(); err != nil {
		return nil, err
	}
	now := w.now()
	sub.Secrets = rotated(sub.Secrets, fresh, now, grace)
	if _, err := w.save(ctx, sub, ""); err != nil {
		return nil, err
	}
	data := map[string]any{"id": sub.ID, "secret": currentSecret(sub), "previousExpiresAt": now.Add(grace)}
	return &jqlgate.Result{Data: data, Message: "Webhook secret rotated.", Filtered: 1, Display: 1}, nil
}

// rotated puts fresh first, gives the current secret an expiry of
// now+grace (dropping it at once when grace is 0), and drops expired ones.
func rotated(secrets []jqlgate.Secret, fresh string, now time.Time, grace time.Duration) []jqlgate.Secret {
	out := []jqlgate.Secret{{Value: fresh, CreatedAt: now}}
	for _, s := range secrets {
		if s.ExpiresAt.IsZero() {
			s.ExpiresAt = now.Add(grace)
		}
		if now.Before(s.ExpiresAt) && len(out) < maxSecrets {
			out = append(out, s)
		}
	}
	return out
}
