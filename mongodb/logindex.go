package mongodb

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// The embedded store (FerretDB v1.24 on SQLite) pushes only an equality
// filter on _id down to SQLite: every other find reads and decodes the
// whole collection, and sorts in Go (a {$natural: -1} sort on a capped
// collection too: it is ordered in SQL but still consumed whole, so a
// filtered newest-first page costs a full scan all the same). With 10,000
// attempts one page of a log took seconds.
//
// So on the embedded store the operator views (logs, queue, retries) read
// a logIndex: an in-process index of the slim attempts (no headers or
// bodies) and events (no data) of one database, loaded from the store once
// (the first read, or Preload at start) and then kept by the hooks of the
// writers of this package: the batched inserts (after they are durable),
// test attempts, and the retention sweeper's deletes. A page is picked,
// filtered and counted in memory, and only its documents are read from the
// store, each by _id.
//
// The embedded store belongs to the process that started it (it listens
// on a private loopback port), so every write to it goes through these
// hooks. A process that talks to a store it did not start (MONGODB_URI,
// even when that is a FerretDB) has no index and reads the store.

// maxIndexed bounds the attempts an index holds (about 300 bytes each);
// past it the index turns itself off and the views read the store.
var maxIndexed = 500_000

// bodyBudget bounds the bytes of headers and bodies an index keeps, of the
// attempts recorded last: the embedded store finds even one document by
// _id with a scan of its table in SQLite (its _id index is not used: tens
// of milliseconds at 10,000 attempts), so the newest pages come whole
// from memory and only older attempts are read from the store.
var bodyBudget = 64 << 20

// indexKey names one database of one client.
type indexKey struct {
	client *mongo.Client
	name   string
}

var (
	embeddedClients sync.Map // *mongo.Client → struct{}: clients of embedded stores
	logIndexes      sync.Map // indexKey → *logIndex
)

// indexFor returns the log index of db, nil unless db is on an embedded
// store this process started.
func indexFor(db *mongo.Database) *logIndex {
	if _, ok := embeddedClients.Load(db.Client()); !ok {
		return nil
	}
	v, _ := logIndexes.LoadOrStore(indexKey{db.Client(), db.Name()}, &logIndex{})
	return v.(*logIndex)
}

// forgetClient drops the indexes of a client's databases.
func forgetClient(c *mongo.Client) {
	embeddedClients.Delete(c)
	logIndexes.Range(func(k, _ any) bool {
		if k.(indexKey).client == c {
			logIndexes.Delete(k)
		}
		return true
	})
}

// logIndex is the in-process index of one database's attempts and events.
type logIndex struct {
	load sync.Mutex // one load at a time

	mu sync.RWMutex
	// started: the hooks record writes (a load is under way or done);
	// ready: the index holds every attempt and event; off: it grew past
	// maxIndexed and is no longer kept.
	started, ready, off bool
	// gen counts the invalidations, so a load that one overtook is not
	// taken as complete.
	gen        int
	atts       []*jqlgate.Attempt // by (CreatedAt, ID)
	byID       map[string]*jqlgate.Attempt
	byDelivery map[string][]*jqlgate.Attempt
	// latest is the latest attempt (test attempts aside) at each
	// delivery, by event and subscription: what the queue asks.
	latest map[[2]string]*jqlgate.Attempt
	evs    []*eventDoc // by (Accepted, ID)
	evByID map[string]*eventDoc
	// full holds the newest attempts whole, up to bodyBudget bytes of
	// headers and bodies; fifo is the order they came in, for eviction.
	full      map[string]*jqlgate.Attempt
	fifo      []string
	fullBytes int
	// gone holds the ids deleted while a load runs, which the load must
	// not bring back.
	gone map[string]bool
}

// ensure loads the index from the store unless it is loaded, and reports
// whether it can answer.
func (x *logIndex) ensure(ctx context.Context, attempts, events *mongo.Collection) bool {
	if x == nil {
		return false
	}
	x.mu.RLock()
	ready, off := x.ready, x.off
	x.mu.RUnlock()
	if ready || off {
		return ready
	}
	x.load.Lock()
	defer x.load.Unlock()
	x.mu.Lock()
	if x.ready || x.off {
		x.mu.Unlock()
		return x.ready
	}
	x.reset()
	x.started = true
	gen := x.gen
	x.mu.Unlock()
	err := x.fill(ctx, attempts, events)
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case x.off || x.gen != gen:
	case err != nil:
		x.started = false
	default:
		x.ready, x.gone = true, nil
	}
	return x.ready
}

