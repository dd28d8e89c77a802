package dispatcher

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Defaults of the endpoint health criteria.
const (
	defaultDisableAfterFailures = 10
	defaultDisableAfter         = 5 * 24 * time.Hour
)

// A subscription whose receiver keeps failing is disabled, with a reason,
// when either
//
//   - maxFailed of its deliveries in a row ended Failed (every retry
//     used up), or
//   - its deliveries have kept failing for maxFor: no attempt was Done
//     since the first failed attempt (Resent or Failed) of the streak, and
//     one failed again now.
//
// Streaks are kept in memory by each process for the deliveries it makes,
// and start again after a restart; a Done attempt ends a streak. Deliveries
// cancelled without being sent do not count, and a 410 Gone disables at
// once on its own.
type health struct {
	mu        sync.Mutex
	maxFailed int           // <= 0: never
	maxFor    time.Duration // <= 0: never
	streaks   map[string]*streak
}

// streak is one subscription's run of failed attempts.
type streak struct {
	since  time.Time // first failed attempt of the run
	failed int       // deliveries Failed in a row
}

func newHealth(maxFailed int, maxFor time.Duration) *health {
	return &health{maxFailed: maxFailed, maxFor: maxFor, streaks: map[string]*streak{}}
}

// Kinds of automatic disable, the reason label of the disables metric.
const (
	disableGone     = "gone"     // the receiver answered 410 Gone
	disableFailures = "failures" // maxFailed deliveries in a row Failed
	disableFailing  = "failing"  // deliveries kept failing for maxFor
)

// observe counts attempt a at subscription subID and returns why the
// subscription must be disabled now (its kind and the reason shown to the
// owner), or "". It returns a reason once per streak: the streak ends
// with it.
func (h *health) observe(subID string, a *jqlgate.Attempt) (kind, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a.Status == jqlgate.StatusDone {
		delete(h.streaks, subID)
		return "", ""
	}
	if a.Status != jqlgate.StatusResent && a.Status != jqlgate.StatusFailed {
		return "", ""
	}
	s := h.streaks[subID]
	if s == nil {
		s = &streak{since: a.CreatedAt}
		h.streaks[subID] = s
	}
	if a.Status == jqlgate.StatusFailed {
		s.failed++
	}
	kind, reason = h.verdict(s, a.CreatedAt)
	if reason != "" {
		delete(h.streaks, subID)
	}
	return kind, reason
}

// verdict says why streak s disables its subscription at now, or "".
func (h *health) verdict(s *streak, now time.Time) (kind, reason string) {
	switch {
	case h.maxFailed > 0 && s.failed >= h.maxFailed:
		return disableFailures, fmt.Sprintf("Disabled automatically: %d deliveries in a row failed after every retry.", s.failed)
	case h.maxFor > 0 && now.Sub(s.since) >= h.maxFor:
		return disableFailing, fmt.Sprintf("Disabled automatically: deliveries kept failing for %s, since %s, with none delivered.",
			now.Sub(s.since).Round(time.Second), s.since.UTC().Format(time.RFC3339))
	}
	return "", ""
}

// forget ends subID's streak.
func (h *health) forget(subID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.streaks, subID)
}

// judgeHealth disables the subscription of attempt a when its receiver
// answered 410 Gone or has failed too often or too long.
func (d *Dispatcher) judgeHealth(ctx context.Context, subID string, a *jqlgate.Attempt) {
	if a.ResponseCode == http.StatusGone {
		d.health.forget(subID)
		d.disable(ctx, subID, disableGone, "receiver answered 410 Gone")
		return
	}
	if kind, reason := d.health.observe(subID, a); reason != "" {
		d.log.Warn("disabling a failing subscription", "subscription", subID, "reason", reason)
		d.disable(ctx, subID, kind, reason)
	}
}

// disable turns the subscription off with reason; its pending deliveries
// are parked until it is enabled again, and system.Webhook:disabled is
// published. kind labels the disables metric.
func (d *Dispatcher) disable(ctx context.Context, subID, kind, reason string) {
	if d.cfg.Disabler == nil {
		return
	}
	if err := d.cfg.Disabler.Disable(ctx, subID, reason); err != nil {
		d.log.Error("disable subscription", "subscription", subID, "error", err.Error())
		return
	}
	d.metrics.disables.WithLabelValues(kind).Inc()
	if err := d.SubscriptionChanged(ctx, subID); err != nil {
		d.log.Error("refresh subscription", "subscription", subID, "error", err.Error())
	}
}
