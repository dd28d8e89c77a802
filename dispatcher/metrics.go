package dispatcher

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jqlgate/jqlgate"
)

// Metric families: jqlgate_webhook_* describe what receivers see and
// subscriptions' state, jqlgate_dispatcher_* the dispatcher's own
// machinery. docs/deploy.md lists them all.

// outcomes are the outcome label's values for attempts that failed: an
// HTTP status class, timeout, refused and error (another transport or
// request error). Done attempts are 2xx; a delivery finished unsent (its
// subscription removed) is Failed with outcome cancelled.
var outcomes = []string{jqlgate.Outcome3xx, jqlgate.Outcome4xx, jqlgate.Outcome5xx,
	jqlgate.OutcomeTimeout, jqlgate.OutcomeRefused, jqlgate.OutcomeError}

const outcomeCancelled = "cancelled"

// receiptBuckets reach three days: a delivery retried by the default
// schedule lands within about 24 h of it, so no retried delivery falls in
// +Inf.
var receiptBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800,
	3600, 7200, 4 * 3600, 8 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400}

// metrics are the dispatcher's Prometheus series.
type metrics struct {
	accepted prometheus.Counter
	attempts *prometheus.CounterVec
	disables *prometheus.CounterVec
	latency  prometheus.Histogram
	receipt  prometheus.Histogram
	parked   prometheus.Counter
	loaded   prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, d *Dispatcher) *metrics {
	m := &metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jqlgate_dispatcher_events_accepted_total", Help: "Events made durable by the dispatcher."}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jqlgate_webhook_attempts_total",
			Help: "Webhook delivery attempts by resulting status (Done, Resent, Failed) and outcome (2xx, 3xx, 4xx, 5xx, timeout, refused, error, cancelled)."},
			[]string{"status", "outcome"}),
		disables: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jqlgate_webhook_disables_total",
			Help: "Subscriptions disabled automatically, by reason (gone: 410 Gone; failures: deliveries Failed in a row; failing: failing for too long)."},
			[]string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jqlgate_webhook_attempt_duration_seconds", Help: "Duration of webhook HTTP attempts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		receipt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jqlgate_webhook_delivery_latency_seconds", Help: "Time from event acceptance to a Done attempt, retries included.",
			Buckets: receiptBuckets}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jqlgate_dispatcher_retries_parked_total", Help: "Retries due beyond the horizon, left in the store."}),
		loaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jqlgate_dispatcher_retries_loaded_total", Help: "Retries loaded from the store as they came due."}),
	}
	m.initLabels()
	if reg == nil {
		return m
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jqlgate_dispatcher_queue_depth", Help: "Deliveries accepted and not yet finished."},
		func() float64 { return float64(d.track.depth()) })
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jqlgate_dispatcher_oldest_pending_seconds", Help: "Age of the oldest event with an unfinished delivery; 0 when none is pending."},
		d.oldestPending)
	reg.MustRegister(m.accepted, m.attempts, m.disables, m.latency, m.receipt, m.parked, m.loaded, depth, oldest)
	if d.cfg.Counter != nil {
		reg.MustRegister(newSubscriptionGauge(d.cfg.Counter, d.cfg.Source, d.log))
	}
	return m
}

// initLabels creates the series a fresh process can have, at zero, so
// rates and alerts see them from the start.
func (m *metrics) initLabels() {
	m.attempts.WithLabelValues(jqlgate.StatusDone, jqlgate.Outcome2xx)
	m.attempts.WithLabelValues(jqlgate.StatusFailed, outcomeCancelled)
	for _, o := range outcomes {
		m.attempts.WithLabelValues(jqlgate.StatusResent, o)
		m.attempts.WithLabelValues(jqlgate.StatusFailed, o)
	}
	for _, k := range []string{disableGone, disableFailures, disableFailing} {
		m.disables.WithLabelValues(k)
	}
}

// oldestPending is the age in seconds of the oldest unfinished event; 0
// when nothing is pending (the watermark is then "now", read a moment
// after ours).
func (d *Dispatcher) oldestPending() float64 {
	now := d.cfg.Now()
	return max(0, now.Sub(d.track.watermark()).Seconds())
}

// observe counts one recorded attempt.
func (m *metrics) observe(a *jqlgate.Attempt, accepted, now time.Time) {
	outcome := a.Outcome
	if outcome == "" {
		outcome = outcomeCancelled
	}
	m.attempts.WithLabelValues(a.Status, outcome).Inc()
	if a.Duration > 0 {
		m.latency.Observe(a.Duration.Seconds())
	}
	if a.Status == jqlgate.StatusDone && !accepted.IsZero() {
		m.receipt.Observe(now.Sub(accepted).Seconds())
	}
}

// subscriptionGauge exports jqlgate_webhook_subscriptions{state}, counted
// in the store at scrape time, again only when the subscription version
// has changed since the last count.
type subscriptionGauge struct {
	desc    *prometheus.Desc
	counter SubscriptionCounter
	source  Source
	log     interface{ Debug(string, ...any) }

	mu                sync.Mutex
	version           int64
	counted           bool
	enabled, disabled int
}

func newSubscriptionGauge(c SubscriptionCounter, src Source, log interface{ Debug(string, ...any) }) *subscriptionGauge {
	return &subscriptionGauge{counter: c, source: src, log: log, desc: prometheus.NewDesc("jqlgate_webhook_subscriptions",
		"Webhook subscriptions of every owner by state (enabled, disabled).", []string{"state"}, nil)}
}

// Describe implements prometheus.Collector.
func (g *subscriptionGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector; while the store does not
// answer, the gauge is left out of the scrape.
func (g *subscriptionGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	enabled, disabled, err := g.count(ctx)
	if err != nil {
		g.log.Debug("count subscriptions for metrics", "error", err.Error())
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(enabled), "enabled")
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(disabled), "disabled")
}

func (g *subscriptionGauge) count(ctx context.Context) (int, int, error) {
	v, err := g.source.Version(ctx)
	if err != nil {
		return 0, 0, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.counted && v == g.version {
		return g.enabled, g.disabled, nil
	}
	enabled, disabled, err := g.counter.CountByState(ctx)
	if err != nil {
		return 0, 0, err
	}
	g.version, g.counted, g.enabled, g.disabled = v, true, enabled, disabled
	return enabled, disabled, nil
}
