package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// GrowConfig is what RunGrow takes beside Config.
type GrowConfig struct {
	Config
	// Sizes are the store sizes (customers) to grow to in turn.
	Sizes []int
	// Dir is the data dir to grow (kept); empty uses a temporary one.
	Dir string
	// Samples is how many times each read is timed.
	Samples int
	// Subscriptions is how many subscriptions receive each create.
	Subscriptions int
	// Exe is the jqlgate binary to run serve from.
	Exe string
}

// growRow is what one size measured.
type growRow struct {
	size                       int
	ingest, ingestEmpty        float64 // creates/s over the step, and over its first 5,000
	reads                      []growRead
	stop, ready, killReady     time.Duration
	rssMB, idleCPU             float64
	dbMB, walMB, bytesPerEvent float64
}

type growRead struct {
	name     string
	p50, p90 time.Duration
}

// RunGrow grows a serve's store to each size through /jql (one
// subscription to a local receiver, so each create is also an event, a
// delivery and an attempt) and measures it there.
func RunGrow(ctx context.Context, cfg GrowConfig, env func(string) string, stdout, stderr io.Writer) error {
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "jqlgate-grow-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	child := &benchChild{dir: dir, addr: addr, clientID: "bench", clientSecret: "bench-grow-secret-" + strings.Repeat("x", 16), dropDB: func() {}}
	if cfg.URI != "" {
		return errors.New("--grow measures the embedded store; leave MONGODB_URI empty")
	}
	if err := child.start(ctx, cfg.Exe, cfg.Config, env, stderr); err != nil {
		return err
	}
	defer child.stop()
	g := &grower{cfg: cfg, child: child, out: stdout}
	if err := g.connect(ctx); err != nil {
		return err
	}
	if err := g.listen(ctx); err != nil {
		return err
	}
	defer g.srv.Close()
	var rows []growRow
	for _, size := range cfg.Sizes {
		row, err := g.measure(ctx, size, env, stderr)
		if err != nil {
			return err
		}
		rows = append(rows, row)
		printGrowRows(stdout, rows)
	}
	return nil
}

// grower is one --grow run's client side.
type grower struct {
	cfg   GrowConfig
	child *benchChild
	out   io.Writer
	c     *jqlClient
	srv   *http.Server
	// delivered counts the receiver's deliveries; base is its value when
	// the last step was drained.
	delivered atomic.Int64
	base      int64
	ids       []string
	emails    []string
	subID     string // the first subscription's
}

func (g *grower) connect(ctx context.Context) error {
	cc := clientcredentials.Config{ClientID: g.child.clientID, ClientSecret: g.child.clientSecret, TokenURL: g.child.url + "/oauth2/token"}
	// The token source fetches a new token as the last one expires: a
	// long run outlives a token.
	tokens := cc.TokenSource(ctx)
	if _, err := tokens.Token(); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tr := &http.Transport{MaxIdleConns: g.cfg.Publishers * 2, MaxIdleConnsPerHost: g.cfg.Publishers * 2}
	g.c = &jqlClient{url: g.child.url, tokens: tokens, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	return nil
}

// receiverFile keeps, in the grow dir, the receiver's address, so a later
// run on the same dir listens there again and its subscriptions stay the
// only ones (more, to a dead address, would double the work).
const receiverFile = "bench-receiver-addr"

// listen starts the receiver and subscribes it to every customer create,
// once per --grow-subscriptions (each on its own path).
func (g *grower) listen(ctx context.Context) error {
	path := filepath.Join(g.child.dir, receiverFile)
	addr := "127.0.0.1:0"
	if b, err := os.ReadFile(path); err == nil {
		addr = strings.TrimSpace(string(b))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bench receiver on %s (from %s): %w", addr, path, err)
	}
	if err := os.WriteFile(path, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
		return err
	}
	g.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		g.delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = g.srv.Serve(ln) }()
	// Subscribing again to the same URL finds the subscription. The first
	// keeps the path earlier runs used.
	for i := range g.cfg.Subscriptions {
		path := "/grow"
		if i > 0 {
			path = fmt.Sprintf("/grow/%d", i)
		}
		a, err := g.c.call(ctx, "system.Webhook", "controller", "subscribeToWebhook", map[string]any{
			"prefix": "Grow", "trigger": "profile.Customer:create", "webhookUrl": "http://" + ln.Addr().String() + path})
		if err != nil {
			return err
		}
		var sub struct{ ID string }
		if err := json.Unmarshal(a.Data, &sub); err != nil || sub.ID == "" {
			return fmt.Errorf("subscribeToWebhook answered no id: %s", a.Data)
		}
		if i == 0 {
			g.subID = sub.ID
		}
	}
	return nil
}

// count returns how many customers the store holds.
func (g *grower) count(ctx context.Context) (int, error) {
	a, err := g.c.callMeta(ctx, "profile.Customer", "model", "retrieve", map[string]any{"limit": 1})
	if err != nil {
		return 0, err
	}
	return a.Extras.Filtered, nil
}

