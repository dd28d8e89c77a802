package test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Observability: failed deliveries and requests leave log lines with the
// fields an operator needs (and no secrets), and /metrics exports the
// families docs/deploy.md lists, which the shipped Grafana dashboard and
// Prometheus alerts use.

// logLine is one JSON log record of a serve process.
type logLine map[string]any

// logLines returns p's JSON log records whose msg is msg.
func (p *proc) logLines(msg string) []logLine {
	var out []logLine
	for _, raw := range strings.Split(p.logs.String(), "\n") {
		var l logLine
		if json.Unmarshal([]byte(raw), &l) == nil && l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// waitLog waits until p has logged msg at least n times.
func (p *proc) waitLog(msg string, n int, timeout time.Duration) []logLine {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lines := p.logLines(msg)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%d log lines %q after %s, want %d", len(lines), msg, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deadURL is a loopback URL where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// scrape fetches /metrics and parses it.
func (p *proc) scrape() map[string]*dto.MetricFamily {
	p.t.Helper()
	code, body := p.get("/metrics")
	if code != http.StatusOK {
		p.t.Fatalf("GET /metrics answered %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		p.t.Fatalf("parsing /metrics: %v", err)
	}
	return mfs
}

// metricValue returns the value of family name's series whose labels
// include want, and whether there is one.
func metricValue(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// waitMetric waits until family name's series with labels want has value
// want.
func (p *proc) waitMetric(name string, labels map[string]string, want float64, timeout time.Duration) map[string]*dto.MetricFamily {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mfs := p.scrape()
		got, ok := metricValue(mfs, name, labels)
		if ok && got == want {
			return mfs
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s%v = %v (present %v) after %s, want %v", name, labels, got, ok, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// subscribeRetrying subscribes tok's owner to customer creations at url
// with two retries 0.1 s apart.
func subscribeRetrying(t *testing.T, p *proc, tok, prefix, url string) (id, secret string) {
	t.Helper()
	var s struct{ ID, Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix": prefix, "trigger": "profile.Customer:create", "webhookUrl": url,
		"retryPolicy": map[string]any{"schedule": []float64{0.1, 0.1}}}).must(t).decode(t, &s)
	return s.ID, s.Secret
}

// Item 1: a delivery to a dead port logs each failed attempt (info while
// a retry is scheduled, warn when it ends Failed) with its subscription,
// event id, attempt, outcome, error and next attempt time; never the
// URL's query or the signing secret. Request lines carry namespace,
// intent, principal, status and duration_ms.
func TestOpsObsDeliveryFailureAndRequestLogLines(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	const querySecret = "q-secret-0a1b2c3d"
	subID, secret := subscribeRetrying(t, p, tok, "Dead", deadURL(t)+"/hook?token="+querySecret)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok),
		"name": "Ada Lovelace", "email": "ada@example.com"}).must(t)

	failed := p.waitLog("webhook delivery failed", 1, 30*time.Second)
	retries := p.logLines("webhook attempt failed; retry scheduled")
	if len(retries) != 2 {
		t.Fatalf("%d retry lines, want 2 (attempts 1 and 2):\n%s", len(retries), p.logs.String())
	}
	for i, l := range append(retries, failed[0]) {
		wantLevel, attempt := "INFO", float64(i+1)
		if i == 2 {
			wantLevel = "WARN"
		}
		if l["level"] != wantLevel || l["subscription"] != subID || l["attempt"] != attempt || l["outcome"] != "refused" {
			t.Errorf("line %d = %v, want level %s, subscription %s, attempt %v, outcome refused", i, l, wantLevel, subID, attempt)
		}
		if id, _ := l["event_id"].(string); id == "" {
			t.Errorf("line %d has no event_id: %v", i, l)
		}
		if e, _ := l["error"].(string); !strings.Contains(e, "connection refused") {
			t.Errorf("line %d error %q, want the connection refused", i, e)
		}
		_, hasNext := l["next_attempt_at"]
		if hasNext != (i < 2) {
			t.Errorf("line %d next_attempt_at present %v, want %v: %v", i, hasNext, i < 2, l)
		}
	}
	for _, s := range []string{querySecret, secret} {
		if strings.Contains(p.logs.String(), s) {
			t.Errorf("the log holds a secret %q", s)
		}
	}

	// Request lines: a subscribe by the admin, a 401 without a token
	// (logged just after its answer is sent).
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "retrieve", "")})
	var lines []logLine
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if lines = p.logLines("request"); len(lines) > 0 && lines[len(lines)-1]["status"] == 401.0 {
			break
		}
	}
	var sawOK, saw401 bool
	for _, l := range lines {
		if _, ok := l["duration"]; ok {
			t.Errorf("request line still has a unitless duration: %v", l)
		}
		if ms, ok := l["duration_ms"].(float64); !ok || ms < 0 {
			t.Errorf("request line duration_ms = %v, want milliseconds", l["duration_ms"])
		}
		switch {
		case l["intent"] == "subscribeToWebhook" && l["namespace"] == "system.Webhook" && l["status"] == 200.0:
			sawOK = l["principal"] == "client:"+adminID
		case l["intent"] == "retrieve" && l["namespace"] == "profile.Customer" && l["status"] == 401.0:
			_, hasPrincipal := l["principal"]
			saw401 = !hasPrincipal
		}
	}
	if !sawOK || !saw401 {
		t.Errorf("request lines: subscribe with principal %v, 401 without one %v; log:\n%s", sawOK, saw401, p.logs.String())
	}
}

