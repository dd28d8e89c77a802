package mongodb

import (
	"context"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// DeliveryStore keeps the dispatcher's state insert-only: accepted events
// (with the subscriptions they fan out to) in "events", one document per
// delivery attempt in "attempts", and a small "nodes" collection with one
// checkpoint per dispatcher process. Only the nodes documents are ever
// updated, and that collection stays tiny.
type DeliveryStore struct {
	events   *mongo.Collection
	attempts *mongo.Collection
	nodes    *mongo.Collection

	eventBatch   *Batcher
	attemptBatch *Batcher
}

// NewDeliveryStore returns the delivery store in db. Its inserts are group
// committed; call Close to flush them.
func NewDeliveryStore(db *mongo.Database) *DeliveryStore {
	s := &DeliveryStore{
		events:   db.Collection("events"),
		attempts: db.Collection("attempts"),
		nodes:    db.Collection("nodes"),
	}
	s.eventBatch = NewBatcher(s.events, BatcherOptions{})
	s.attemptBatch = NewBatcher(s.attempts, BatcherOptions{})
	return s
}

// EnsureIndexes creates the indexes recovery and the log views use.
func (s *DeliveryStore) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		{s.events, bson.D{{Key: "node", Value: 1}, {Key: "ts", Value: 1}}},
		{s.events, bson.D{{Key: "ts", Value: -1}}},
		{s.attempts, bson.D{{Key: "node", Value: 1}, {Key: "created_at", Value: 1}}},
		{s.attempts, bson.D{{Key: "delivery_id", Value: 1}}},
		{s.attempts, bson.D{{Key: "node", Value: 1}, {Key: "next_attempt_at", Value: 1}}},
		{s.attempts, bson.D{{Key: "subscription_id", Value: 1}, {Key: "created_at", Value: -1}}},
	}
	for _, sp := range specs {
		if err := EnsureIndexes(ctx, sp.coll, "create delivery indexes", mongo.IndexModel{Keys: sp.keys}); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes pending inserts.
func (s *DeliveryStore) Close(ctx context.Context) error {
	err := s.eventBatch.Close(ctx)
	if aerr := s.attemptBatch.Close(ctx); err == nil {
		err = aerr
	}
	return err
}

type eventDoc struct {
	ID        string         `bson:"_id"`
	Type      string         `bson:"type"`
	EntityID  string         `bson:"entity_id,omitempty"`
	Data      map[string]any `bson:"data,omitempty"`
	Changed   []string       `bson:"changed,omitempty"`
	Timestamp time.Time      `bson:"timestamp"`
	Accepted  time.Time      `bson:"ts"`
	Targets   []string       `bson:"targets"`
	Node      string         `bson:"node"`
	Seq       int64          `bson:"seq,omitempty"`
}

func toEventDoc(f *jqlgate.Fanout) eventDoc {
	ev := f.Event
	targets := f.Targets
	if targets == nil {
		targets = []string{}
	}
	return eventDoc{ID: ev.ID, Type: ev.Type, EntityID: ev.EntityID, Data: ev.Data, Changed: ev.Changed,
		Timestamp: ev.Timestamp, Accepted: f.Accepted, Targets: targets, Node: f.Node, Seq: f.Seq}
}

func (d *eventDoc) fanout() *jqlgate.Fanout {
	return &jqlgate.Fanout{
		Event:   &jqlgate.Event{ID: d.ID, Type: d.Type, EntityID: d.EntityID, Data: d.Data, Changed: d.Changed, Timestamp: d.Timestamp.UTC()},
		Targets: d.Targets, Node: d.Node, Accepted: d.Accepted.UTC(), Seq: d.Seq,
	}
}

// InsertEvents stores accepted events and returns once they are durable.
// Concurrent callers share one batched insert.
func (s *DeliveryStore) InsertEvents(ctx context.Context, fans []*jqlgate.Fanout) error {
	docs := make([]any, len(fans))
	for i, f := range fans {
		docs[i] = toEventDoc(f)
	}
	return s.eventBatch.InsertMany(ctx, docs)
}

// EventsSince returns node's events accepted at or after since, oldest
// first. It first finishes the record writes node left in flight (see
// intent.go): the dispatcher reads a node's events only when the node has
// no write in flight, as it starts or once it adopted the node.
func (s *DeliveryStore) EventsSince(ctx context.Context, node string, since time.Time) ([]*jqlgate.Fanout, error) {
	if _, err := resolveIntents(ctx, s.events.Database(), node); err != nil {
		return nil, err
	}
	filter := bson.D{{Key: "node", Value: node}, {Key: "ts", Value: bson.D{{Key: "$gte", Value: since}}}}
	cur, err := s.events.Find(Counted(ctx), filter, options.Find().SetSort(bson.D{{Key: "ts", Value: 1}, {Key: "seq", Value: 1}}))
	if err != nil {
		return nil, translate("find events", err)
	}
	var docs []eventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("find events", err)
	}
	out := make([]*jqlgate.Fanout, len(docs))
	for i := range docs {
		out[i] = docs[i].fanout()
	}
	return out, nil
}

