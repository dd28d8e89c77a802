package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/webhook"
)

// HTTPConfig is what RunHTTP takes beside Config.
type HTTPConfig struct {
	Config
	// URL is the server to target; empty starts serve as a child process
	// on a temporary data dir.
	URL string
	// ClientID and ClientSecret are a client of URL's allowed
	// profile.Customer:create and :retrieve, system.Webhook:* and
	// system.Webhook:privateTargets.
	ClientID, ClientSecret string
	// ReceiverHost is the loopback address the receiver listens on.
	ReceiverHost string
	// CPUProfile, without URL, is where to write a CPU profile of serve
	// taken over the first ProfileSeconds of the creates.
	CPUProfile     string
	ProfileSeconds int
	// VerifyEvery verifies the signature of every n-th delivery.
	VerifyEvery int
	// Exe is the jqlgate binary to run serve from.
	Exe string
}

// RunHTTP runs the client-side benchmark against cfg.URL or a child serve
// process: OAuth2 token, subscribe through /jql, concurrent
// profile.Customer creates, deliveries counted at a real receiver.
func RunHTTP(ctx context.Context, cfg HTTPConfig, env func(string) string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	target := cfg.URL
	if target == "" {
		child, err := startBenchServe(ctx, cfg, env, stderr)
		if err != nil {
			return err
		}
		defer child.stop()
		target = child.url
		cfg.ClientID, cfg.ClientSecret = child.clientID, child.clientSecret
		if cfg.CPUProfile != "" {
			go child.profile(ctx, cfg.CPUProfile, cfg.ProfileSeconds, stderr)
			defer child.waitProfile()
		}
	}
	return httpBench(ctx, cfg, target, stdout)
}

// benchChild is a serve process the bench started.
type benchChild struct {
	cmd                 *exec.Cmd
	dir, url, pprofAddr string
	// addr is where serve listens ("" picks a free port at each start).
	addr string
	// removeDir: the bench made dir and removes it when the child stops.
	removeDir              bool
	env                    []string
	clientID, clientSecret string
	done                   chan error
	profiled               chan struct{}
	dropDB                 func()
}