// Item 2: the webhook metrics: attempts by status and outcome, automatic
// disables by reason (410 Gone, Failed in a row), subscriptions by state,
// oldest pending 0 when idle, delivery latency buckets up to 3 days.
func TestOpsObsWebhookMetrics(t *testing.T) {
	p := serve(t, t.TempDir(),
		"JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_DISABLE_AFTER_FAILURES=1")
	if got, ok := metricValue(p.scrape(), "jqlgate_dispatcher_oldest_pending_seconds", nil); !ok || got != 0 {
		t.Errorf("oldest_pending_seconds on a fresh server = %v (present %v), want 0", got, ok)
	}
	tok := p.token(adminID, adminSecret)
	ok, gone := newReceiver(), newReceiver()
	gone.status = http.StatusGone
	okSrv, goneSrv := httptest.NewServer(ok), httptest.NewServer(gone)
	defer okSrv.Close()
	defer goneSrv.Close()
	subscribeRetrying(t, p, tok, "OK", okSrv.URL)
	subscribeRetrying(t, p, tok, "Gone", goneSrv.URL)
	subscribeRetrying(t, p, tok, "Dead", deadURL(t))
	p.waitMetric("jqlgate_webhook_subscriptions", map[string]string{"state": "enabled"}, 3, 10*time.Second)

	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok),
		"name": "Ada Lovelace", "email": "ada@example.com"}).must(t)
	p.waitMetric("jqlgate_webhook_subscriptions", map[string]string{"state": "disabled"}, 2, 30*time.Second)
	mfs := p.waitMetric("jqlgate_dispatcher_queue_depth", nil, 0, 30*time.Second)

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"jqlgate_webhook_attempts_total", map[string]string{"status": "Done", "outcome": "2xx"}, 1},
		{"jqlgate_webhook_attempts_total", map[string]string{"status": "Failed", "outcome": "4xx"}, 1},
		{"jqlgate_webhook_attempts_total", map[string]string{"status": "Resent", "outcome": "refused"}, 2},
		{"jqlgate_webhook_attempts_total", map[string]string{"status": "Failed", "outcome": "refused"}, 1},
		{"jqlgate_webhook_attempts_total", map[string]string{"status": "Resent", "outcome": "timeout"}, 0},
		{"jqlgate_webhook_disables_total", map[string]string{"reason": "gone"}, 1},
		{"jqlgate_webhook_disables_total", map[string]string{"reason": "failures"}, 1},
		{"jqlgate_webhook_disables_total", map[string]string{"reason": "failing"}, 0},
		{"jqlgate_webhook_subscriptions", map[string]string{"state": "enabled"}, 1},
		{"jqlgate_webhook_delivery_latency_seconds", nil, 1},
		{"jqlgate_dispatcher_oldest_pending_seconds", nil, 0},
		{"jqlgate_store_up", nil, 1},
	} {
		if got, ok := metricValue(mfs, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	h := mfs["jqlgate_webhook_delivery_latency_seconds"].GetMetric()[0].GetHistogram()
	buckets := h.GetBucket()
	if top := buckets[len(buckets)-1].GetUpperBound(); top < 259200 {
		t.Errorf("delivery latency's top bucket is %v s, want at least 259200 (3 days)", top)
	}
}

// deployExprs returns the PromQL of every alert rule in
// deploy/prometheus/alerts.yml and every query of the Grafana dashboard.
func deployExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	raw, err := os.ReadFile("../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert+r.Record] = r.Expr
		}
	}
	raw, err = os.ReadFile("../deploy/grafana/jqlgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name       string
				Definition string
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("jqlgate.json: %v", err)
	}
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			out[fmt.Sprintf("panel %q query %d", p.Title, i)] = tg.Expr
		}
	}
	for _, v := range dash.Templating.List {
		if v.Definition != "" { // the data source variable has none
			out["variable "+v.Name] = v.Definition
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d expressions in deploy/", len(out))
	}
	return out
}

