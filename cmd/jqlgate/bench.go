package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate/bench"

	"github.com/jqlgate/jqlgate"
)

// This file holds the flags of jqlgate bench; the benchmarks are in bench/.

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

func parseBenchConfig(s *optionSet) (bench.Config, error) {
	c := bench.Config{URI: s.str("mongodb-uri"), Sync: s.str("embedded-sync")}
	if c.Sync != "full" && c.Sync != "normal" {
		return c, fmt.Errorf("--embedded-sync: %q is not full or normal", c.Sync)
	}
	var err error
	for name, p := range map[string]*int{"events": &c.Events, "subscriptions": &c.Subs, "publishers": &c.Publishers, "workers": &c.Workers} {
		if *p, err = s.int(name); err != nil {
			return c, err
		}
		if *p <= 0 && !(name == "subscriptions" && *p == 0) {
			return c, fmt.Errorf("--%s: must be at least 1", name)
		}
	}
	if c.Rate, err = s.float("rate"); err != nil {
		return c, err
	}
	c.Timeout, err = s.duration("timeout")
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
		if gc.Exe, err = os.Executable(); err != nil {
			return err
		}
		return bench.RunGrow(ctx, gc, env, stdout, stderr)
	}
	if h, err := opts.bool("http"); err != nil {
		return err
	} else if h {
		hc, err := parseHTTPBenchConfig(opts, cfg)
		if err != nil {
			return err
		}
		if hc.Exe, err = os.Executable(); err != nil {
			return err
		}
		return bench.RunHTTP(ctx, hc, env, stdout, stderr)
	}
	db, cleanup, err := openBenchStore(ctx, cfg.URI, cfg.Sync)
	if err != nil {
		return err
	}
	defer cleanup()
	return bench.Run(ctx, cfg, bench.Store{Deliveries: db.deliveries, AddOwner: db.auth.CreateClient,
		Owners: &ownerResolver{store: db.auth}, Where: db.where, Version: version}, stdout)
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

// httpBenchOptions are the options only jqlgate bench --http reads.
var httpBenchOptions = []option{
	{flag: "http", def: "false", isBool: true, usage: "measure what a client sees: OAuth2 token, subscribe through /jql, concurrent profile.Customer creates over HTTP, deliveries counted at a real receiver"},
	{flag: "url", def: "", usage: "with --http: the server to target (needs --client-id and --client-secret); empty starts serve as a child process on a temporary data dir"},
	{flag: "client-id", env: "JQLGATE_BENCH_CLIENT_ID", def: "", usage: "with --url: OAuth2 client allowed profile.Customer:create and :retrieve, system.Webhook:* and system.Webhook:privateTargets"},
	{flag: "client-secret", env: "JQLGATE_BENCH_CLIENT_SECRET", def: "", usage: "with --url: that client's secret", secret: true},
	{flag: "receiver-host", def: "127.0.0.1", usage: "with --http: loopback address the bench's receiver listens on (the server must be allowed to reach it)"},
	{flag: "verify-every", def: "10", usage: "with --http: verify the signature of every n-th delivery (1 verifies all)"},
	{flag: "cpuprofile", def: "", usage: "with --http and no --url: write a CPU profile of serve, taken over the first --profile-seconds of the creates, to this file"},
	{flag: "profile-seconds", def: "10", usage: "length of the --cpuprofile profile in seconds"},
}

func parseHTTPBenchConfig(s *optionSet, base bench.Config) (bench.HTTPConfig, error) {
	c := bench.HTTPConfig{Config: base, URL: strings.TrimRight(s.str("url"), "/"), ClientID: s.str("client-id"),
		ClientSecret: s.str("client-secret"), ReceiverHost: s.str("receiver-host"), CPUProfile: s.str("cpuprofile")}
	var err error
	if c.VerifyEvery, err = s.int("verify-every"); err != nil {
		return c, err
	}
	if c.ProfileSeconds, err = s.int("profile-seconds"); err != nil {
		return c, err
	}
	switch {
	case c.VerifyEvery < 1:
		return c, errors.New("--verify-every: must be at least 1")
	case c.ProfileSeconds < 1:
		return c, errors.New("--profile-seconds: must be at least 1")
	case c.URL != "" && (c.ClientID == "" || c.ClientSecret == ""):
		return c, errors.New("--url needs --client-id and --client-secret")
	case c.URL != "" && c.CPUProfile != "":
		return c, errors.New("--cpuprofile profiles the serve the bench starts; with --url, use that server's --pprof")
	}
	if ip := net.ParseIP(c.ReceiverHost); ip == nil || !ip.IsLoopback() {
		return c, fmt.Errorf("--receiver-host: %q is not a loopback address", c.ReceiverHost)
	}
	return c, nil
}

// growOptions are the options of jqlgate bench --grow.
var growOptions = []option{
	{flag: "grow", def: "", usage: "comma-separated store sizes (customers, such as 10000,100000,1000000): grow a serve's store through /jql to each size in turn and time reads, restarts, memory and ingest there"},
	{flag: "grow-dir", def: "", usage: "with --grow: the data dir to grow (kept, so a later run goes on from its size); empty uses a temporary one"},
	{flag: "samples", def: "30", usage: "with --grow: how many times each read is timed"},
	{flag: "grow-subscriptions", def: "1", usage: "with --grow: how many subscriptions receive each create (10 grows ten attempts per customer: 1,000,000 customers make 10,000,000 attempts)"},
}

func init() { benchOptions = append(benchOptions, growOptions...) }

func parseGrowConfig(s *optionSet, base bench.Config) (bench.GrowConfig, error) {
	c := bench.GrowConfig{Config: base, Dir: s.str("grow-dir")}
	for _, f := range strings.Split(s.str("grow"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return c, fmt.Errorf("--grow: %q is not a positive size", f)
		}
		if len(c.Sizes) > 0 && n <= c.Sizes[len(c.Sizes)-1] {
			return c, errors.New("--grow: sizes must increase")
		}
		c.Sizes = append(c.Sizes, n)
	}
	var err error
	if c.Samples, err = s.int("samples"); err != nil {
		return c, err
	}
	if c.Samples < 1 {
		return c, errors.New("--samples: must be at least 1")
	}
	if c.Subscriptions, err = s.int("grow-subscriptions"); err != nil {
		return c, err
	}
	if c.Subscriptions < 1 || c.Subscriptions > 100 {
		return c, errors.New("--grow-subscriptions: between 1 and 100")
	}
	return c, nil
}