type attemptDoc struct {
	ID             string            `bson:"_id"`
	DeliveryID     string            `bson:"delivery_id"`
	EventID        string            `bson:"event_id"`
	Event          string            `bson:"event"`
	Trigger        string            `bson:"trigger,omitempty"`
	EntityID       string            `bson:"entity_id,omitempty"`
	SubscriptionID string            `bson:"subscription_id"`
	Attempt        int               `bson:"attempt"`
	Status         string            `bson:"status"`
	URL            string            `bson:"url"`
	RequestHeaders map[string]string `bson:"request_headers,omitempty"`
	// Derived flags the request headers left out of RequestHeaders because
	// their values follow from the attempt's own fields (see
	// derivedHeaders); reading the document puts them back.
	Derived         int               `bson:"rh_derived,omitempty"`
	RequestBody     string            `bson:"request_body,omitempty"`
	ResponseCode    int               `bson:"response_code"`
	ResponseHeaders map[string]string `bson:"response_headers,omitempty"`
	ResponseBody    string            `bson:"response_body,omitempty"`
	Error           string            `bson:"error,omitempty"`
	DurationMS      float64           `bson:"duration_ms"`
	NextAttemptAt   time.Time         `bson:"next_attempt_at,omitzero"`
	CreatedAt       time.Time         `bson:"created_at"`
	Node            string            `bson:"node"`
}

// derivedHeaders are the request headers every delivery sends whose
// values are the attempt's own fields (dispatcher.setWebhookHeaders): an
// attempt document leaves out each one whose value is exactly what it
// derives to, and flags it by its bit in rh_derived. A header with any
// other value (a redacted custom header of the same name, say) is kept.
var derivedHeaders = [...]struct {
	name  string
	value func(a *jqlgate.Attempt) string
}{
	{"webhook-id", func(a *jqlgate.Attempt) string { return a.DeliveryID }},
	{"webhook-timestamp", func(a *jqlgate.Attempt) string {
		// As stored: a BSON date keeps milliseconds.
		return strconv.FormatInt(time.UnixMilli(a.CreatedAt.UnixMilli()).Unix(), 10)
	}},
	{"X-Webhook-Event", func(a *jqlgate.Attempt) string { return a.Event }},
	{"X-Webhook-Subscription", func(a *jqlgate.Attempt) string { return a.SubscriptionID }},
	{"X-Webhook-Trigger", func(a *jqlgate.Attempt) string { return a.Trigger }},
	{"X-Webhook-Entity-Id", func(a *jqlgate.Attempt) string { return a.EntityID }},
	{"X-Webhook-Attempt", func(a *jqlgate.Attempt) string { return strconv.Itoa(a.Attempt) }},
	{"Content-Type", func(*jqlgate.Attempt) string { return "application/json" }},
}