func (g *grower) measure(ctx context.Context, size int, env func(string) string, stderr io.Writer) (growRow, error) {
	row := growRow{size: size}
	have, err := g.count(ctx)
	if err != nil {
		return row, err
	}
	if have < size {
		if row.ingestEmpty, row.ingest, err = g.grow(ctx, have, size); err != nil {
			return row, err
		}
		fmt.Fprintf(stderr, "bench --grow: %d customers (%.0f creates/s); waiting for their deliveries\n", size, row.ingest)
		g.drain(int64(size-have) * int64(g.cfg.Subscriptions))
	}
	if len(g.ids) == 0 {
		if err := g.sample(ctx); err != nil {
			return row, err
		}
	}
	if row.reads, err = g.reads(ctx, size); err != nil {
		return row, err
	}
	row.rssMB, row.idleCPU = procStats(g.child.cmd.Process.Pid, 5*time.Second)
	row.dbMB, row.walMB = fileMB(g.child.dir, "jqlgate.db"), fileMB(g.child.dir, "jqlgate.db-wal")
	if size > 0 {
		row.bytesPerEvent = (row.dbMB + row.walMB) * (1 << 20) / float64(size*g.cfg.Subscriptions)
	}
	row.stop = g.child.terminate()
	began := time.Now()
	if err := g.child.start(ctx, g.cfg.Exe, g.cfg.Config, env, stderr); err != nil {
		return row, err
	}
	row.ready = time.Since(began)
	_ = g.child.cmd.Process.Kill()
	<-g.child.done
	began = time.Now()
	if err := g.child.start(ctx, g.cfg.Exe, g.cfg.Config, env, stderr); err != nil {
		return row, err
	}
	row.killReady = time.Since(began)
	return row, g.connect(ctx)
}

// drain waits until the receiver got n more deliveries than before the
// step (until a minute passes with none), so reads are not timed against a
// backlog.
func (g *grower) drain(n int64) {
	want := g.base + n
	last, lastAt := g.delivered.Load(), time.Now()
	for g.delivered.Load() < want && time.Since(lastAt) < time.Minute {
		time.Sleep(100 * time.Millisecond)
		if d := g.delivered.Load(); d != last {
			last, lastAt = d, time.Now()
		}
	}
	g.base = g.delivered.Load()
}

