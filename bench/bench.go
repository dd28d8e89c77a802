// Package bench measures jqlgate from outside: the dispatcher in process
// on a real store (Run), what a client sees over HTTP against a serve
// process it starts or a server it is pointed at (RunHTTP), and how reads,
// restarts, memory and ingest behave as a store grows (RunGrow). cmd/jqlgate
// holds its flags and calls it. It imports the root, dispatcher, mongodb
// (to drop a benchmark database) and webhook (to verify deliveries).
package bench

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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// Config is what every benchmark takes.
type Config struct {
	// Events is how many events (or, over HTTP, creates) to publish.
	Events int
	// Subs is how many subscriptions every event fans out to (0, over
	// HTTP, measures ingest only).
	Subs int
	// Publishers is how many publish concurrently.
	Publishers int
	// Workers is the dispatcher's delivery workers.
	Workers int
	// Rate is events per second to publish at; 0 is as fast as possible.
	Rate float64
	// URI is MongoDB's; empty uses the embedded store.
	URI string
	// Sync is the embedded store's synchronous setting (full or normal).
	Sync string
	// Timeout bounds the wait for deliveries.
	Timeout time.Duration
}

// Store is what the in-process benchmark runs on: a fresh store's
// deliveries and principals, and the dispatcher's view of owners.
type Store struct {
	Deliveries interface {
		dispatcher.Store
		Close(ctx context.Context) error
	}
	// AddOwner stores the benchmark's client.
	AddOwner func(ctx context.Context, c *jqlgate.Client) error
	// Owners resolves subscription owners for the dispatcher.
	Owners dispatcher.Owners
	// Where names the store in the report.
	Where string
	// Version is the server version deliveries announce.
	Version string
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
// Run publishes cfg.Events events from concurrent publishers into st
// through a dispatcher, delivers them to a local receiver and reports
// accepted/s, delivered/s and event-to-receipt latency to out.
func Run(ctx context.Context, cfg Config, st Store, out io.Writer) error {
	if cfg.Subs < 1 {
		return errors.New("--subscriptions 0 (ingest only) needs --http")
	}
	recv := &benchReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	store := st.Deliveries
	now := time.Now().UTC()
	if err := st.AddOwner(ctx, &jqlgate.Client{ID: benchOwner, Name: "bench", Permissions: []string{"*"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	d := dispatcher.New(dispatcher.Config{
		Store: store, Source: benchSubscriptions(cfg.Subs, "http://"+ln.Addr().String()), Node: "bench",
		Owners:  st.Owners,
		Policy:  jqlgate.AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
		Workers: cfg.Workers, Version: st.Version, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
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
		cfg.Events, cfg.Subs, cfg.Publishers, rateString(cfg.Rate), st.Where)
	return measure(ctx, cfg, d, recv, out)
}

func rateString(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f/s", r)
}

// measure publishes cfg.Events, reports progress every second, and prints
// throughput and latency once every delivery arrived.
func measure(ctx context.Context, cfg Config, d *dispatcher.Dispatcher, recv *benchReceiver, out io.Writer) error {
	want := int64(cfg.Events) * int64(cfg.Subs)
	var accepted atomic.Int64
	start := time.Now()
	pubDone := make(chan time.Duration, 1)
	pubErr := make(chan error, cfg.Publishers)
	go func() {
		publishAll(ctx, cfg, d, recv, &accepted, pubErr)
		pubDone <- time.Since(start)
	}()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	deadline := time.After(cfg.Timeout)
	var pubTime time.Duration
	for recv.delivered.Load() < want || pubTime == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-pubErr:
			return fmt.Errorf("publish: %w", err)
		case pubTime = <-pubDone:
		case <-deadline:
			return fmt.Errorf("timed out after %s: %d of %d deliveries arrived", cfg.Timeout, recv.delivered.Load(), want)
		case <-ticker.C:
			fmt.Fprintf(out, "  %5.1fs accepted %d/%d delivered %d/%d\n", time.Since(start).Seconds(), accepted.Load(), cfg.Events, recv.delivered.Load(), want)
		}
	}
	total := time.Unix(0, recv.last.Load()).Sub(start)
	recv.mu.Lock()
	p := percentiles(recv.latencies, 0.50, 0.90, 0.99)
	recv.mu.Unlock()
	fmt.Fprintf(out, "accepted:  %d events in %s = %.0f events/s\n", cfg.Events, pubTime.Round(time.Millisecond), float64(cfg.Events)/pubTime.Seconds())
	fmt.Fprintf(out, "delivered: %d deliveries in %s = %.0f deliveries/s\n", want, total.Round(time.Millisecond), float64(want)/total.Seconds())
	fmt.Fprintf(out, "latency (publish to receipt): p50 %s  p90 %s  p99 %s\n", p[0], p[1], p[2])
	return nil
}

// publishAll publishes cfg.Events from cfg.Publishers goroutines, paced
// by cfg.Rate when set, recording each event's start time in recv.
func publishAll(ctx context.Context, cfg Config, d *dispatcher.Dispatcher, recv *benchReceiver, accepted *atomic.Int64, errs chan<- error) {
	var lim *rate.Limiter
	if cfg.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cfg.Publishers {
		wg.Go(func() {
			for next.Add(1) <= int64(cfg.Events) {
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
