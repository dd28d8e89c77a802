package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
	"github.com/jqlgate/jqlgate/schemas"
)

// Defaults of subscription options. Their limits are the validate tags of
// schemas.WebhookFields (timeoutSeconds and maxInFlight bound what one
// subscription may hold of the shared delivery workers, see SECURITY.md,
// fairness).
const (
	defaultTimeoutSeconds = 10
	defaultMaxInFlight    = 8
	maxMetadataBytes      = 8 << 10
)

// newSubscription returns a subscription with every option at its default.
func newSubscription() *jqlgate.Subscription {
	return &jqlgate.Subscription{
		Method: "POST", ContentType: "application/json", IncludeEntity: true, Enabled: true,
		RetryPolicy:    defaultRetryPolicy(),
		TimeoutSeconds: defaultTimeoutSeconds, MaxInFlight: defaultMaxInFlight,
	}
}

func defaultRetryPolicy() jqlgate.RetryPolicy {
	return jqlgate.RetryPolicy{Preset: "default", Schedule: slices.Clone(jqlgate.DefaultRetrySchedule)}
}

// readInput decodes and validates in from a request's fields (see
// schemas.Validator.Input) and returns a reader holding every problem.
func readInput(fields map[string]any, in any) *reader {
	return &reader{Reader: *input.Read(fields, in)}
}

// reader is input.Reader with what the subscription fields need beside it.
type reader struct {
	input.Reader
	// listed is whether the request gave triggers as a list (apply).
	listed bool
	// triggerAt is the index in the request's triggers of each trigger
	// read from it (entries with problems are left out).
	triggerAt []int
}

// or returns *p, or def when p is nil (the field was absent or null).
func or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// apply sets on sub every option in gives; a null one goes back to its
// default, an absent one is left as it is. r already holds in's problems
// of form; apply adds those that need the stored subscription or the
// request as a whole.
func (r *reader) apply(sub *jqlgate.Subscription, in *schemas.WebhookFields) {
	m := in.Members
	if m.Given("prefix") {
		sub.Prefix = in.Prefix
	}
	if m.Given("webhookUrl") {
		sub.WebhookURL = in.WebhookURL
	}
	if m.Given("trigger") {
		sub.SetTriggers(nil)
		if in.Trigger != "" {
			sub.SetTriggers([]string{in.Trigger})
		}
	}
	if m.Given("triggers") {
		r.triggers(sub, in.Triggers)
		if m.Given("trigger") {
			r.Fail("triggers", "give either trigger (one event) or triggers (a list of events), not both")
		}
	}
	r.applyOptions(sub, in)
	r.applyCredentials(sub, in)
	if m.Given("retryPolicy") {
		sub.RetryPolicy = r.retryPolicy(in.RetryPolicy)
	}
	if m.Given("metadata") {
		sub.Metadata = r.metadata(in.Metadata)
	}
	if m.Given("filter") {
		sub.Filter = r.filter(in.Filter)
	}
	if m.Given("signatureScheme") {
		sub.SignatureScheme = schemas.Fold(or(in.SignatureScheme, jqlgate.SchemeV1), "v1 v1a")
	}
	if m.Given("bodySignature") {
		sub.BodySignature = r.bodySignature(in.BodySignature)
	}
}

// applyOptions sets the delivery options in gives.
func (r *reader) applyOptions(sub *jqlgate.Subscription, in *schemas.WebhookFields) {
	m := in.Members
	if m.Given("method") {
		sub.Method = schemas.Fold(or(in.Method, "POST"), "POST GET")
	}
	if m.Given("contentType") {
		sub.ContentType = schemas.Fold(or(in.ContentType, "application/json"), "application/json application/x-www-form-urlencoded")
	}
	if m.Given("includeEntity") {
		sub.IncludeEntity = or(in.IncludeEntity, true)
	}
	if m.Given("ordered") {
		sub.Ordered = or(in.Ordered, false)
	}
	if m.Given("enabled") {
		sub.Enabled = or(in.Enabled, true)
		if sub.Enabled {
			sub.DisabledReason = ""
		} else if sub.DisabledReason == "" {
			sub.DisabledReason = "Disabled by its owner."
		}
	}
	if m.Given("timeoutSeconds") {
		sub.TimeoutSeconds = or(in.TimeoutSeconds, defaultTimeoutSeconds)
	}
	if m.Given("maxInFlight") {
		sub.MaxInFlight = or(in.MaxInFlight, defaultMaxInFlight)
	}
	if m.Given("rateLimitPerSecond") {
		sub.RateLimitPerSecond = or(in.RateLimitPerSecond, 0)
	}
	if m.Given("trustedSite") {
		sub.TrustedSite = or(in.TrustedSite, "")
	}
}

