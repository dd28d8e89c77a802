// Package dispatcher fans events out to the webhook subscriptions that
// match them and delivers each one, signed, retried and recorded.
//
// The hot path is insert-only, the cheapest write on both stores: an
// accepted event is inserted once with the ids of the subscriptions it goes
// to (concurrent publishers share one batched insert, or it is stored in a
// record write's own transaction through Outbox), and every attempt is
// inserted as its own record; the terminal one (Done or Failed) finishes the
// delivery. Pending deliveries live in memory. Each
// process checkpoints a watermark (the acceptance time of its oldest
// unfinished event) in a tiny nodes collection; after a crash it reads its
// events from the watermark on, and the attempts made since, and resumes
// every delivery that had not finished.
package dispatcher

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jqlgate/jqlgate"
)

// Config are a Dispatcher's collaborators and settings. Store and Source
// are required.
type Config struct {
	Store  Store
	Source Source
	// Owners says whether each subscription's owner still exists and may
	// read its events; nil delivers to every enabled subscription.
	Owners Owners
	// Sites gives the trusted sites subscriptions use; nil fails the
	// deliveries of subscriptions that name one.
	Sites SiteSource
	// Disabler turns off subscriptions whose receiver answered 410; nil
	// leaves them enabled (the delivery still fails).
	Disabler Disabler
	// Counter counts subscriptions by state for the metrics; nil exports
	// no subscriptions gauge.
	Counter SubscriptionCounter
	// Node names this process in the store; it must stay the same across
	// restarts for recovery to find its events.
	Node string
	// Policy decides which receiver addresses are reachable.
	Policy jqlgate.AddrPolicy
	// Resolve resolves receiver host names; nil uses the system resolver.
	Resolve ResolveFunc
	// Transport replaces the guarded receiver transport (tests only).
	Transport http.RoundTripper
	// Workers is the number of concurrent attempts (default 64).
	Workers int
	// MaxPerOwner bounds the attempts in flight for the subscriptions of
	// one owner, and MaxPerHost those to one receiver host, so that slow
	// or hanging receivers of one owner or host leave workers for the
	// others. Zero means the default: a quarter of Workers per owner and
	// half of Workers per host (at least 1); negative means no bound.
	MaxPerOwner int
	MaxPerHost  int
	// Version goes into the User-Agent, "jqlgate/<version>".
	Version string
	// PublicURL is the base URL where records can be read; when set, each
	// webhook carries the record's entityUrl (see EntityURL).
	PublicURL string
	// Registry receives the dispatcher's metrics; nil registers none.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Now and Rand (in [0,1), for retry jitter) default to the real ones.
	Now  func() time.Time
	Rand func() float64
	// Tick is how often the node checkpoints and polls the subscription
	// version (default 1 s).
	Tick time.Duration
	// RetryHorizon: a retry due later than this leaves memory and stays
	// only in the store until it is nearly due (default 2 min; negative
	// keeps every retry in memory).
	RetryHorizon time.Duration
	// TakeoverAfter: a node whose heartbeat is older than this is adopted
	// by a live one, which continues its deliveries (default 30 s;
	// negative never adopts).
	TakeoverAfter time.Duration
	// LoadEvery is how often retries coming due are loaded from the store
	// (default a quarter of RetryHorizon).
	LoadEvery time.Duration
	// DisableAfterFailures: a subscription whose deliveries fail after
	// every retry this many times in a row is disabled (default 10;
	// negative never).
	DisableAfterFailures int
	// DisableAfter: a subscription whose deliveries have kept failing,
	// with no delivery Done, for this long is disabled (default 5 days;
	// negative never).
	DisableAfter time.Duration
}

// Dispatcher accepts events and delivers them to webhooks.
type Dispatcher struct {
	cfg Config
	log *slog.Logger
	// clients reach receivers and their token endpoints; the public ones,
	// for subscriptions marked PublicOnly, refuse the addresses only the
	// policy's Allow list makes reachable.
	client, publicClient           *http.Client
	tokenClient, publicTokenClient *http.Client
	idx                            *index
	q                              *queue
	track                          *tracker
	metrics                        *metrics
	health                         *health
	reloadMu                       sync.Mutex
	sites                          siteCache // trusted sites in use (see sites.go)
	// parked are the deliveries of disabled subscriptions, by
	// subscription, waiting to be enabled again (see park.go).
	parkMu sync.Mutex
	parked map[string][]*delivery
	// pubMu makes sequence numbers and ordered lines agree.
	pubMu sync.Mutex
	// frontier: retries due before it are loaded into memory, later ones
	// stay in the store. It only moves forward, under frontierMu.
	frontierMu sync.RWMutex
	frontier   time.Time
	// epoch is this process's claim on its node; checkpoints are
	// conditional on it.
	epoch int64

	baseCtx context.Context // attempts derive their timeouts from it
	stopCh  chan struct{}
	// abandon is closed when Close's grace period ends: record writes
	// still waiting for the store give up.
	abandon     chan struct{}
	abandonOnce sync.Once
	wg          sync.WaitGroup // background goroutines
	// records are attempt records being written; recordSem bounds them.
	records   sync.WaitGroup
	recordSem chan struct{}

	gate     sync.RWMutex // held shared by publishers, exclusively by Close
	closed   bool
	fenced   bool // another process claimed this node
	started  bool
	stopOnce sync.Once
}