var (
	metricRef   = regexp.MustCompile(`\bjqlgate_[a-zA-Z0-9_]+`)
	selectorRef = regexp.MustCompile(`\b(jqlgate_[a-zA-Z0-9_]+)\{([^}]*)\}`)
	matcherRef  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	byRef       = regexp.MustCompile(`\bby\s*\(([^)]*)\)`)
)

// family returns the exported family a name in a query refers to (a
// histogram's _bucket, _sum and _count series are its family's).
func family(mfs map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if mf := mfs[name]; mf != nil {
		return mf
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if mf := mfs[base]; mf != nil && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY) {
				return mf
			}
		}
	}
	return nil
}

// labelValues returns the label names of mf's series, each with the values
// seen.
func labelValues(mf *dto.MetricFamily) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if out[l.GetName()] == nil {
				out[l.GetName()] = map[string]bool{}
			}
			out[l.GetName()][l.GetValue()] = true
		}
	}
	return out
}

// Items 2 and 3: every metric the shipped alert rules and Grafana
// dashboard query is exported by a running server, with the labels (and
// label values) they select on.
func TestOpsObsDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "retrieve", tok)}).must(t)
	mfs := p.scrape()
	// Labels Prometheus adds at scrape time, and histogram buckets'.
	external := map[string]bool{"instance": true, "job": true, "le": true}
	for where, expr := range deployExprs(t) {
		names := metricRef.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s uses no jqlgate metric: %s", where, expr)
		}
		labels := map[string]bool{}
		for _, name := range names {
			mf := family(mfs, name)
			if mf == nil {
				t.Errorf("%s uses %s, which /metrics does not export", where, name)
				continue
			}
			for l := range labelValues(mf) {
				labels[l] = true
			}
		}
		for _, sel := range selectorRef.FindAllStringSubmatch(expr, -1) {
			mf := family(mfs, sel[1])
			if mf == nil {
				continue
			}
			have := labelValues(mf)
			for _, m := range matcherRef.FindAllStringSubmatch(sel[2], -1) {
				name, op, value := m[1], m[2], m[3]
				switch {
				case external[name]:
				case have[name] == nil:
					t.Errorf("%s selects %s on label %q, which it does not have", where, sel[1], name)
				case (op == "=" || op == "!=") && !have[name][value]:
					t.Errorf("%s selects %s{%s%s%q}, a value it never has (has %v)", where, sel[1], name, op, value, have[name])
				}
			}
		}
		for _, by := range byRef.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(by[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !external[l] && !labels[l] {
					t.Errorf("%s groups by %q, a label none of its metrics has", where, l)
				}
			}
		}
	}
}
