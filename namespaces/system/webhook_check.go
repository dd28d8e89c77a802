package system

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// resolveTimeout bounds the DNS lookup of a receiver host at subscribe time.
const resolveTimeout = 5 * time.Second

// checkForm reports the problems of a subscription that need no lookup:
// required fields, the URL's form, the trigger against the catalogue, and
// options that exclude each other. r already holds the field problems.
func (w *webhooks) checkForm(r *reader, sub *jqlgate.Subscription) {
	for field, v := range map[string]string{"prefix": sub.Prefix, "webhookUrl": sub.WebhookURL} {
		if v == "" && !r.failed(field) {
			r.fail(field, "is required")
		}
	}
	triggers := sub.TriggerList()
	if len(triggers) == 0 && !r.failed("trigger") && !r.failed("triggers") &&
		!slices.ContainsFunc(r.errs, func(e jqlgate.FieldError) bool { return strings.HasPrefix(e.Field, "triggers[") }) {
		r.fail("trigger", "is required: give trigger (one event) or triggers (a list of events)")
	}
	for i, t := range triggers {
		if field := triggerField(r, i, len(triggers)); !r.failed(field) {
			r.merge(w.checkTrigger(field, t))
		}
	}
	if sub.WebhookURL != "" && !r.failed("webhookUrl") {
		_, err := w.Policy.CheckURL("webhookUrl", sub.WebhookURL)
		r.merge(err)
	}
	if sub.BasicAuth != nil && sub.OAuth2 != nil {
		r.fail("oauth2", "can't be combined with basicAuth: both set the Authorization header")
	}
	if _, ok := sub.Headers["Authorization"]; ok && (sub.BasicAuth != nil || sub.OAuth2 != nil) {
		r.fail("headers.Authorization", "can't be set together with basicAuth or oauth2")
	}
	checkSigning(r, sub)
	if sub.OAuth2 != nil && !r.failed("oauth2.tokenUrl") {
		_, err := w.Policy.CheckURL("oauth2.tokenUrl", sub.OAuth2.TokenURL)
		r.merge(err)
	}
	slices.SortStableFunc(r.errs, func(a, b jqlgate.FieldError) int { return strings.Compare(a.Field, b.Field) })
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
	if err := r.err(); err != nil {
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
		warning, err := w.checkHost(ctx, p, u[0], u[1])
		if err != nil {
			return nil, err
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
	}
	return warnings, nil
}

// checkHost resolves the host of a checked URL and refuses it if any of its
// addresses is one webhooks may not reach (EINVALID), or one reachable only
// through the policy's Allow list when p lacks PermPrivateTargets
// (EFORBIDDEN). A host that does not resolve (yet: a receiver is often
// subscribed before it is deployed) is accepted with a warning; the
// dispatcher checks every address again when it connects (the guarded
// dialer), so a name that later resolves to a forbidden address is still
// never reached.
func (w *webhooks) checkHost(ctx context.Context, p *jqlgate.Principal, field, raw string) (warning string, err error) {
	u, err := w.Policy.CheckURL(field, raw)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		return "", w.checkAddrs(p, field, host, []netip.Addr{addr})
	}
	if looksNumeric(host) {
		return "", jqlgate.Invalid(field, "host %s is not a valid IP address", host)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := w.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return field + ": host " + host + " does not resolve yet; deliveries will fail (and be retried) until it does.", nil
	}
	return "", w.checkAddrs(p, field, host, addrs)
}

// checkResolves is checkHost that also refuses a host that does not
// resolve (trusted sites are checked this way).
func (w *webhooks) checkResolves(ctx context.Context, p *jqlgate.Principal, field, raw string) error {
	warning, err := w.checkHost(ctx, p, field, raw)
	if err == nil && warning != "" {
		u, _ := w.Policy.CheckURL(field, raw)
		return jqlgate.Invalid(field, "host %s does not resolve", u.Hostname())
	}
	return err
}

func (w *webhooks) checkAddrs(p *jqlgate.Principal, field, host string, addrs []netip.Addr) error {
	private := false
	for _, a := range addrs {
		// A zone would make every prefix check miss: compare without it.
		switch w.Policy.Reach(a.WithZone("")) {
		case jqlgate.ReachPublic:
			continue
		case jqlgate.ReachAllowed:
			private = true
			continue
		}
		if a.String() == host {
			return jqlgate.Invalid(field, "address %s is loopback, private, link-local or otherwise reserved; webhooks may not reach it", host)
		}
		return jqlgate.Invalid(field, "host %s resolves to %s, a loopback, private, link-local or otherwise reserved address that webhooks may not reach", host, a)
	}
	if private && !canReachPrivate(p) {
		return privateForbidden(field, host)
	}
	return nil
}

// canReachPrivate reports whether p may use receivers that only the
// address policy's Allow list makes reachable.
func canReachPrivate(p *jqlgate.Principal) bool {
	return p.Has(jqlgate.PermPrivateTargets)
}

func privateForbidden(field, host string) error {
	return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: field,
		Message: "Host " + host + " is a private address that this server allows for webhooks; using it requires the permission " + jqlgate.PermPrivateTargets + "."}
}

// looksNumeric reports whether host is made of digits, dots and hex like a
// numeric address (2130706433, 0x7f.1) that some resolvers accept.
func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(strings.ToLower(last), "0x") {
		return true
	}
	return strings.Trim(last, "0123456789") == ""
}
