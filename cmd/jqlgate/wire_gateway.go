package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jqlgate/jqlgate/gateway"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/schema"
)

// gatewayParts are what the gateway wiring shares with the rest of start:
// the metrics registry (the dispatcher registers its collectors on it too)
// and the Mux every namespace registers on.
type gatewayParts struct {
	metrics *prometheus.Registry
	mux     *namespaces.Mux
}

// wireGateway creates the Mux and the metrics registry, registers
// system.Schema describe, and points the server at them. Namespaces wired
// later register on a.mux; the Authenticator stays nil (every non-public
// request is a 401) until auth sets a.server.Authenticator.
func wireGateway(a *app, cfg serveConfig) {
	if a.metrics == nil {
		a.metrics = prometheus.NewRegistry()
		a.metrics.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	}
	a.mux = namespaces.NewMux()
	schema.Register(a.mux)
	s := a.server
	s.Handler = a.mux.Handler()
	s.Public = a.mux.IsPublic
	s.Known = a.mux.Has
	s.Limits = cfg.Limits
	s.AllowedOrigins = cfg.AllowedOrigins
	s.CORSAllowOrigins = cfg.CORSOrigins
	s.TrustedProxies = cfg.TrustedProxies
	s.Metrics = a.metrics
}

// parseLimits reads the gateway's serve options; the rest of
// gateway.Limits keeps its defaults.
func parseLimits(s *optionSet) (gateway.Limits, error) {
	l := gateway.DefaultLimits()
	var err error
	if l.BodyBytes, err = parseSize("body-limit", s.str("body-limit")); err != nil {
		return l, err
	}
	if l.RequestTimeout, err = s.duration("request-timeout"); err != nil {
		return l, err
	}
	if l.Rate, err = s.float("rate-limit"); err != nil {
		return l, err
	}
	if l.Burst, err = s.int("rate-burst"); err != nil {
		return l, err
	}
	if l.RequestTimeout <= 0 || l.Burst <= 0 || l.Rate == 0 {
		return l, fmt.Errorf("--request-timeout, --rate-limit and --rate-burst must not be zero")
	}
	return l, nil
}

// parseOrigins reads --allowed-origins: a comma-separated list of
// scheme://host[:port].
func parseOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	if err := gateway.CheckOrigins(out); err != nil {
		return nil, fmt.Errorf("--allowed-origins: %w", err)
	}
	return out, nil
}

// parseCORSOrigins reads --cors-allow-origins: a comma-separated list of
// scheme://host[:port], or *.
func parseCORSOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	if err := gateway.CheckCORSOrigins(out); err != nil {
		return nil, fmt.Errorf("--cors-allow-origins: %w", err)
	}
	return out, nil
}

// parseSize reads a byte size such as 1048576, 512KiB, 1MiB or 1MB.
func parseSize(flag, v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, mult := strings.TrimSpace(v), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > 1<<40/mult {
		return 0, fmt.Errorf("--%s: %q is not a size (try 1MiB or 512KiB)", flag, v)
	}
	return n * mult, nil
}
