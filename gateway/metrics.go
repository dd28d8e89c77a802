package gateway

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jqlgate_requests_total", Help: "JQL requests by namespace, intent and HTTP status.",
		}, []string{"namespace", "intent", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jqlgate_request_duration_seconds", Help: "JQL request latency by namespace and intent.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"namespace", "intent"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jqlgate_requests_in_flight", Help: "JQL requests being served.",
		}),
	}
	m.requests = register(reg, m.requests)
	m.latency = register(reg, m.latency)
	m.inFlight = register(reg, m.inFlight)
	return m
}

// storeUp exports jqlgate_store_up: whether the store answers Ready (the
// /readyz check) at scrape time.
func (s *Server) storeUp(reg prometheus.Registerer) {
	if s.Ready == nil {
		return
	}
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jqlgate_store_up", Help: "1 if the store answered the readiness check at scrape time, else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if s.Ready(ctx) != nil {
			return 0
		}
		return 1
	}))
}

// register registers c, or returns the collector already registered under
// its name (two servers sharing one registry, as in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}

// instrument measures a JQL route. Labels use the namespace and intent only
// when they name a registered route, so clients cannot grow the label set.
func (s *Server) instrument(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := s.metrics
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		ns, intent := s.labels(c)
		m.latency.WithLabelValues(ns, intent).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(ns, intent, strconv.Itoa(c.Response().Status)).Inc()
		return nil
	}
}

func (s *Server) labels(c echo.Context) (string, string) {
	ns, _ := c.Get(keyNamespace).(string)
	intent, _ := c.Get(keyIntent).(string)
	if s.Known == nil || !s.Known(ns, intent) {
		return "unknown", "unknown"
	}
	return ns, intent
}