func (x *logIndex) reset() {
	x.atts, x.byID, x.byDelivery = nil, map[string]*jqlgate.Attempt{}, map[string][]*jqlgate.Attempt{}
	x.latest = map[[2]string]*jqlgate.Attempt{}
	x.evs, x.evByID = nil, map[string]*eventDoc{}
	x.full, x.fifo, x.fullBytes = map[string]*jqlgate.Attempt{}, nil, 0
	x.gone = map[string]bool{}
}

// fill reads every attempt and event into the index.
func (x *logIndex) fill(ctx context.Context, attempts, events *mongo.Collection) error {
	cur, err := attempts.Find(Counted(ctx), bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		a, err := decodeAttempt(cur.Current)
		if err != nil {
			return err
		}
		x.mu.Lock()
		if !x.gone[a.ID] {
			x.addAttempt(a)
		}
		x.mu.Unlock()
	}
	if err := cur.Err(); err != nil {
		return err
	}
	ecur, err := events.Find(Counted(ctx), bson.D{}, options.Find().SetProjection(bson.D{{Key: "data", Value: 0}}).SetBatchSize(1000))
	if err != nil {
		return err
	}
	defer ecur.Close(ctx)
	for ecur.Next(ctx) {
		var ev eventDoc
		if err := ecur.Decode(&ev); err != nil {
			return err
		}
		x.mu.Lock()
		if !x.gone[ev.ID] {
			x.addEvent(&ev)
		}
		x.mu.Unlock()
	}
	return ecur.Err()
}

// slim returns a copy of a without its headers and bodies.
func slim(a *jqlgate.Attempt) *jqlgate.Attempt {
	c := *a
	c.RequestHeaders, c.RequestBody, c.ResponseHeaders, c.ResponseBody = nil, "", nil, ""
	c.CreatedAt, c.NextAttemptAt = storedTime(c.CreatedAt), storedTime(c.NextAttemptAt)
	return &c
}

// storedTime is t as the store keeps it: UTC, to the millisecond.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Millisecond).UTC()
}

// cloneHeaders copies h, nil when empty (as the store returns it).
func cloneHeaders(h map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	return maps.Clone(h)
}

// addAttempt indexes a (x.mu held).
func (x *logIndex) addAttempt(a *jqlgate.Attempt) {
	if _, dup := x.byID[a.ID]; dup || x.off {
		return
	}
	if len(x.atts) >= maxIndexed {
		x.turnOff()
		return
	}
	whole := a
	a = slim(a)
	if n := len(x.atts); n > 0 && attemptLess(a, x.atts[n-1]) {
		// Recorded late: near the end, as a rule.
		i, _ := slices.BinarySearchFunc(x.atts, a, compareAttempts)
		x.atts = slices.Insert(x.atts, i, a)
	} else {
		x.atts = append(x.atts, a)
	}
	x.byID[a.ID] = a
	x.byDelivery[a.DeliveryID] = append(x.byDelivery[a.DeliveryID], a)
	if k := [2]string{a.EventID, a.SubscriptionID}; !a.Test && later(a, x.latest[k]) {
		x.latest[k] = a
	}
	x.keepWhole(a, whole)
}

// keepWhole keeps a copy of the whole attempt, evicting the oldest kept
// ones past bodyBudget (x.mu held).
func (x *logIndex) keepWhole(s, whole *jqlgate.Attempt) {
	c := *whole
	c.CreatedAt, c.NextAttemptAt = s.CreatedAt, s.NextAttemptAt
	c.Duration = time.Duration(float64(c.Duration) / float64(time.Millisecond) * float64(time.Millisecond)) // as read back
	c.RequestHeaders, c.ResponseHeaders = cloneHeaders(c.RequestHeaders), cloneHeaders(c.ResponseHeaders)
	x.full[c.ID] = &c
	x.fifo = append(x.fifo, c.ID)
	x.fullBytes += wholeSize(&c)
	for x.fullBytes > bodyBudget && len(x.fifo) > 0 {
		id := x.fifo[0]
		x.fifo = x.fifo[1:]
		if a, ok := x.full[id]; ok {
			x.fullBytes -= wholeSize(a)
			delete(x.full, id)
		}
	}
}

// wholeSize is about what the headers and bodies of a take in memory.
func wholeSize(a *jqlgate.Attempt) int {
	n := len(a.RequestBody) + len(a.ResponseBody) + 64
	for _, h := range []map[string]string{a.RequestHeaders, a.ResponseHeaders} {
		for k, v := range h {
			n += len(k) + len(v) + 32
		}
	}
	return n
}

