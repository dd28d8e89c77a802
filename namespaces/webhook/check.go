package webhook

import (
	"context"
	"slices"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
)

// checkForm reports the problems of a subscription that need no lookup:
// required fields, the URL's form, the trigger against the catalogue, and
// options that exclude each other. r already holds the field problems.
func (w *webhooks) checkForm(r *reader, sub *jqlgate.Subscription) {
	for field, v := range map[string]string{"prefix": sub.Prefix, "webhookUrl": sub.WebhookURL} {
		if v == "" && !r.Failed(field) {
			r.Fail(field, "is required")
		}
	}
	triggers := sub.TriggerList()
	if len(triggers) == 0 && !r.Failed("trigger") && !r.Failed("triggers") &&
		!slices.ContainsFunc(r.Errs, func(e jqlgate.FieldError) bool { return strings.HasPrefix(e.Field, "triggers[") }) {
		r.Fail("trigger", "is required: give trigger (one event) or triggers (a list of events)")
	}
	for i, t := range triggers {
		if field := triggerField(r, i, len(triggers)); !r.Failed(field) {
			r.Merge(w.checkTrigger(field, t))
		}
	}
	if sub.WebhookURL != "" && !r.Failed("webhookUrl") {
		_, err := w.Policy.CheckURL("webhookUrl", sub.WebhookURL)
		r.Merge(err)
	}
	if sub.BasicAuth != nil && sub.OAuth2 != nil {
		r.Fail("oauth2", "can't be combined with basicAuth: both set the Authorization header")
	}
	if _, ok := sub.Headers["Authorization"]; ok && (sub.BasicAuth != nil || sub.OAuth2 != nil) {
		r.Fail("headers.Authorization", "can't be set together with basicAuth or oauth2")
	}
	checkSigning(r, sub)
	if sub.OAuth2 != nil && !r.Failed("oauth2.tokenUrl") {
		_, err := w.Policy.CheckURL("oauth2.tokenUrl", sub.OAuth2.TokenURL)
		r.Merge(err)
	}
	slices.SortStableFunc(r.Errs, func(a, b jqlgate.FieldError) int { return strings.Compare(a.Field, b.Field) })
}

// validate checks sub completely: its form (EINVALID listing every
// problem), the caller's right to read the records of every trigger
// (EFORBIDDEN), then where its URLs resolve (EINVALID). resolve is false
// when the URLs did not change and need no new lookup. It returns warnings
// about a subscription that is accepted but will not deliver yet (a
// receiver host that does not resolve).
func (w *webhooks) validate(ctx context.Context, r *reader, p *jqlgate.Principal, sub *jqlgate.Subscription, resolve bool) ([]string, error) {
	w.checkForm(r, sub)
	w.checkSiteForm(r, sub)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if err := checkReadPermission(r, p, sub); err != nil {
		return nil, err
	}
	if err := w.checkSite(ctx, p, sub); err != nil {
		return nil, err
	}
	if !resolve {
		return nil, nil
	}
	var warnings []string
	urls := [][2]string{{"webhookUrl", sub.WebhookURL}}
	if sub.OAuth2 != nil {
		urls = append(urls, [2]string{"oauth2.tokenUrl", sub.OAuth2.TokenURL})
	}
	for _, u := range urls {
		warning, err := w.targets().CheckHost(ctx, p, u[0], u[1])
		if err != nil {
			return nil, err
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
	}
	return warnings, nil
}

// targets checks URLs with the policy and resolver of w.
func (w *webhooks) targets() input.Targets {
	return input.Targets{Policy: w.Policy, Resolver: w.Resolver}
}
