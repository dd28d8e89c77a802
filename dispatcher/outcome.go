package dispatcher

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/jqlgate/jqlgate"
)

// maxLoggedError bounds the error text a failure line logs.
const maxLoggedError = 256

// codeOutcome classes an HTTP status code.
func codeOutcome(code int) string {
	switch code / 100 {
	case 2:
		return jqlgate.Outcome2xx
	case 3:
		return jqlgate.Outcome3xx
	case 4:
		return jqlgate.Outcome4xx
	case 5:
		return jqlgate.Outcome5xx
	}
	return jqlgate.OutcomeError
}

// transportOutcome classes an error that left an attempt unanswered.
func transportOutcome(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return jqlgate.OutcomeRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return jqlgate.OutcomeTimeout
	}
	return jqlgate.OutcomeError
}

// logFailure logs an attempt that did not succeed: at info when a retry
// is scheduled, at warn when the delivery ends Failed. It logs neither
// bodies nor secrets: the URL (whose query may hold a token) is cut to
// its scheme and host, and a token endpoint's answer to its status.
func (d *Dispatcher) logFailure(dl *delivery, a *jqlgate.Attempt, failure error) {
	level, msg := slog.LevelWarn, "webhook delivery failed"
	if a.Status == jqlgate.StatusResent {
		level, msg = slog.LevelInfo, "webhook attempt failed; retry scheduled"
	}
	ctx := context.Background()
	if !d.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("subscription", dl.subID),
		slog.String("delivery", dl.id),
		slog.String("event_id", dl.fan.Event.ID),
		slog.String("event", dl.fan.Event.Type),
		slog.Int("attempt", dl.attempt),
		slog.String("outcome", a.Outcome),
	}
	if a.ResponseCode > 0 {
		attrs = append(attrs, slog.Int("status_code", a.ResponseCode))
	}
	attrs = append(attrs, slog.String("error", loggedError(a, failure)))
	if a.Status == jqlgate.StatusResent {
		attrs = append(attrs, slog.Time("next_attempt_at", a.NextAttemptAt),
			slog.Float64("retry_in_seconds", a.NextAttemptAt.Sub(d.cfg.Now()).Round(time.Millisecond).Seconds()))
	}
	d.log.LogAttrs(ctx, level, msg, attrs...)
}

// loggedError is the attempt's error as a failure line shows it.
func loggedError(a *jqlgate.Attempt, failure error) string {
	if failure == nil {
		return cutError(a.Error) // the dispatcher's own words ("receiver answered …")
	}
	var re *oauth2.RetrieveError
	if errors.As(failure, &re) {
		if re.Response != nil {
			return "receiver OAuth2 token: the token endpoint answered " + re.Response.Status
		}
		return "receiver OAuth2 token: the token endpoint refused"
	}
	var ue *url.Error
	if errors.As(failure, &ue) {
		return cutError(ue.Op + " " + siteOf(ue.URL) + ": " + ue.Err.Error())
	}
	return cutError(failure.Error())
}

// siteOf is a URL's scheme and host, without user, path or query.
func siteOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(URL)"
	}
	return u.Scheme + "://" + u.Host
}

func cutError(s string) string {
	if len(s) <= maxLoggedError {
		return s
	}
	return s[:maxLoggedError] + "…"
}