// grow creates customers from have up to size and returns the creates/s of
// its first 5,000 and of the whole step.
func (g *grower) grow(ctx context.Context, have, size int) (first, all float64, err error) {
	var next atomic.Int64
	next.Store(int64(have))
	var firstDone atomic.Int64
	began := time.Now()
	errs := make(chan error, g.cfg.Publishers)
	var wg sync.WaitGroup
	for range g.cfg.Publishers {
		wg.Go(func() {
			for {
				n := int(next.Add(1))
				if n > size {
					return
				}
				_, err := g.c.call(ctx, "profile.Customer", "model", "create", map[string]any{
					"name": fmt.Sprintf("Grow Customer %d", n), "email": fmt.Sprintf("grow%d@example.com", n),
					"phone": fmt.Sprintf("+44 20 %08d", n), "metadata": map[string]any{"n": n, "tier": "gold"}})
				if err != nil {
					errs <- err
					return
				}
				if n == have+5000 {
					firstDone.Store(int64(time.Since(began)))
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return 0, 0, err
	default:
	}
	took := time.Since(began)
	all = float64(size-have) / took.Seconds()
	if f := time.Duration(firstDone.Load()); f > 0 {
		first = 5000 / f.Seconds()
	}
	return first, all, nil
}

// sample picks records to read: the oldest, the newest and some between.
func (g *grower) sample(ctx context.Context) error {
	for _, order := range []string{"created_at", "-created_at"} {
		a, err := g.c.callMeta(ctx, "profile.Customer", "model", "retrieve", map[string]any{"limit": 5, "ordering": []string{order}})
		if err != nil {
			return err
		}
		var recs []struct{ ID, Email string }
		if err := json.Unmarshal(a.Data, &recs); err != nil {
			return err
		}
		for _, r := range recs {
			g.ids, g.emails = append(g.ids, r.ID), append(g.emails, r.Email)
		}
	}
	if len(g.ids) == 0 {
		return errors.New("the store holds no customer to read")
	}
	return nil
}

// reads times every read the targets name.
func (g *grower) reads(ctx context.Context, size int) ([]growRead, error) {
	pick := func() int { return rand.IntN(len(g.ids)) }
	reads := []struct {
		name string
		ns   string
		in   string
		meta func() map[string]any
	}{
		{"retrieve by id", "profile.Customer", "retrieve", func() map[string]any {
			return map[string]any{"uniqueObject": map[string]any{"id": g.ids[pick()]}}
		}},
		{"filter email (indexed)", "profile.Customer", "retrieve", func() map[string]any {
			return map[string]any{"filter": map[string]any{"email": g.emails[pick()]}}
		}},
		{"search", "profile.Customer", "retrieve", func() map[string]any {
			return map[string]any{"search": map[string]any{"value": strings.TrimSuffix(g.emails[pick()], "@example.com") + "@"}, "limit": 20}
		}},
		{"ordered page 1 (email)", "profile.Customer", "retrieve", func() map[string]any {
			return map[string]any{"ordering": []string{"email"}, "limit": 20}
		}},
		{"newest page 1 (-created_at)", "profile.Customer", "retrieve", func() map[string]any {
			return map[string]any{"ordering": []string{"-created_at"}, "limit": 20}
		}},
		{"ordered page at offset N/2", "profile.Customer", "retrieve", func() map[string]any {
			return map[string]any{"ordering": []string{"email"}, "limit": 20, "offset": size / 2}
		}},
		{"getWebhookLogs page 1", "system.Webhook", "getWebhookLogs", func() map[string]any { return map[string]any{"limit": 20} }},
		{"getWebhookLogs filtered", "system.Webhook", "getWebhookLogs", func() map[string]any {
			return map[string]any{"limit": 20, "entityId": g.ids[pick()]}
		}},
		{"getWebhookLogs one webhook", "system.Webhook", "getWebhookLogs", func() map[string]any {
			return map[string]any{"limit": 20, "subscriptionId": g.subID}
		}},
		{"getWebhookLogs deep page", "system.Webhook", "getWebhookLogs", func() map[string]any {
			return map[string]any{"limit": 20, "offset": min(size/2, 10000)}
		}},
		{"getWebhookQueue", "system.Webhook", "getWebhookQueue", func() map[string]any { return map[string]any{} }},
	}
	var out []growRead
	for _, r := range reads {
		var lat []time.Duration
		for range g.cfg.Samples {
			began := time.Now()
			if _, err := g.c.callMeta(ctx, r.ns, schemaOf(r.ns), r.in, r.meta()); err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			lat = append(lat, time.Since(began))
		}
		slices.Sort(lat)
		out = append(out, growRead{name: r.name, p50: lat[len(lat)/2], p90: lat[len(lat)*9/10]})
	}
	return out, nil
}

func schemaOf(ns string) string {
	if strings.HasPrefix(ns, "system.") {
		return "controller"
	}
	return "model"
}

// metaKeys are the request fields callMeta moves into __meta__.
var metaKeys = []string{"uniqueObject", "filter", "exclude", "search", "ordering", "limit", "offset"}

// callMeta is call with the query fields of fields sent in __meta__.
func (c *jqlClient) callMeta(ctx context.Context, namespace, schema, intent string, fields map[string]any) (*jqlAnswer, error) {
	m := map[string]any{}
	rest := map[string]any{}
	for k, v := range fields {
		if slices.Contains(metaKeys, k) && schema == "model" {
			m[k] = v
		} else {
			rest[k] = v
		}
	}
	return c.callWith(ctx, namespace, schema, intent, m, rest)
}

// procStats returns pid's resident memory in MiB and the CPU it used
// (in cores) over idle.
func procStats(pid int, idle time.Duration) (rssMB, cores float64) {
	cpu := func() float64 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		return (u + s) / 100 // clock ticks
	}
	before := cpu()
	time.Sleep(idle)
	cores = (cpu() - before) / idle.Seconds()
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				rssMB = kb / 1024
			}
		}
	}
	return rssMB, cores
}

func fileMB(dir, name string) float64 {
	st, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return 0
	}
	return float64(st.Size()) / (1 << 20)
}

func printGrowRows(w io.Writer, rows []growRow) {
	fmt.Fprintf(w, "\n| measure (p50 / p90) |")
	for _, r := range rows {
		fmt.Fprintf(w, " %d |", r.size)
	}
	fmt.Fprintf(w, "\n|---|")
	for range rows {
		fmt.Fprint(w, "---|")
	}
	line := func(name string, cell func(r growRow) string) {
		fmt.Fprintf(w, "\n| %s |", name)
		for _, r := range rows {
			fmt.Fprintf(w, " %s |", cell(r))
		}
	}
	for i, rd := range rows[0].reads {
		line(rd.name, func(r growRow) string { return fmt.Sprintf("%s / %s", ms(r.reads[i].p50), ms(r.reads[i].p90)) })
	}
	line("creates/s growing to this size (first 5,000 of the step)", func(r growRow) string {
		return fmt.Sprintf("%.0f (%.0f)", r.ingest, r.ingestEmpty)
	})
	line("SIGTERM until exit", func(r growRow) string { return ms(r.stop) })
	line("restart until ready, clean stop", func(r growRow) string { return ms(r.ready) })
	line("restart until ready, after kill -9", func(r growRow) string { return ms(r.killReady) })
	line("server RSS (MiB)", func(r growRow) string { return fmt.Sprintf("%.0f", r.rssMB) })
	line("server CPU idle (cores)", func(r growRow) string { return fmt.Sprintf("%.3f", r.idleCPU) })
	line("database + WAL (MiB)", func(r growRow) string { return fmt.Sprintf("%.0f + %.0f", r.dbMB, r.walMB) })
	line("disk per delivery (B)", func(r growRow) string { return fmt.Sprintf("%.0f", r.bytesPerEvent) })
	fmt.Fprintln(w)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
