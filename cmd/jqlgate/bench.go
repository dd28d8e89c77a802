package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// benchOptions are the settings of jqlgate bench.
var benchOptions = []option{
	{flag: "events", def: "20000", usage: "events to publish"},
	{flag: "subscriptions", def: "1", usage: "subscriptions every event fans out to (0, with --http, measures ingest only)"},
	{flag: "publishers", def: "64", usage: "concurrent publishers"},
	{flag: "rate", def: "0", usage: "events per second to publish at; 0 publishes as fast as possible"},
	{flag: "workers", def: "64", usage: "dispatcher delivery workers"},
	{flag: "mongodb-uri", env: "MONGODB_URI", def: "", usage: "MongoDB URI; empty starts the embedded store in a temporary directory"},
	{flag: "timeout", def: "2m", usage: "give up waiting for deliveries after this long"},
	{flag: "embedded-sync", def: "full", usage: "the embedded store's synchronous setting, full or normal (see serve --embedded-sync)"},
}

func init() { benchOptions = append(benchOptions, httpBenchOptions...) }

type benchConfig struct {
	events, subs, publishers, workers int
	rate                              float64
	uri, sync                         string
	timeout                           time.Duration
}

func parseBenchConfig(s *optionSet) (benchConfig, error) {
	c := benchConfig{uri: s.str("mongodb-uri"), sync: s.str("embedded-sync")}
	if c.sync != "full" && c.sync != "normal" {
		return c, fmt.Errorf("--embedded-sync: %q is not full or normal", c.sync)
	}
	var err error
	for name, p := range map[string]*int{"events": &c.events, "subscriptions": &c.subs, "publishers": &c.publishers, "workers": &c.workers} {
		if *p, err = s.int(name); err != nil {
			return c, err
		}
		if *p <= 0 && !(name == "subscriptions" && *p == 0) {
			return c, fmt.Errorf("--%s: must be at least 1", name)
		}
	}
	if c.rate, err = s.float("rate"); err != nil {
		return c, err
	}
	c.timeout, err = s.duration("timeout")
	return c, err
}

func runBench(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	opts := newOptionSet("bench", "Usage: jqlgate bench [options]\n\nMeasures the dispatcher end to end: publishes events from concurrent publishers\ninto a real store, delivers them to a local receiver and reports accepted/s,\ndelivered/s and event-to-receipt latency. With --http it measures what a client\nsees instead: it starts serve (or targets --url), gets an OAuth2 token, subscribes\nits own receiver through /jql, sends --events profile.Customer creates from\n--publishers concurrent clients (or at --rate) and counts unique signed deliveries.", benchOptions, env)
	if err := opts.parse(args, stderr); err != nil {
		return err
	}
	cfg, err := parseBenchConfig(opts)
	if err != nil {
		return err
	}
	if opts.str("grow") != "" {
		gc, err := parseGrowConfig(opts, cfg)
		if err != nil {
			return err
		}
		return runGrowBench(ctx, gc, env, stdout, stderr)
	}
	if h, err := opts.bool("http"); err != nil {
		return err
	} else if h {
		hc, err := parseHTTPBenchConfig(opts, cfg)
		if err != nil {
			return err
		}
		return runHTTPBench(ctx, hc, env, stdout, stderr)
	}
	if cfg.subs == 0 {
		return errors.New("--subscriptions 0 (ingest only) needs --http")
	}
	db, cleanup, err := openBenchStore(ctx, cfg.uri, cfg.sync)
	if err != nil {
		return err
	}
	defer cleanup()
	return benchRun(ctx, cfg, db, stdout)
}

// openBenchStore opens the store and a fresh database in it (a temporary
// data dir for the embedded store), dropped by the returned cleanup.
func openBenchStore(ctx context.Context, uri, sync string) (*backend, func(), error) {
	dir, err := os.MkdirTemp("", "jqlgate-bench-")
	if err != nil {
		return nil, nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openBackend(ctx, storeConfig{MongoDBURI: uri, DataDir: dir, Database: "bench_" + jqlgate.NewID("")[:16],
		EmbeddedSync: sync, ConnectTimeout: 10 * time.Second}, quiet)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return st, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if st.drop != nil {
			_ = st.drop(cctx)
		}
		_ = st.close(cctx)
		_ = os.RemoveAll(dir)
	}, nil
}

// benchReceiver counts deliveries and their latency from publish.
type benchReceiver struct {
	sent      sync.Map // event id → time.Time the publisher started
	mu        sync.Mutex
	latencies []time.Duration
	delivered atomic.Int64
	last      atomic.Int64 // unix nanos of the latest receipt
}

func (b *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p struct{ ID string }
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	if t, ok := b.sent.Load(p.ID); ok {
		b.mu.Lock()
		b.latencies = append(b.latencies, now.Sub(t.(time.Time)))
		b.mu.Unlock()
	}
	b.delivered.Add(1)
	b.last.Store(now.UnixNano())
}

// benchSource is a fixed set of subscriptions.
type benchSource []*jqlgate.Subscription

func (s benchSource) ListEnabled(context.Context) ([]*jqlgate.Subscription, error) { return s, nil }
func (s benchSource) Version(context.Context) (int64, error)                       { return 1, nil }
func (s benchSource) Get(_ context.Context, id string) (*jqlgate.Subscription, error) {
	for _, sub := range s {
		if sub.ID == id {
			return sub, nil
		}
	}
	return nil, jqlgate.Errorf(jqlgate.ENOTFOUND, "no subscription %s", id)
}

