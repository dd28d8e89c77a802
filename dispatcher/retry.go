package dispatcher

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Bounds on a receiver's Retry-After: a longer one is cut to the maximum,
// a shorter (or past) one is stretched to the minimum.
const (
	maxRetryAfter = time.Hour
	minRetryAfter = time.Second
)

// schedule returns the waits between attempts for sub.
func schedule(sub *jqlgate.Subscription) []time.Duration {
	if len(sub.RetryPolicy.Schedule) > 0 {
		return sub.RetryPolicy.Schedule
	}
	return jqlgate.DefaultRetrySchedule
}

// nextDelay returns how long to wait after failed attempt number attempt,
// with ±20 % jitter, and false when that was the last attempt.
//
// A receiver that answered 429 or 503 asked us to slow down: its
// Retry-After (bounded to [minRetryAfter, maxRetryAfter]) is the wait when
// it is longer than the schedule's; without one, the wait is at least the
// schedule's next step rather than the current one.
func (d *Dispatcher) nextDelay(sub *jqlgate.Subscription, attempt int, code int, retryAfter time.Duration) (time.Duration, bool) {
	s := schedule(sub)
	if attempt > len(s) {
		return 0, false
	}
	base := s[attempt-1]
	if slowDown(code) && retryAfter == 0 && attempt < len(s) {
		base = max(base, s[attempt])
	}
	wait := time.Duration(float64(base) * (0.8 + 0.4*d.cfg.Rand()))
	if retryAfter > wait {
		wait = retryAfter
	}
	return wait, true
}

// slowDown reports whether a status code asks the sender to back off.
func slowDown(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// retryAfter parses a Retry-After header (seconds or an HTTP date) on a 429
// or 503 response, bounded to [minRetryAfter, maxRetryAfter]; zero when the
// response has none (or is another status).
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp == nil || !slowDown(resp.StatusCode) {
		return 0
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// parseRetryAfter parses a Retry-After value, bounded; zero if it does not
// parse.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return min(max(d, minRetryAfter), maxRetryAfter)
}