// addEvent indexes ev without its data (x.mu held). An event that goes
// to no subscription (most of them) is left out: only pending reads the
// events, through their targets. Past maxIndexed events the index turns
// itself off, as with attempts.
func (x *logIndex) addEvent(ev *eventDoc) {
	if _, dup := x.evByID[ev.ID]; dup || x.off || len(ev.Targets) == 0 {
		return
	}
	if len(x.evs) >= maxIndexed {
		x.turnOff()
		return
	}
	e := *ev
	e.Data, e.Accepted, e.Timestamp = nil, storedTime(e.Accepted), storedTime(e.Timestamp)
	if n := len(x.evs); n > 0 && eventLess(&e, x.evs[n-1]) {
		i, _ := slices.BinarySearchFunc(x.evs, &e, func(a, b *eventDoc) int {
			if eventLess(a, b) {
				return -1
			}
			return 1
		})
		x.evs = slices.Insert(x.evs, i, &e)
	} else {
		x.evs = append(x.evs, &e)
	}
	x.evByID[e.ID] = &e
}

// turnOff stops keeping the index (x.mu held).
func (x *logIndex) turnOff() {
	x.reset()
	x.off, x.ready, x.started = true, false, false
}

func attemptLess(a, b *jqlgate.Attempt) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

func eventLess(a, b *eventDoc) bool {
	if c := a.Accepted.Compare(b.Accepted); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

func compareAttempts(a, b *jqlgate.Attempt) int {
	if attemptLess(a, b) {
		return -1
	}
	return 1
}

// Hooks of the writers: the store has the documents (or no longer has
// them). A failed write may leave some of a batch in the store and some
// not, so it makes the index load again; but a conflict means the document
// is there (under that _id), so the batch is indexed.

func (x *logIndex) insertedAttempts(as []*jqlgate.Attempt, err error) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.started {
		return
	}
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		x.invalidate()
		return
	}
	for _, a := range as {
		x.addAttempt(a)
	}
}

func (x *logIndex) insertedEvents(fans []*jqlgate.Fanout, err error) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.started {
		return
	}
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		x.invalidate()
		return
	}
	for _, f := range fans {
		ev := toEventDoc(f)
		x.addEvent(&ev)
	}
}

// invalidate drops the index; the next read loads it again (x.mu held).
func (x *logIndex) invalidate() {
	if !x.off {
		x.reset()
		x.started, x.ready = false, false
		x.gen++
	}
}

// deleted drops documents the store deleted (ids of attempts or events);
// after a failed delete, which may have deleted some, it drops the index.
func (x *logIndex) deleted(ids []any, err error) {
	if x == nil || len(ids) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.started {
		return
	}
	if err != nil {
		x.invalidate()
		return
	}
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		if s, ok := id.(string); ok {
			drop[s] = true
			if !x.ready {
				x.gone[s] = true
			}
		}
	}
	var hit, evHit bool
	for id := range drop {
		if w, ok := x.full[id]; ok {
			x.fullBytes -= wholeSize(w)
			delete(x.full, id)
		}
		if a, ok := x.byID[id]; ok {
			hit = true
			delete(x.byID, id)
			rest := slices.DeleteFunc(x.byDelivery[a.DeliveryID], func(b *jqlgate.Attempt) bool { return b.ID == id })
			if len(rest) == 0 {
				delete(x.byDelivery, a.DeliveryID)
			} else {
				x.byDelivery[a.DeliveryID] = rest
			}
			if k := [2]string{a.EventID, a.SubscriptionID}; x.latest[k] == a {
				delete(x.latest, k)
				for _, b := range rest {
					if !b.Test && b.EventID == a.EventID && b.SubscriptionID == a.SubscriptionID && later(b, x.latest[k]) {
						x.latest[k] = b
					}
				}
			}
		}
		if _, ok := x.evByID[id]; ok {
			evHit = true
			delete(x.evByID, id)
		}
	}
	if hit {
		x.atts = slices.DeleteFunc(x.atts, func(a *jqlgate.Attempt) bool { return drop[a.ID] })
	}
	// The eviction queue still names the attempts deleted above; below the
	// body budget nothing takes them out, so it is compacted here.
	if len(x.fifo) > 2*len(x.full) {
		x.fifo = slices.DeleteFunc(slices.Clone(x.fifo), func(id string) bool { _, ok := x.full[id]; return !ok })
	}
	if evHit {
		x.evs = slices.DeleteFunc(x.evs, func(e *eventDoc) bool { return drop[e.ID] })
	}
}