// benchOwner is the client that owns the bench subscriptions, so every
// fan-out goes through the owner check as in serve.
const benchOwner = "cl_bench"

func benchSubscriptions(n int, url string) benchSource {
	subs := make(benchSource, n)
	for i := range subs {
		subs[i] = &jqlgate.Subscription{ID: fmt.Sprintf("sub_bench%d", i), Owner: jqlgate.PrincipalClient + ":" + benchOwner,
			Trigger: "*", WebhookURL: fmt.Sprintf("%s/s/%d", url, i),
			Method: "POST", ContentType: "application/json", IncludeEntity: true, Enabled: true, MaxInFlight: 64,
			Secrets: []jqlgate.Secret{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, UpdatedAt: time.Now()}
	}
	return subs
}

// benchRun starts a receiver and a dispatcher on db, publishes, waits for
// every delivery and prints the figures.
func benchRun(ctx context.Context, cfg benchConfig, db *backend, out io.Writer) error {
	recv := &benchReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	store := db.deliveries
	owners := db.auth
	now := time.Now().UTC()
	if err := owners.CreateClient(ctx, &jqlgate.Client{ID: benchOwner, Name: "bench", Permissions: []string{"*"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	d := dispatcher.New(dispatcher.Config{
		Store: store, Source: benchSubscriptions(cfg.subs, "http://"+ln.Addr().String()), Node: "bench",
		Owners:  &ownerResolver{store: owners},
		Policy:  jqlgate.AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		Workers: cfg.workers, Version: version, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := d.Start(ctx); err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = d.Close(cctx)
		_ = store.Close(cctx)
	}()
	fmt.Fprintf(out, "bench: %d events × %d subscriptions, %d publishers, rate %s, store %s\n",
		cfg.events, cfg.subs, cfg.publishers, rateString(cfg.rate), db.where)
	return measure(ctx, cfg, d, recv, out)
}

func rateString(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f/s", r)
}

// measure publishes cfg.events, reports progress every second, and prints
// throughput and latency once every delivery arrived.
func measure(ctx context.Context, cfg benchConfig, d *dispatcher.Dispatcher, recv *benchReceiver, out io.Writer) error {
	want := int64(cfg.events) * int64(cfg.subs)
	var accepted atomic.Int64
	start := time.Now()
	pubDone := make(chan time.Duration, 1)
	pubErr := make(chan error, cfg.publishers)
	go func() {
		publishAll(ctx, cfg, d, recv, &accepted, pubErr)
		pubDone <- time.Since(start)
	}()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	deadline := time.After(cfg.timeout)
	var pubTime time.Duration
	for recv.delivered.Load() < want || pubTime == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-pubErr:
			return fmt.Errorf("publish: %w", err)
		case pubTime = <-pubDone:
		case <-deadline:
			return fmt.Errorf("timed out after %s: %d of %d deliveries arrived", cfg.timeout, recv.delivered.Load(), want)
		case <-ticker.C:
			fmt.Fprintf(out, "  %5.1fs accepted %d/%d delivered %d/%d\n", time.Since(start).Seconds(), accepted.Load(), cfg.events, recv.delivered.Load(), want)
		}
	}
	total := time.Unix(0, recv.last.Load()).Sub(start)
	recv.mu.Lock()
	p := percentiles(recv.latencies, 0.50, 0.90, 0.99)
	recv.mu.Unlock()
	fmt.Fprintf(out, "accepted:  %d events in %s = %.0f events/s\n", cfg.events, pubTime.Round(time.Millisecond), float64(cfg.events)/pubTime.Seconds())
	fmt.Fprintf(out, "delivered: %d deliveries in %s = %.0f deliveries/s\n", want, total.Round(time.Millisecond), float64(want)/total.Seconds())
	fmt.Fprintf(out, "latency (publish to receipt): p50 %s  p90 %s  p99 %s\n", p[0], p[1], p[2])
	return nil
}

// publishAll publishes cfg.events from cfg.publishers goroutines, paced
// by cfg.rate when set, recording each event's start time in recv.
func publishAll(ctx context.Context, cfg benchConfig, d *dispatcher.Dispatcher, recv *benchReceiver, accepted *atomic.Int64, errs chan<- error) {
	var lim *rate.Limiter
	if cfg.rate > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.rate), 1)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cfg.publishers {
		wg.Go(func() {
			for next.Add(1) <= int64(cfg.events) {
				if lim != nil && lim.Wait(ctx) != nil {
					return
				}
				ev := &jqlgate.Event{ID: jqlgate.NewID("evt"), Type: "bench.Item:create", EntityID: "item",
					Data: map[string]any{"id": "item", "n": 1}}
				recv.sent.Store(ev.ID, time.Now())
				if err := d.Publish(ctx, ev); err != nil {
					if !errors.Is(err, context.Canceled) {
						errs <- err
					}
					return
				}
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
}

// percentiles returns the given quantiles of ds, rounded for display.
func percentiles(ds []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(ds) == 0 {
		return out
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	for i, q := range qs {
		out[i] = s[min(len(s)-1, int(q*float64(len(s))))].Round(10 * time.Microsecond)
	}
	return out
}