// startBenchServe starts "jqlgate serve" (this binary) on a temporary data
// dir, removed when it stops: embedded store unless MONGODB_URI is set,
// rate limit off, loopback receivers allowed, a bootstrap client for the
// bench.
func startBenchServe(ctx context.Context, cfg HTTPConfig, env func(string) string, stderr io.Writer) (*benchChild, error) {
	dir, err := os.MkdirTemp("", "jqlgate-bench-")
	if err != nil {
		return nil, err
	}
	c := &benchChild{dir: dir, removeDir: true, clientID: "bench", clientSecret: randomHex(24), dropDB: func() {}}
	if cfg.URI != "" {
		db := "bench_" + randomHex(8)
		c.env = []string{"MONGODB_URI=" + cfg.URI, "JQLGATE_DATABASE=" + db, "JQLGATE_SECRET_KEY=" + benchSecretKey()}
		c.dropDB = func() { dropBenchDatabase(cfg.URI, db) }
	}
	if cfg.CPUProfile != "" {
		if c.pprofAddr, err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	if err := c.start(ctx, cfg.Exe, cfg.Config, env, stderr); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// start runs serve on c.dir and waits until it logs that it is ready.
func (c *benchChild) start(ctx context.Context, exe string, cfg Config, env func(string) string, stderr io.Writer) error {
	addr := c.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	c.done, c.profiled = make(chan error, 1), make(chan struct{})
	close(c.profiled)
	args := []string{"serve", "--addr", addr, "--data-dir", c.dir, "--rate-limit", "-1",
		"--webhook-allow-cidrs", "127.0.0.0/8", "--log-level", "info", "--dispatcher-workers", fmt.Sprint(cfg.Workers), "--embedded-sync", cfg.Sync}
	if c.pprofAddr != "" {
		args = append(args, "--pprof", c.pprofAddr)
	}
	c.cmd = exec.CommandContext(ctx, exe, args...)
	c.cmd.Env = append([]string{"PATH=" + env("PATH"), "HOME=" + env("HOME"), "TMPDIR=" + env("TMPDIR"),
		"JQLGATE_BOOTSTRAP_CLIENT_ID=" + c.clientID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET=" + c.clientSecret}, c.env...)
	c.cmd.Stderr = stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := c.cmd.Start(); err != nil {
		return err
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var rec struct{ Level, Msg, URL, Error string }
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			switch {
			case rec.Msg == "jqlgate ready":
				ready <- rec.URL
			case rec.Level == "ERROR" || rec.Level == "WARN":
				fmt.Fprintf(stderr, "serve: %s\n", sc.Text())
			}
		}
		c.done <- c.cmd.Wait()
	}()
	select {
	case c.url = <-ready:
		return nil
	case err := <-c.done:
		c.done <- err
		return fmt.Errorf("serve exited before it was ready: %v", err)
	case <-time.After(5 * time.Minute):
		return errors.New("serve not ready after 5 minutes")
	}
}

// stop ends the child with SIGTERM (a kill after 20 s) and removes its
// data unless it was given its data dir.
func (c *benchChild) stop() {
	c.terminate()
	c.dropDB()
	if c.removeDir {
		_ = os.RemoveAll(c.dir)
	}
}

// terminate ends the child with SIGTERM, or a kill after 20 s, and
// returns how long it took to exit.
func (c *benchChild) terminate() time.Duration {
	began := time.Now()
	if c.cmd != nil && c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-c.done:
			c.done <- err
		case <-time.After(20 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	return time.Since(began)
}

// profile fetches a CPU profile of the child's serve into path.
func (c *benchChild) profile(ctx context.Context, path string, seconds int, stderr io.Writer) {
	c.profiled = make(chan struct{})
	defer close(c.profiled)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.pprofAddr, seconds), nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		defer resp.Body.Close()
		var f *os.File
		if f, err = os.Create(path); err == nil {
			_, err = io.Copy(f, resp.Body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: cpu profile: %v\n", err)
	}
}

func (c *benchChild) waitProfile() { <-c.profiled }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func benchSecretKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func dropBenchDatabase(uri, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := mongodb.Open(ctx, mongodb.Config{URI: uri, Database: name})
	if err != nil {
		return
	}
	_ = db.Database.Drop(ctx)
	_ = db.Close(ctx)
}

// httpReceiver is the bench's webhook receiver: it counts unique deliveries
// per subscription by webhook-id, their latency from the create request's
// start, and verifies a sample of signatures.
type httpReceiver struct {
	verifyEvery int64
	secrets     map[string]string // subscription path → whsec_ secret
	sent        sync.Map          // email → time the create request started

	mu        sync.Mutex
	seen      map[string]struct{} // path + webhook-id
	latencies []time.Duration

	unique, dups, total, verified, badSig, unknown atomic.Int64
	last                                           atomic.Int64
	firstErr                                       atomic.Value
}

func (r *httpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	n := r.total.Add(1)
	if n%r.verifyEvery == 0 {
		if _, err := webhook.Verify(r.secrets[req.URL.Path], req.Header, body); err != nil {
			r.badSig.Add(1)
			r.firstErr.CompareAndSwap(nil, fmt.Sprintf("signature of %s: %v", req.Header.Get("webhook-id"), err))
		} else {
			r.verified.Add(1)
		}
	}
	var p struct {
		Data struct{ Email string } `json:"data"`
	}
	_ = json.Unmarshal(body, &p)
	key := req.URL.Path + " " + req.Header.Get("webhook-id")
	r.mu.Lock()
	_, dup := r.seen[key]
	if !dup {
		r.seen[key] = struct{}{}
		if t, ok := r.sent.Load(p.Data.Email); ok {
			r.latencies = append(r.latencies, now.Sub(t.(time.Time)))
		} else {
			r.unknown.Add(1)
		}
	}
	r.mu.Unlock()
	if dup {
		r.dups.Add(1)
	} else {
		r.unique.Add(1)
	}
	r.last.Store(now.UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

// jqlClient posts envelopes to /jql.
type jqlClient struct {
	url    string
	tokens oauth2.TokenSource
	hc     *http.Client
}

type jqlAnswer struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Extras struct {
		Filtered int `json:"filtered"`
	} `json:"extras"`
	Errors []struct {
		ErrorCode, ErrorMessage, Field string
	} `json:"errors"`
}

func (c *jqlClient) call(ctx context.Context, namespace, schema, intent string, fields map[string]any) (*jqlAnswer, error) {
	return c.callWith(ctx, namespace, schema, intent, nil, fields)
}

// callWith is call with more __meta__ keys.
func (c *jqlClient) callWith(ctx context.Context, namespace, schema, intent string, meta, fields map[string]any) (*jqlAnswer, error) {
	tok, err := c.tokens.Token()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	m := map[string]any{"namespace": namespace, "schema": schema, "intent": intent,
		"authenticationClass": "oauth2", "authenticationToken": tok.AccessToken}
	for k, v := range meta {
		m[k] = v
	}
	env := map[string]any{"__meta__": m}
	for k, v := range fields {
		env[k] = v
	}
	body, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/jql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var a jqlAnswer
	if err := json.Unmarshal(raw, &a); err != nil || resp.StatusCode != http.StatusOK || a.Status != "OK" {
		return nil, fmt.Errorf("%s %s: HTTP %d %.300s", namespace, intent, resp.StatusCode, raw)
	}
	return &a, nil
}

// httpBench subscribes cfg.Subs receivers at target, sends cfg.Events
// creates from cfg.Publishers goroutines (paced by cfg.Rate when set) and
// prints what the client saw.
func httpBench(ctx context.Context, cfg HTTPConfig, target string, out io.Writer) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.ReceiverHost, "0"))
	if err != nil {
		return err
	}
	recv := &httpReceiver{verifyEvery: int64(cfg.VerifyEvery), secrets: map[string]string{}, seen: map[string]struct{}{}}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	defer srv.Close()

	cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: target + "/oauth2/token",
		Scopes: []string{"profile.Customer:create", "profile.Customer:retrieve", "system.Webhook:*", "system.Webhook:privateTargets"}}
	tokens := cc.TokenSource(ctx)
	if _, err := tokens.Token(); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tr := &http.Transport{MaxIdleConns: cfg.Publishers * 2, MaxIdleConnsPerHost: cfg.Publishers * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	c := &jqlClient{url: target, tokens: tokens, hc: &http.Client{Transport: tr, Timeout: time.Minute}}

	run := randomHex(4)
	base := "http://" + ln.Addr().String()
	var subIDs []string
	for i := range cfg.Subs {
		path := fmt.Sprintf("/r%s/%d", run, i)
		a, err := c.call(ctx, "system.Webhook", "controller", "subscribeToWebhook", map[string]any{
			"prefix": "Bench", "trigger": "profile.Customer:create", "webhookUrl": base + path})
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		var s struct{ ID, Secret string }
		if err := json.Unmarshal(a.Data, &s); err != nil || s.Secret == "" {
			return fmt.Errorf("subscribe answered %.300s", a.Data)
		}
		recv.secrets[path] = s.Secret
		subIDs = append(subIDs, s.ID)
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Leave a targeted server as found: drop the bench's subscriptions.
		for i := range subIDs {
			_, _ = c.call(context.WithoutCancel(ctx), "system.Webhook", "controller", "unsubscribeFromWebhook", map[string]any{
				"prefix": "Bench", "trigger": "profile.Customer:create", "webhookUrl": fmt.Sprintf("%s/r%s/%d", base, run, i)})
		}
	}()

	fmt.Fprintf(out, "bench --http: %d creates × %d subscriptions, %d concurrent, rate %s, server %s\n",
		cfg.Events, cfg.Subs, cfg.Publishers, rateString(cfg.Rate), target)
	want := int64(cfg.Events) * int64(cfg.Subs)
	var created atomic.Int64
	var reqMu sync.Mutex
	var reqLat []time.Duration
	start := time.Now()
	sendDone := make(chan time.Duration, 1)
	sendErr := make(chan error, cfg.Publishers)
	go func() {
		var lim *rate.Limiter
		if cfg.Rate > 0 {
			lim = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range cfg.Publishers {
			wg.Go(func() {
				var mine []time.Duration
				defer func() { reqMu.Lock(); reqLat = append(reqLat, mine...); reqMu.Unlock() }()
				for {
					n := next.Add(1)
					if n > int64(cfg.Events) {
						return
					}
					if lim != nil && lim.Wait(ctx) != nil {
						return
					}
					email := fmt.Sprintf("b%s-%d@bench.example", run, n)
					t0 := time.Now()
					recv.sent.Store(email, t0)
					if _, err := c.call(ctx, "profile.Customer", "model", "create", map[string]any{"name": "Bench Customer", "email": email}); err != nil {
						if ctx.Err() == nil {
							sendErr <- err
						}
						return
					}
					mine = append(mine, time.Since(t0))
					created.Add(1)
				}
			})
		}
		wg.Wait()
		sendDone <- time.Since(start)
	}()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	deadline := time.After(cfg.Timeout)
	var sendTime time.Duration
	for recv.unique.Load() < want || sendTime == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-sendErr:
			return fmt.Errorf("create: %w", err)
		case sendTime = <-sendDone:
		case <-deadline:
			return fmt.Errorf("timed out after %s: %d of %d creates, %d of %d deliveries", cfg.Timeout, created.Load(), cfg.Events, recv.unique.Load(), want)
		case <-ticker.C:
			fmt.Fprintf(out, "  %5.1fs created %d/%d delivered %d/%d\n", time.Since(start).Seconds(), created.Load(), cfg.Events, recv.unique.Load(), want)
		}
	}
	// Late duplicates (a retry of a delivery whose answer was lost) would
	// arrive later still; the count here is what arrived by the last one.
	total := time.Unix(0, recv.last.Load()).Sub(start)
	recv.mu.Lock()
	p := percentiles(recv.latencies, 0.50, 0.90, 0.99, 1)
	recv.mu.Unlock()
	reqMu.Lock()
	q := percentiles(reqLat, 0.50, 0.99)
	reqMu.Unlock()
	fmt.Fprintf(out, "creates:    %d in %s = %.0f creates/s (request p50 %s p99 %s)\n", cfg.Events, sendTime.Round(time.Millisecond), float64(cfg.Events)/sendTime.Seconds(), q[0], q[1])
	if want == 0 {
		fmt.Fprintln(out, "deliveries: none (no subscriptions: ingest only)")
	} else {
		fmt.Fprintf(out, "deliveries: %d unique in %s = %.0f deliveries/s, %d duplicates\n", want, total.Round(time.Millisecond), float64(want)/total.Seconds(), recv.dups.Load())
		fmt.Fprintf(out, "latency (create request start to receipt): p50 %s  p90 %s  p99 %s  max %s\n", p[0], p[1], p[2], p[3])
	}
	fmt.Fprintf(out, "signatures: %d verified, %d bad\n", recv.verified.Load(), recv.badSig.Load())
	if n := recv.badSig.Load(); n > 0 {
		return fmt.Errorf("%d deliveries failed signature verification (first: %v)", n, recv.firstErr.Load())
	}
	if n := recv.unknown.Load(); n > 0 {
		return fmt.Errorf("%d deliveries carried no customer this bench created", n)
	}
	return nil
}