// attemptMatcher returns the test of an attempt against aq (what
// attemptFilter asks the store).
func attemptMatcher(aq jqlgate.AttemptQuery) func(*jqlgate.Attempt) bool {
	var subs map[string]bool
	if aq.SubscriptionID == "" && !aq.AllSubscriptions {
		subs = make(map[string]bool, len(aq.SubscriptionIDs))
		for _, id := range aq.SubscriptionIDs {
			subs[id] = true
		}
	}
	return func(a *jqlgate.Attempt) bool {
		switch {
		case aq.SubscriptionID != "" && a.SubscriptionID != aq.SubscriptionID,
			subs != nil && !subs[a.SubscriptionID],
			len(aq.Statuses) > 0 && !slices.Contains(aq.Statuses, a.Status),
			aq.Event != "" && a.Event != aq.Event,
			aq.EventID != "" && a.EventID != aq.EventID,
			aq.DeliveryID != "" && a.DeliveryID != aq.DeliveryID,
			aq.EntityID != "" && a.EntityID != aq.EntityID,
			!aq.Since.IsZero() && a.CreatedAt.Before(aq.Since),
			!aq.Until.IsZero() && !a.CreatedAt.Before(aq.Until):
			return false
		}
		return true
	}
}

// page returns copies of the attempts aq selects, newest first, from its
// offset up to its limit, and how many it selects in all.
func (x *logIndex) page(aq jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int) {
	match := attemptMatcher(aq)
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []*jqlgate.Attempt
	total := 0
	for i := len(x.atts) - 1; i >= 0; i-- {
		a := x.atts[i]
		if !aq.Since.IsZero() && a.CreatedAt.Before(aq.Since) {
			break // older ones are older still
		}
		if !match(a) {
			continue
		}
		if total >= aq.Offset && len(out) < aq.Limit {
			c := *a
			out = append(out, &c)
		}
		total++
	}
	return out, total
}

// selected returns copies of the attempts match keeps, oldest first.
func (x *logIndex) selected(since time.Time, match func(*jqlgate.Attempt) bool) []*jqlgate.Attempt {
	x.mu.RLock()
	defer x.mu.RUnlock()
	start, _ := slices.BinarySearchFunc(x.atts, since, func(a *jqlgate.Attempt, t time.Time) int { return a.CreatedAt.Compare(t) })
	var out []*jqlgate.Attempt
	for _, a := range x.atts[start:] {
		if match(a) {
			c := *a
			out = append(out, &c)
		}
	}
	return out
}

// ofDeliveries returns copies of the attempts at the deliveries ids.
func (x *logIndex) ofDeliveries(ids []string) []*jqlgate.Attempt {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []*jqlgate.Attempt
	for _, id := range ids {
		for _, a := range x.byDelivery[id] {
			c := *a
			out = append(out, &c)
		}
	}
	return out
}

// later reports whether a is a later attempt at its delivery than b (or b
// is nil), as latestByDelivery has it.
func later(a, b *jqlgate.Attempt) bool {
	return b == nil || a.Attempt > b.Attempt || a.Attempt == b.Attempt && a.CreatedAt.After(b.CreatedAt)
}

// pending returns the unfinished deliveries of the events accepted at or
// after since to any of subIDs (every subscription when all), newest event
// first, and marks each delivery it looked at in seen.
func (x *logIndex) pending(subIDs []string, all bool, since time.Time, seen map[[2]string]bool) []*jqlgate.PendingDelivery {
	want := make(map[string]bool, len(subIDs))
	for _, id := range subIDs {
		want[id] = true
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []*jqlgate.PendingDelivery
	for i := len(x.evs) - 1; i >= 0 && !x.evs[i].Accepted.Before(since); i-- {
		ev := x.evs[i]
		for _, sub := range ev.Targets {
			k := [2]string{ev.ID, sub}
			if !all && !want[sub] || seen[k] {
				continue
			}
			seen[k] = true
			if p := pendingOf(ev, sub, x.latest[k]); p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// whole returns the attempts of page whole: copies of those the index
// keeps whole, the others read from coll by _id, a few at a time (an
// attempt deleted meanwhile keeps its slim copy).
func (x *logIndex) whole(ctx context.Context, coll *mongo.Collection, page []*jqlgate.Attempt) ([]*jqlgate.Attempt, error) {
	out := make([]*jqlgate.Attempt, len(page))
	x.mu.RLock()
	for i, a := range page {
		if w, ok := x.full[a.ID]; ok {
			c := *w
			out[i] = &c
		}
	}
	x.mu.RUnlock()
	errs := make([]error, len(page))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, a := range page {
		if out[i] != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			raw, err := coll.FindOne(Counted(ctx), bson.D{{Key: "_id", Value: a.ID}}).Raw()
			switch {
			case err == mongo.ErrNoDocuments:
				out[i] = a
			case err != nil:
				errs[i] = translate("find attempt", err)
			default:
				if out[i], err = decodeAttempt(raw); err != nil {
					errs[i] = jqlgate.Internal("find attempt", err)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
