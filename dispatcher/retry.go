package dispatcher

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Bounds on a receiver's Retry-After.
const maxRetryAfter = time.Hour

// schedule returns the waits between attempts for sub.
func schedule(sub *jqlgate.Subscription) []time.Duration {
	if len(sub.RetryPolicy.Schedule) > 0 {
		return sub.RetryPolicy.Schedule
	}
	return jqlgate.DefaultRetrySchedule
}

// nextDelay returns how long to wait after failed attempt number attempt,
// with ±20 % jitter, and false when that was the last attempt. retryAfter,
// from a 429 or 503, stretches the wait up to maxRetryAfter.
func (d *Dispatcher) nextDelay(sub *jqlgate.Subscription, attempt int, retryAfter time.Duration) (time.Duration, bool) {
	s := schedule(sub)
	if attempt > len(s) {
		return 0, false
	}
	base := s[attempt-1]
	wait := time.Duration(float64(base) * (0.8 + 0.4*d.cfg.Rand()))
	if retryAfter > wait {
		wait = min(retryAfter, maxRetryAfter)
	}
	return wait, true
}

// retryAfter parses a Retry-After header (seconds or an HTTP date) on a 429
// or 503 response; zero otherwise.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0
	}
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
