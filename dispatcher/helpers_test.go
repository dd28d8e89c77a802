package dispatcher_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// source is an in-memory subscription source.
type source struct {
	mu      sync.Mutex
	subs    map[string]*jqlgate.Subscription
	version int64
	// GetFn, when set, replaces Get.
	GetFn func(ctx context.Context, id string) (*jqlgate.Subscription, error)
}

func newSource(subs ...*jqlgate.Subscription) *source {
	s := &source{subs: map[string]*jqlgate.Subscription{}}
	for _, sub := range subs {
		s.put(sub)
	}
	return s
}

func (s *source) put(sub *jqlgate.Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[sub.ID] = sub
	s.version++
}

func (s *source) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, id)
	s.version++
}

func (s *source) ListEnabled(context.Context) ([]*jqlgate.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*jqlgate.Subscription
	for _, sub := range s.subs {
		if sub.Enabled {
			out = append(out, sub)
		}
	}
	return out, nil
}

func (s *source) Get(ctx context.Context, id string) (*jqlgate.Subscription, error) {
	if s.GetFn != nil {
		return s.GetFn(ctx, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[id]; sub != nil {
		return sub, nil
	}
	return nil, jqlgate.Errorf(jqlgate.ENOTFOUND, "no subscription %s", id)
}

func (s *source) Version(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, nil
}

// received is one request a test receiver got.
type received struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// receiver is an httptest server that records requests and answers with
// respond (200 when nil).
type receiver struct {
	*httptest.Server
	reqs    chan received
	respond func(n int, w http.ResponseWriter, r *http.Request)
	mu      sync.Mutex
	n       int
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{reqs: make(chan received, 1000), respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.n++
		n := rc.n
		rc.mu.Unlock()
		rc.reqs <- received{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: body}
		if rc.respond != nil {
			rc.respond(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// next waits for the next request.
func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.reqs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("receiver got no request within 10s")
		return received{}
	}
}

// env is a started dispatcher on a fresh store.
type env struct {
	d     *dispatcher.Dispatcher
	store *mongodb.DeliveryStore
	src   *source
}

var loopback = jqlgate.AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

// start runs a dispatcher over src on a fresh database; cfg's zero fields
// get test defaults.
func start(t *testing.T, src *source, cfg dispatcher.Config) *env {
	t.Helper()
	store := mongodb.NewDeliveryStore(mongotest.New(t))
	if err := store.EnsureIndexes(context.Background()); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	return startOn(t, store, src, cfg)
}

func startOn(t *testing.T, store *mongodb.DeliveryStore, src *source, cfg dispatcher.Config) *env {
	t.Helper()
	cfg.Store, cfg.Source = store, src
	if cfg.Policy.Allow == nil {
		cfg.Policy = loopback
	}
	if cfg.Node == "" {
		cfg.Node = "test-node"
	}
	if cfg.Rand == nil {
		cfg.Rand = func() float64 { return 0.5 }
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	cfg.Tick = 50 * time.Millisecond
	cfg.Version = "test"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	d := dispatcher.New(cfg)
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Close(ctx)
		_ = store.Close(ctx)
	})
	return &env{d: d, store: store, src: src}
}

// sub returns an enabled JSON subscription to url with one secret.
func sub(id, trigger, url string) *jqlgate.Subscription {
	return &jqlgate.Subscription{ID: id, Trigger: trigger, WebhookURL: url, Method: "POST",
		ContentType: "application/json", IncludeEntity: true, Enabled: true,
		Secrets:   []jqlgate.Secret{{Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		UpdatedAt: time.Now()}
}

func event(typ, entity string, data map[string]any) *jqlgate.Event {
	return &jqlgate.Event{Type: typ, EntityID: entity, Data: data}
}

// waitAttempts polls the store until pred holds for the recorded attempts.
func (e *env) waitAttempts(t *testing.T, pred func([]*jqlgate.Attempt) bool) []*jqlgate.Attempt {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		as, err := e.store.AttemptsSince(context.Background(), "test-node", time.Time{})
		if err != nil {
			t.Fatalf("AttemptsSince: %v", err)
		}
		if pred(as) {
			return as
		}
		if time.Now().After(deadline) {
			t.Fatalf("attempts never matched; last: %+v", statuses(as))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statuses(as []*jqlgate.Attempt) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Status + ":" + a.Error
	}
	return out
}

func publish(t *testing.T, e *env, evs ...*jqlgate.Event) {
	t.Helper()
	if err := e.d.Publish(context.Background(), evs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}
