package system

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Defaults and limits of subscription options.
const (
	defaultTimeoutSeconds = 10
	defaultMaxInFlight    = 8
	// maxTimeoutSeconds and maxMaxInFlight bound what one subscription
	// may hold of the shared delivery workers (see SECURITY.md, fairness).
	maxTimeoutSeconds  = 30
	maxMaxInFlight     = 50
	maxScheduleEntries = 20
	maxRetryDelay      = 30 * 24 * time.Hour
	maxMetadataBytes   = 8 << 10
	maxRateLimit       = 10000
	minRateLimit       = 0.01
	maxTriggerLen      = 200
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

// setter applies one request field to a subscription. A null value resets
// an option to its default.
type setter func(r *reader, sub *jqlgate.Subscription, v any)

// setters are the subscription fields a client may set, by name.
var setters = map[string]setter{
	"prefix":      func(r *reader, s *jqlgate.Subscription, v any) { s.Prefix = r.str("prefix", v, 128) },
	"trigger":     setTrigger,
	"triggers":    setTriggerList,
	"webhookUrl":  func(r *reader, s *jqlgate.Subscription, v any) { s.WebhookURL = r.str("webhookUrl", v, 2048) },
	"method":      setMethod,
	"contentType": setContentType,
	"includeEntity": func(r *reader, s *jqlgate.Subscription, v any) {
		s.IncludeEntity = v == nil || r.boolean("includeEntity", v)
	},
	"enabled":            setEnabled,
	"ordered":            func(r *reader, s *jqlgate.Subscription, v any) { s.Ordered = v != nil && r.boolean("ordered", v) },
	"headers":            setHeaders,
	"secretHeaders":      setSecretHeaders,
	"basicAuth":          setBasicAuth,
	"oauth2":             setOAuth2,
	"metadata":           setMetadata,
	"retryPolicy":        setRetryPolicy,
	"timeoutSeconds":     setTimeout,
	"maxInFlight":        setMaxInFlight,
	"rateLimitPerSecond": setRateLimit,
	"filter":             setFilter,
	"trustedSite":        setTrustedSite,
	"signatureScheme":    setSignatureScheme,
	"bodySignature":      setBodySignature,
}

// subscriptionFields are the names of every settable field, sorted.
var subscriptionFields = func() []string {
	names := make([]string, 0, len(setters))
	for k := range setters {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}()

// apply sets every field of fields on sub; fields named in skip are left
// to the caller.
func (r *reader) apply(sub *jqlgate.Subscription, fields map[string]any, skip ...string) {
	r.unknown(fields, append(slices.Clone(subscriptionFields), skip...)...)
	for _, name := range subscriptionFields {
		if v, ok := fields[name]; ok {
			r.given = append(r.given, name)
			setters[name](r, sub, v)
		}
	}
	_, one := fields["trigger"]
	if _, many := fields["triggers"]; one && many {
		r.fail("triggers", "give either trigger (one event) or triggers (a list of events), not both")
	}
}

// setTrigger reads Antly's single trigger.
func setTrigger(r *reader, s *jqlgate.Subscription, v any) {
	t := r.str("trigger", v, maxTriggerLen)
	s.SetTriggers(nil)
	if t != "" {
		s.SetTriggers([]string{t})
	}
}

// setTriggerList reads triggers: 1 to jqlgate.MaxTriggers distinct
// triggers, each checked against the catalogue later (checkForm).
func setTriggerList(r *reader, s *jqlgate.Subscription, v any) {
	const field = "triggers"
	s.SetTriggers(nil)
	list := r.list(field, v, jqlgate.MaxTriggers)
	if len(list) == 0 {
		if !r.failed(field) {
			r.fail(field, "must be a list of 1 to %d triggers", jqlgate.MaxTriggers)
		}
		return
	}
	out := make([]string, 0, len(list))
	at := make([]int, 0, len(list)) // index in list of each entry of out
	for i, e := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		t := r.str(f, e, maxTriggerLen)
		switch {
		case r.failed(f):
		case t == "":
			r.fail(f, "must not be empty")
		case slices.Contains(out, t):
			r.fail(f, "repeats %s[%d] (%s); give each trigger once", field, at[slices.Index(out, t)], t)
		default:
			out, at = append(out, t), append(at, i)
		}
	}
	s.SetTriggers(out)
	r.triggerAt = at
}

func setMethod(r *reader, s *jqlgate.Subscription, v any) {
	s.Method = "POST"
	if v != nil {
		s.Method = r.oneOf("method", v, "POST", "GET")
	}
}

func setContentType(r *reader, s *jqlgate.Subscription, v any) {
	s.ContentType = "application/json"
	if v != nil {
		s.ContentType = r.oneOf("contentType", v, "application/json", "application/x-www-form-urlencoded")
	}
}

func setEnabled(r *reader, s *jqlgate.Subscription, v any) {
	s.Enabled = v == nil || r.boolean("enabled", v)
	if s.Enabled {
		s.DisabledReason = ""
	} else if s.DisabledReason == "" {
		s.DisabledReason = "Disabled by its owner."
	}
}

func setTimeout(r *reader, s *jqlgate.Subscription, v any) {
	s.TimeoutSeconds = defaultTimeoutSeconds
	if v != nil {
		s.TimeoutSeconds = r.integer("timeoutSeconds", v, 1, maxTimeoutSeconds)
	}
}

func setMaxInFlight(r *reader, s *jqlgate.Subscription, v any) {
	s.MaxInFlight = defaultMaxInFlight
	if v != nil {
		s.MaxInFlight = r.integer("maxInFlight", v, 1, maxMaxInFlight)
	}
}

// setRateLimit reads requests per second: 0 (no limit) or between
// minRateLimit and maxRateLimit; a tinier rate would hold deliveries for
// ever.
func setRateLimit(r *reader, s *jqlgate.Subscription, v any) {
	s.RateLimitPerSecond = 0
	if v == nil {
		return
	}
	f := r.number("rateLimitPerSecond", v, 0, maxRateLimit)
	if r.failed("rateLimitPerSecond") || f != 0 && f < minRateLimit {
		r.errs = slices.DeleteFunc(r.errs, func(e jqlgate.FieldError) bool { return e.Field == "rateLimitPerSecond" })
		r.fail("rateLimitPerSecond", "must be 0 (no limit) or a number between %v and %v", minRateLimit, maxRateLimit)
		return
	}
	s.RateLimitPerSecond = f
}

func setMetadata(r *reader, s *jqlgate.Subscription, v any) {
	s.Metadata = nil
	if v == nil {
		return
	}
	m := r.object("metadata", v)
	if b, err := json.Marshal(m); err != nil || len(b) > maxMetadataBytes {
		r.fail("metadata", "must be a JSON object of at most %d bytes", maxMetadataBytes)
		return
	}
	s.Metadata = m
}

func setFilter(r *reader, s *jqlgate.Subscription, v any) {
	s.Filter = nil
	if v == nil {
		return
	}
	m := r.object("filter", v)
	if m == nil {
		return
	}
	if _, err := jqlgate.ParseFilter("filter", m); err != nil {
		r.merge(err)
		return
	}
	s.Filter = m
}

func setRetryPolicy(r *reader, s *jqlgate.Subscription, v any) {
	s.RetryPolicy = defaultRetryPolicy()
	if v == nil {
		return
	}
	m := r.object("retryPolicy", v)
	r.unknown(prefixed(m, "retryPolicy."), "retryPolicy.preset", "retryPolicy.schedule")
	preset, hasPreset := m["preset"]
	schedule, hasSchedule := m["schedule"]
	switch {
	case hasPreset && hasSchedule:
		r.fail("retryPolicy", "give either preset or schedule, not both")
	case hasPreset:
		s.RetryPolicy = retryPreset(r, preset)
	case hasSchedule:
		s.RetryPolicy = jqlgate.RetryPolicy{Schedule: retrySchedule(r, schedule)}
	case m != nil:
		r.fail("retryPolicy", "must give a preset (default or antavo) or a schedule")
	}
}

func retryPreset(r *reader, v any) jqlgate.RetryPolicy {
	switch r.oneOf("retryPolicy.preset", v, "default", "antavo") {
	case "antavo":
		return jqlgate.RetryPolicy{Preset: "antavo", Schedule: slices.Clone(jqlgate.AntavoRetrySchedule)}
	default:
		return defaultRetryPolicy()
	}
}

// retrySchedule reads the seconds to wait before each retry: positive,
// non-decreasing, each at most 30 days.
func retrySchedule(r *reader, v any) []time.Duration {
	const field = "retryPolicy.schedule"
	list := r.list(field, v, maxScheduleEntries)
	out := make([]time.Duration, 0, len(list))
	var last time.Duration
	for i, e := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		secs := r.number(f, e, 0.001, maxRetryDelay.Seconds())
		if r.failed(f) {
			r.errs[len(r.errs)-1].Message = "must be seconds between 0.001 and 2592000 (30 days)"
			continue
		}
		d := time.Duration(secs * float64(time.Second)).Round(time.Millisecond)
		if d < last {
			r.fail(f, "must not be less than the entry before it (the schedule must not decrease)")
		}
		last = d
		out = append(out, d)
	}
	return out
}

// prefixed returns m's keys with prefix added, for reporting unknown keys
// of a nested object under their full name.
func prefixed(m map[string]any, prefix string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[prefix+k] = v
	}
	return out
}

// stringList reads a list of non-empty strings.
func (r *reader) stringList(field string, v any, maxEntries, maxLen int) []string {
	var out []string
	for _, e := range r.list(field, v, maxEntries) {
		s := r.str(field, e, maxLen)
		if strings.TrimSpace(s) == "" {
			if !r.failed(field) {
				r.fail(field, "entries must be non-empty strings")
			}
			return nil
		}
		out = append(out, s)
	}
	return out
}
