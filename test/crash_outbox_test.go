package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/test/mongotest"
)

// eventLedger is a webhook receiver that keeps every delivery: which
// subscription got which event (by event id), of which type, about which
// record, under which webhook-id.
type eventLedger struct {
	mu sync.Mutex
	// got[subscription path][event id] is the delivery of that event.
	got map[string]map[string]ledgerDelivery
	// mixed are the events one subscription got under two webhook-ids.
	mixed []string
	n     atomic.Int64
}

type ledgerDelivery struct {
	Event, Entity, WebhookID string
}

func newEventLedger() *eventLedger {
	return &eventLedger{got: map[string]map[string]ledgerDelivery{}}
}

func (l *eventLedger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		ID    string `json:"id"`
		Event string `json:"event"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.ID == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	d := ledgerDelivery{Event: body.Event, Entity: r.Header.Get("X-Webhook-Entity-Id"), WebhookID: r.Header.Get("webhook-id")}
	l.mu.Lock()
	sub := l.got[r.URL.Path]
	if sub == nil {
		sub = map[string]ledgerDelivery{}
		l.got[r.URL.Path] = sub
	}
	if prev, ok := sub[body.ID]; ok && prev.WebhookID != d.WebhookID {
		l.mixed = append(l.mixed, r.URL.Path+" "+body.ID)
	}
	sub[body.ID] = d
	l.mu.Unlock()
	l.n.Add(1)
	w.WriteHeader(http.StatusOK)
}

// events returns, for one subscription path, the delivered events of each
// entity by type: entity -> type -> distinct event ids.
func (l *eventLedger) events(path string) map[string]map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[string]int{}
	for _, d := range l.got[path] {
		if out[d.Entity] == nil {
			out[d.Entity] = map[string]int{}
		}
		out[d.Entity][d.Event]++
	}
	return out
}

// eventIDs returns the event ids one subscription path received.
func (l *eventLedger) eventIDs(path string) map[string]ledgerDelivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]ledgerDelivery, len(l.got[path]))
	for k, v := range l.got[path] {
		out[k] = v
	}
	return out
}

// mixedIDs returns the events delivered to one subscription under more
// than one webhook-id.
func (l *eventLedger) mixedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.mixed...)
}

// writeLog is what the clients know of their writes: acknowledged ones
// happened; attempted ones may have.
type writeLog struct {
	mu                         sync.Mutex
	created                    []string
	ackUpdates, triedUpdates   map[string]int
	ackDeleted, triedDeleted   map[string]bool
	acks, conflicts, otherErrs atomic.Int64
}

// TestCrashKill9MixedWritesKeepRecordsAndEvents kills serve with SIGKILL at
// random instants during a stream of concurrent creates, updates and
// deletes to three subscriptions, restarting it on the same data dir each
// time. Afterwards every record has exactly its events (one create, one
// delete if it is gone, an update event per update that happened), every
// acknowledged write was delivered to every subscription whose trigger it
// matches, and nothing was delivered that no write made.
func TestCrashKill9MixedWritesKeepRecordsAndEvents(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("kills the process that runs the embedded store")
	}
	if testing.Short() {
		t.Skip("kills serve under load 20 times")
	}
	dir := t.TempDir()
	crashMixedWrites(t, 20, func() *proc { return serveSync(t, dir, "full") })
}

// TestCrashKill9MixedWritesMongoDB is the same on the MongoDB store (the
// in-process test engine, or MONGODB_URI): serve is killed while the store
// lives on, and restarts as the same node.
func TestCrashKill9MixedWritesMongoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("kills serve under load 6 times")
	}
	uri, db, key := mongotest.URI(t), mongotest.New(t).Name(), newSecretKey(t)
	crashMixedWrites(t, 6, func() *proc { return serveOn(t, uri, db, "node-crash", key) })
}

// crashMixedWrites runs kills rounds of the mixed write stream against the
// serve that start starts, killing it with SIGKILL in each, and checks
// what the store and the receivers hold afterwards.
func crashMixedWrites(t *testing.T, kills int, start func() *proc) {
	l := newEventLedger()
	rcv := httptest.NewServer(l)
	defer rcv.Close()

	p := start()
	tok := p.token(adminID, adminSecret)
	subs := map[string][]string{ // receiver path -> the event types its trigger matches
		"/all":     {"profile.Customer:create", "profile.Customer:update", "profile.Customer:delete"},
		"/creates": {"profile.Customer:create"},
		"/changes": {"profile.Customer:update", "profile.Customer:delete"},
	}
	for path, trigger := range map[string]string{"/all": "profile.Customer:*", "/creates": "profile.Customer:create"} {
		p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
			"prefix": "Crash", "trigger": trigger, "webhookUrl": rcv.URL + path}).must(t)
	}
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix": "Crash", "triggers": []string{"profile.Customer:update", "profile.Customer:delete"}, "webhookUrl": rcv.URL + "/changes"}).must(t)

	w := &writeLog{ackUpdates: map[string]int{}, triedUpdates: map[string]int{}, ackDeleted: map[string]bool{}, triedDeleted: map[string]bool{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 19))
	var seq atomic.Int64
	for round := range kills {
		if round > 0 {
			p = start()
			tok = p.token(adminID, adminSecret)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range 8 {
			wg.Go(func() { mixedWriter(p.URL, tok, w, &seq, uint64(round*100+c), stop) })
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		_ = p.cmd.Process.Kill()
		close(stop)
		wg.Wait()
		p.wait(30 * time.Second)
	}

	p = start()
	tok = p.token(adminID, adminSecret)
	records := allCustomerIDs(t, p, tok)
	t.Logf("%d kills; %d writes acknowledged (%d creates), %d conflicts, %d refused or cut; %d records remain",
		kills, w.acks.Load(), len(w.created), w.conflicts.Load(), w.otherErrs.Load(), len(records))
	if w.acks.Load() == 0 {
		t.Fatal("no write was acknowledged")
	}

	// Deliveries settle: wait until the ledger stops growing.
	for last := int64(-1); last != l.n.Load(); {
		last = l.n.Load()
		time.Sleep(3 * time.Second)
	}

	all := l.events("/all")
	// Every record in the store was created by exactly one create event;
	// every entity with events either is a record, or was deleted by
	// exactly one delete event.
	for id := range records {
		if got := all[id]["profile.Customer:create"]; got != 1 {
			t.Errorf("record %s has %d create events, want 1", id, got)
		}
		if got := all[id]["profile.Customer:delete"]; got != 0 {
			t.Errorf("record %s still exists but has %d delete events", id, got)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, byType := range all {
		if byType["profile.Customer:create"] != 1 {
			t.Errorf("entity %s has %d create events, want 1: %v", id, byType["profile.Customer:create"], byType)
		}
		_, exists := records[id]
		if dels := byType["profile.Customer:delete"]; !exists && dels != 1 {
			t.Errorf("entity %s is gone with %d delete events, want 1", id, dels)
		}
		if dels := byType["profile.Customer:delete"]; dels > 0 && !w.triedDeleted[id] {
			t.Errorf("entity %s has a delete event no client sent", id)
		}
		ups := byType["profile.Customer:update"]
		if ups < w.ackUpdates[id] || ups > w.triedUpdates[id] {
			t.Errorf("entity %s has %d update events; clients had %d acknowledged of %d sent", id, ups, w.ackUpdates[id], w.triedUpdates[id])
		}
	}
	for _, id := range w.created {
		if all[id]["profile.Customer:create"] != 1 {
			t.Errorf("acknowledged create of %s not delivered", id)
		}
		if _, exists := records[id]; !exists && !w.triedDeleted[id] {
			t.Errorf("acknowledged record %s is gone, and no client deleted it", id)
		}
	}
	for id := range w.ackDeleted {
		if _, exists := records[id]; exists {
			t.Errorf("acknowledged delete of %s, but the record is still there", id)
		}
	}
	// Each event reached every subscription whose trigger matches it, and
	// no other.
	everyEvent := l.eventIDs("/all")
	for path, types := range subs {
		got := l.eventIDs(path)
		for evID, d := range everyEvent {
			want := contains(types, d.Event)
			if _, ok := got[evID]; ok != want {
				t.Errorf("%s: event %s (%s of %s) delivered %v, want %v", path, evID, d.Event, d.Entity, ok, want)
			}
		}
		for evID, d := range got {
			if _, ok := everyEvent[evID]; !ok {
				t.Errorf("%s got event %s (%s) that the catch-all subscription never did", path, evID, d.Event)
			}
		}
	}
	if mixed := l.mixedIDs(); len(mixed) > 0 {
		t.Errorf("%d events delivered under more than one webhook-id, e.g. %v", len(mixed), mixed[:min(5, len(mixed))])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mixedWriter sends creates, updates and deletes until stop, recording
// what it sent and what was acknowledged. It never fails the test: the
// server is killed under it.
func mixedWriter(url, tok string, w *writeLog, seq *atomic.Int64, seed uint64, stop chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var mine []string
	for {
		select {
		case <-stop:
			return
		default:
		}
		switch r := rng.IntN(10); {
		case r < 5 || len(mine) == 0:
			c := createCustomer(url, tok, int(seq.Add(1)))
			if c.Err != nil || c.ID == "" {
				if c.Err != nil {
					w.otherErrs.Add(1)
					return
				}
				continue
			}
			w.acks.Add(1)
			w.mu.Lock()
			w.created = append(w.created, c.ID)
			w.mu.Unlock()
			mine = append(mine, c.ID)
		case r < 8:
			id := mine[rng.IntN(len(mine))]
			w.mu.Lock()
			w.triedUpdates[id]++
			w.mu.Unlock()
			status, err := customerWrite(url, tok, "update", id, map[string]any{"name": fmt.Sprintf("Renamed %d", seq.Add(1))})
			if err != nil {
				w.otherErrs.Add(1)
				return
			}
			if status == http.StatusOK {
				w.acks.Add(1)
				w.mu.Lock()
				w.ackUpdates[id]++
				w.mu.Unlock()
			}
		default:
			i := rng.IntN(len(mine))
			id := mine[i]
			mine = append(mine[:i], mine[i+1:]...)
			w.mu.Lock()
			w.triedDeleted[id] = true
			w.mu.Unlock()
			status, err := customerWrite(url, tok, "deleteOne", id, nil)
			if err != nil {
				w.otherErrs.Add(1)
				return
			}
			if status == http.StatusOK {
				w.acks.Add(1)
				w.mu.Lock()
				w.ackDeleted[id] = true
				w.mu.Unlock()
			}
		}
	}
}

// customerWrite sends an update or deleteOne of customer id and returns
// the HTTP status, or the transport error when the server is gone.
func customerWrite(url, tok, intent, id string, fields map[string]any) (int, error) {
	m := meta("profile.Customer", "model", intent, tok)
	m["uniqueObject"] = map[string]any{"id": id}
	body := map[string]any{"__meta__": m}
	for k, v := range fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/jql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := loadClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// allCustomerIDs pages through every customer.
func allCustomerIDs(t *testing.T, p *proc, tok string) map[string]struct{} {
	t.Helper()
	out := map[string]struct{}{}
	for offset := 0; ; offset += 500 {
		m := meta("profile.Customer", "model", "retrieve", tok)
		m["limit"], m["offset"], m["ordering"] = 500, offset, []string{"id"}
		var page []struct{ ID string }
		p.jql(map[string]any{"__meta__": m}).must(t).decode(t, &page)
		for _, r := range page {
			out[r.ID] = struct{}{}
		}
		if len(page) < 500 {
			break
		}
	}
	return out
}