// storedHeaders returns a's request headers without the derivable ones,
// and the bits of those it left out. a's map is not changed (the caller
// keeps it).
func storedHeaders(a *jqlgate.Attempt) (map[string]string, int) {
	h := a.RequestHeaders
	bits, n := 0, len(h)
	for i, d := range derivedHeaders {
		if v, ok := h[d.name]; ok && v == d.value(a) {
			bits |= 1 << i
			n--
		}
	}
	if bits == 0 {
		return h, 0
	}
	out := make(map[string]string, n)
	for k, v := range h {
		out[k] = v
	}
	for i, d := range derivedHeaders {
		if bits&(1<<i) != 0 {
			delete(out, d.name)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out, bits
}

func toAttemptDoc(a *jqlgate.Attempt) attemptDoc {
	if a.ID == "" {
		a.ID = jqlgate.NewID("att")
	}
	headers, derived := storedHeaders(a)
	return attemptDoc{ID: a.ID, DeliveryID: a.DeliveryID, EventID: a.EventID, Event: a.Event, EntityID: a.EntityID, Trigger: a.Trigger,
		SubscriptionID: a.SubscriptionID, Attempt: a.Attempt, Status: a.Status, URL: a.URL,
		RequestHeaders: headers, Derived: derived, RequestBody: a.RequestBody, ResponseCode: a.ResponseCode,
		ResponseHeaders: a.ResponseHeaders, ResponseBody: a.ResponseBody, Error: a.Error,
		DurationMS: float64(a.Duration) / float64(time.Millisecond), NextAttemptAt: a.NextAttemptAt,
		CreatedAt: a.CreatedAt, Node: a.Node}
}

func (d *attemptDoc) attempt() *jqlgate.Attempt {
	a := &jqlgate.Attempt{ID: d.ID, DeliveryID: d.DeliveryID, EventID: d.EventID, Event: d.Event, EntityID: d.EntityID, Trigger: d.Trigger,
		SubscriptionID: d.SubscriptionID, Attempt: d.Attempt, Status: d.Status, URL: d.URL,
		RequestHeaders: d.RequestHeaders, RequestBody: d.RequestBody, ResponseCode: d.ResponseCode,
		ResponseHeaders: d.ResponseHeaders, ResponseBody: d.ResponseBody, Error: d.Error,
		Duration: time.Duration(d.DurationMS * float64(time.Millisecond)), CreatedAt: d.CreatedAt.UTC(), Node: d.Node}
	if !d.NextAttemptAt.IsZero() {
		a.NextAttemptAt = d.NextAttemptAt.UTC()
	}
	if d.Derived != 0 {
		h := make(map[string]string, len(d.RequestHeaders)+len(derivedHeaders))
		for k, v := range d.RequestHeaders {
			h[k] = v
		}
		for i, dh := range derivedHeaders {
			if d.Derived&(1<<i) != 0 {
				h[dh.name] = dh.value(a)
			}
		}
		a.RequestHeaders = h
	}
	return a
}

// InsertAttempts records delivery attempts and returns once they are
// durable. Concurrent callers share one batched insert. Attempts without an
// ID get one.
func (s *DeliveryStore) InsertAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error {
	docs := make([]any, len(attempts))
	for i, a := range attempts {
		docs[i] = toAttemptDoc(a)
	}
	return s.attemptBatch.InsertMany(ctx, docs)
}

// AttemptsSince returns the attempts at deliveries of node's events made at
// or after since. Every attempt at an event accepted at or after since is
// among them, because an attempt is never older than its event.
func (s *DeliveryStore) AttemptsSince(ctx context.Context, node string, since time.Time) ([]*jqlgate.Attempt, error) {
	filter := bson.D{{Key: "node", Value: node}, {Key: "created_at", Value: bson.D{{Key: "$gte", Value: since}}}}
	cur, err := s.attempts.Find(Counted(ctx), filter)
	if err != nil {
		return nil, translate("find attempts", err)
	}
	var docs []attemptDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("find attempts", err)
	}
	out := make([]*jqlgate.Attempt, len(docs))
	for i := range docs {
		out[i] = docs[i].attempt()
	}
	return out, nil
}

// Checkpoint is one dispatcher node's progress marker.
type Checkpoint struct {
	Node      string    `bson:"_id"`
	Heartbeat time.Time `bson:"heartbeat"`
	// Watermark is the acceptance time of the oldest event the node still
	// has unfinished deliveries for: recovery starts reading there.
	Watermark time.Time `bson:"watermark"`
	// Floor is the earliest next attempt time of the node's Resent
	// deliveries that only the store holds: recovery reads retries due
	// from there on.
	Floor time.Time `bson:"floor,omitzero"`
	// Owner is the node whose process delivers this node's deliveries:
	// itself, or the node that adopted it after it stopped heartbeating.
	Owner string `bson:"owner,omitempty"`
	// Epoch moves on with every claim; checkpoints are conditional on it.
	Epoch int64 `bson:"epoch,omitempty"`
}

// Heartbeat records that node is alive and how far its deliveries have
// progressed.
func (s *DeliveryStore) Heartbeat(ctx context.Context, node string, watermark time.Time) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "heartbeat", Value: time.Now().UTC()}, {Key: "watermark", Value: watermark.UTC()}}}}
	_, err := s.nodes.UpdateOne(Counted(ctx), bson.D{{Key: "_id", Value: node}}, update, options.UpdateOne().SetUpsert(true))
	return translate("heartbeat", err)
}

// Watermark returns node's last recorded watermark, or the zero time when
// the node has never checkpointed.
func (s *DeliveryStore) Watermark(ctx context.Context, node string) (time.Time, error) {
	cp, err := s.node(ctx, node)
	if err != nil || cp == nil {
		return time.Time{}, err
	}
	return cp.Watermark.UTC(), nil
}

// node returns node's checkpoint, nil if it has none.
func (s *DeliveryStore) node(ctx context.Context, node string) (*Checkpoint, error) {
	var cp Checkpoint
	err := s.nodes.FindOne(Counted(ctx), bson.D{{Key: "_id", Value: node}}).Decode(&cp)
	if err == mongo.ErrNoDocuments {
		return nil, nil
	}
	if err != nil {
		return nil, translate("find checkpoint", err)
	}
	return &cp, nil
}

// Nodes returns every node's checkpoint.
func (s *DeliveryStore) Nodes(ctx context.Context) ([]Checkpoint, error) {
	cur, err := s.nodes.Find(Counted(ctx), bson.D{})
	if err != nil {
		return nil, translate("find nodes", err)
	}
	var out []Checkpoint
	if err := cur.All(ctx, &out); err != nil {
		return nil, translate("find nodes", err)
	}
	return out, nil
}