// applyCredentials sets the headers and receiver authentication in gives.
func (r *reader) applyCredentials(sub *jqlgate.Subscription, in *schemas.WebhookFields) {
	m := in.Members
	if m.Given("headers") {
		sub.Headers = r.Headers(sub.Headers, in.Headers)
	}
	if m.Given("secretHeaders") {
		sub.SecretHeaders = r.SecretHeaders(in.SecretHeaders)
	}
	if m.Given("basicAuth") {
		sub.BasicAuth = r.BasicAuth(sub.BasicAuth, in.BasicAuth)
	}
	if m.Given("oauth2") {
		sub.OAuth2 = r.OAuth2(sub.OAuth2, in.OAuth2)
	}
}

// triggers sets a list of triggers, each checked against the catalogue
// later (checkForm); an entry with a problem is left out, and r remembers
// where in the request each kept one was.
func (r *reader) triggers(sub *jqlgate.Subscription, list []string) {
	out := make([]string, 0, len(list))
	at := make([]int, 0, len(list)) // index in list of each entry of out
	for i, t := range list {
		f := fmt.Sprintf("triggers[%d]", i)
		switch {
		case r.Failed(f):
		case slices.Contains(out, t):
			r.Fail(f, "repeats triggers[%d] (%s); give each trigger once", at[slices.Index(out, t)], t)
		default:
			out, at = append(out, t), append(at, i)
		}
	}
	sub.SetTriggers(out)
	r.listed, r.triggerAt = true, at
}

func (r *reader) metadata(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	if b, err := json.Marshal(m); err != nil || len(b) > maxMetadataBytes {
		r.Fail("metadata", "must be a JSON object of at most %d bytes", maxMetadataBytes)
		return nil
	}
	return m
}

func (r *reader) filter(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	if _, err := jqlgate.ParseFilter("filter", m); err != nil {
		r.Merge(err)
		return nil
	}
	return m
}

// retryPolicy reads a preset or a schedule of seconds to wait before each
// retry: each from 1 ms to 30 days, never decreasing.
func (r *reader) retryPolicy(in *schemas.RetryPolicyInput) jqlgate.RetryPolicy {
	switch {
	case in == nil:
	case in.Preset != nil && in.Schedule != nil:
		r.Fail("retryPolicy", "give either preset or schedule, not both")
	case schemas.Fold(or(in.Preset, ""), "antavo") == "antavo":
		return jqlgate.RetryPolicy{Preset: "antavo", Schedule: slices.Clone(jqlgate.AntavoRetrySchedule)}
	case in.Preset != nil:
	case in.Schedule != nil:
		return jqlgate.RetryPolicy{Schedule: r.retrySchedule(in.Schedule)}
	default:
		r.Fail("retryPolicy", "must give a preset (default or antavo) or a schedule")
	}
	return defaultRetryPolicy()
}

func (r *reader) retrySchedule(secs []float64) []time.Duration {
	out := make([]time.Duration, 0, len(secs))
	var last time.Duration
	for i, s := range secs {
		f := fmt.Sprintf("retryPolicy.schedule[%d]", i)
		if r.Failed(f) {
			continue
		}
		d := time.Duration(s * float64(time.Second)).Round(time.Millisecond)
		if d < last {
			r.Fail(f, "must not be less than the entry before it (the schedule must not decrease)")
		}
		last = d
		out = append(out, d)
	}
	return out
}