// New returns a dispatcher; call Start to begin delivering.
func New(cfg Config) *Dispatcher {
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.MaxPerOwner == 0 {
		cfg.MaxPerOwner = max(1, cfg.Workers/4)
	}
	if cfg.MaxPerHost == 0 {
		cfg.MaxPerHost = max(1, cfg.Workers/2)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.RetryHorizon == 0 {
		cfg.RetryHorizon = 2 * time.Minute
	}
	if cfg.TakeoverAfter == 0 {
		cfg.TakeoverAfter = 30 * time.Second
	}
	if cfg.LoadEvery <= 0 {
		cfg.LoadEvery = max(cfg.RetryHorizon/4, 10*time.Millisecond)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DisableAfterFailures == 0 {
		cfg.DisableAfterFailures = defaultDisableAfterFailures
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = defaultDisableAfter
	}
	if cfg.Node == "" {
		cfg.Node = "node"
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	d := &Dispatcher{cfg: cfg, log: cfg.Logger.With("component", "dispatcher"), idx: newIndex(),
		track: newTracker(cfg.Now), stopCh: make(chan struct{}), abandon: make(chan struct{}), baseCtx: context.Background(),
		recordSem: make(chan struct{}, maxRecording), parked: map[string][]*delivery{},
		health: newHealth(cfg.DisableAfterFailures, cfg.DisableAfter)}
	transport, public := cfg.Transport, cfg.Transport
	if transport == nil {
		transport = newTransport(cfg.Policy, cfg.Resolve)
		public = newTransport(cfg.Policy.Public(), cfg.Resolve)
	}
	d.client, d.publicClient = newClient(transport), newClient(public)
	d.tokenClient = &http.Client{Transport: transport, Timeout: defaultTimeout, CheckRedirect: d.client.CheckRedirect}
	d.publicTokenClient = &http.Client{Transport: public, Timeout: defaultTimeout, CheckRedirect: d.client.CheckRedirect}
	d.q = newQueue(cfg.Now, d.limits, cfg.MaxPerOwner, cfg.MaxPerHost)
	d.metrics = newMetrics(cfg.Registry, d)
	return d
}

// Node returns the name this dispatcher checkpoints under.
func (d *Dispatcher) Node() string { return d.cfg.Node }

func (d *Dispatcher) limits(subID string) limits {
	if t := d.idx.get(subID); t != nil {
		return limits{maxInFlight: t.maxInFlight, owner: t.sub.Owner, host: t.host}
	}
	return limits{maxInFlight: defaultMaxInFlight}
}

// fanDeliveries returns the deliveries of fans, one per target.
func (d *Dispatcher) fanDeliveries(fans []*jqlgate.Fanout) []*delivery {
	var dels []*delivery
	for _, f := range fans {
		for _, sub := range f.Targets {
			dels = append(dels, d.newDelivery(f, sub))
		}
	}
	return dels
}

// newDelivery returns f's first delivery to subscription sub.
func (d *Dispatcher) newDelivery(f *jqlgate.Fanout, sub string) *delivery {
	t := d.idx.get(sub)
	return &delivery{id: DeliveryID(f.Event.ID, sub), fan: f, subID: sub, attempt: 1, due: f.Accepted,
		heapIdx: -1, seq: f.Seq, ordered: t != nil && t.sub.Ordered}
}

// maxRecording bounds the attempt records being written at once.
const maxRecording = 1024

// errClosed answers publishers once the dispatcher is closing.
var errClosed = &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The server is shutting down.", RetryAfter: time.Second}

// Publish makes events durable, each with the subscriptions it fans out to,
// and returns once they are; delivery follows. Concurrent publishers share
// one batched insert. Events without an ID or Timestamp get them.
func (d *Dispatcher) Publish(ctx context.Context, events ...*jqlgate.Event) error {
	return d.publish(ctx, nil, events)
}

// publish is Publish; a non-nil owner limits the targets to that owner's
// subscriptions.
func (d *Dispatcher) publish(ctx context.Context, owner *string, events []*jqlgate.Event) error {
	if len(events) == 0 {
		return nil
	}
	d.gate.RLock()
	defer d.gate.RUnlock()
	if d.closed {
		return errClosed
	}
	if err := d.ensureIndex(ctx); err != nil {
		return err
	}
	fans, dels := d.stage(events, owner)
	err := d.cfg.Store.InsertEvents(ctx, fans)
	d.settle(fans, dels, err)
	return err
}

// stage fans events out to the subscriptions that match them (limited to
// owner's when owner is not nil), stamps their acceptance and sequence and
// reserves their ordered deliveries' places, before the events are
// stored. settle must follow with the outcome of storing them.
func (d *Dispatcher) stage(events []*jqlgate.Event, owner *string) ([]*jqlgate.Fanout, []*delivery) {
	fans := make([]*jqlgate.Fanout, len(events))
	for i, ev := range events {
		if ev.ID == "" {
			ev.ID = jqlgate.NewID("evt")
		}
		if ev.Timestamp.IsZero() {
			ev.Timestamp = d.cfg.Now().UTC()
		}
		fans[i] = &jqlgate.Fanout{Event: ev, Targets: d.idx.match(ev, owner), Node: d.cfg.Node}
	}
	dels := d.fanDeliveries(fans)
	d.pubMu.Lock()
	d.track.hold(fans)
	for _, dl := range dels {
		dl.seq, dl.due = dl.fan.Seq, dl.fan.Accepted
	}
	d.q.reserve(dels)
	d.pubMu.Unlock()
	return fans, dels
}

// settle schedules staged deliveries once their events are durable (err
// nil), or forgets them when storing the events failed.
func (d *Dispatcher) settle(fans []*jqlgate.Fanout, dels []*delivery, err error) {
	if err != nil {
		for _, dl := range dels {
			d.q.advance(dl)
		}
		d.track.drop(fans)
		return
	}
	d.metrics.accepted.Add(float64(len(fans)))
	for _, dl := range dels {
		d.q.push(dl)
	}
	d.track.release(fans)
}
