package dispatcher

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jqlgate/jqlgate"
)

// metrics are the dispatcher's Prometheus series.
type metrics struct {
	accepted prometheus.Counter
	attempts *prometheus.CounterVec
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
			Name: "jqlgate_dispatcher_deliveries_total", Help: "Delivery attempts by resulting status (Done, Resent, Failed)."},
			[]string{"status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jqlgate_dispatcher_attempt_duration_seconds", Help: "Duration of webhook HTTP attempts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		receipt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jqlgate_dispatcher_delivery_latency_seconds", Help: "Time from event acceptance to a Done attempt.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 16)}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jqlgate_dispatcher_retries_parked_total", Help: "Retries due beyond the horizon, left in the store."}),
		loaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jqlgate_dispatcher_retries_loaded_total", Help: "Retries loaded from the store as they came due."}),
	}
	if reg == nil {
		return m
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jqlgate_dispatcher_queue_depth", Help: "Deliveries accepted and not yet finished."},
		func() float64 { return float64(d.track.depth()) })
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jqlgate_dispatcher_oldest_pending_seconds", Help: "Age of the oldest event with an unfinished delivery."},
		func() float64 { return d.cfg.Now().Sub(d.track.watermark()).Seconds() })
	reg.MustRegister(m.accepted, m.attempts, m.latency, m.receipt, m.parked, m.loaded, depth, oldest)
	return m
}

// observe counts one recorded attempt.
func (m *metrics) observe(a *jqlgate.Attempt, accepted, now time.Time) {
	m.attempts.WithLabelValues(a.Status).Inc()
	if a.Duration > 0 {
		m.latency.Observe(a.Duration.Seconds())
	}
	if a.Status == jqlgate.StatusDone && !accepted.IsZero() {
		m.receipt.Observe(now.Sub(accepted).Seconds())
	}
}
