package mongodb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// plainDB returns db through a client of its own: one this process did not
// open as the embedded store, so it has no log index and reads the store,
// as a process pointed at the store by URI does (or as a process before
// the index did).
func plainDB(t *testing.T, db *mongo.Database) *mongo.Database {
	t.Helper()
	client, err := mongo.Connect(mongodb.ClientOptions(mongotest.URI(t), 20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(db.Name())
}

var logBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// logFixture writes n attempts at n/2 deliveries (the second attempt of
// each without its request body, as the dispatcher records it) over 8
// subscriptions, some out of time order, with their events.
func logFixture(t *testing.T, s *mongodb.DeliveryStore, n int) {
	t.Helper()
	ctx := context.Background()
	var fans []*jqlgate.Fanout
	var atts []*jqlgate.Attempt
	statuses := []string{jqlgate.StatusDone, jqlgate.StatusResent, jqlgate.StatusFailed}
	for i := range n {
		d := i / 2
		at := logBase.Add(time.Duration(i)*time.Second + time.Duration(i%7)*time.Microsecond)
		if i%10 == 4 {
			at = at.Add(-1500 * time.Millisecond) // recorded after a later one
		}
		a := &jqlgate.Attempt{DeliveryID: fmt.Sprint("msg_", d), EventID: fmt.Sprint("evt_", d), Event: []string{"a.B:create", "a.B:update"}[d%2],
			EntityID: fmt.Sprint("rec_", d%5), SubscriptionID: fmt.Sprint("sub_", d%8), Attempt: 1 + i%2, Status: statuses[i%3],
			URL: "https://example.com/hook", ResponseCode: 200, ResponseBody: "ok", Duration: 1234567 * time.Nanosecond,
			RequestHeaders: map[string]string{"webhook-id": fmt.Sprint("msg_", d)}, CreatedAt: at, Node: "n1"}
		if a.Attempt == 1 {
			a.RequestBody = fmt.Sprint(`{"n":`, d, `}`)
			fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: a.EventID, Type: a.Event, EntityID: a.EntityID, Timestamp: at},
				Targets: []string{a.SubscriptionID}, Node: "n1", Accepted: at.Add(-time.Millisecond)})
		}
		if a.Status == jqlgate.StatusResent {
			a.NextAttemptAt = at.Add(time.Hour)
		}
		atts = append(atts, a)
	}
	if err := s.InsertEvents(ctx, fans); err != nil {
		t.Fatal(err)
	}
	for len(atts) > 0 {
		k := min(len(atts), 37)
		if err := s.InsertAttempts(ctx, atts[:k]); err != nil {
			t.Fatal(err)
		}
		atts = atts[k:]
	}
}

// logQueries are the selections the views make.
func logQueries() []jqlgate.AttemptQuery {
	return []jqlgate.AttemptQuery{
		{AllSubscriptions: true, Limit: 50},
		{AllSubscriptions: true, Limit: 50, Offset: 50},
		{AllSubscriptions: true, Limit: 20, Offset: 190},
		{SubscriptionID: "sub_3", Limit: 10},
		{SubscriptionIDs: []string{"sub_1", "sub_2", "sub_7"}, Limit: 25, Offset: 5},
		{SubscriptionIDs: []string{}, Limit: 25},
		{AllSubscriptions: true, Statuses: []string{jqlgate.StatusFailed, jqlgate.StatusResent}, Limit: 30},
		{AllSubscriptions: true, EntityID: "rec_2", Event: "a.B:create", Limit: 30},
		{AllSubscriptions: true, EventID: "evt_17", Limit: 5},
		{AllSubscriptions: true, DeliveryID: "msg_40", Limit: 5},
		{AllSubscriptions: true, Since: logBase.Add(30 * time.Second), Until: logBase.Add(90 * time.Second), Limit: 100},
		{SubscriptionIDs: []string{"sub_0"}, Statuses: []string{jqlgate.StatusDone}, Since: logBase.Add(time.Minute), Limit: 1},
	}
}

// ids names the attempts of a page with what a log row shows of them.
func rows(page []*jqlgate.Attempt) []string {
	var out []string
	for _, a := range page {
		out = append(out, fmt.Sprintf("%s %s %s %d %s %v %s %s %v %v %v", a.ID, a.DeliveryID, a.SubscriptionID, a.Attempt, a.Status,
			a.CreatedAt, a.RequestBody, a.ResponseBody, a.RequestHeaders, a.NextAttemptAt, a.Duration))
	}
	return out
}

// The log index answers every view as the store does: order, filters,
// paging, totals, bodies of later attempts, queue, retries.
func TestLogIndexAnswersAsTheStore(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	plain := mongodb.NewDeliveryQuery(plainDB(t, db))
	logFixture(t, s, 200)
	test := &jqlgate.Attempt{DeliveryID: "msg_test", EventID: "evt_test", SubscriptionID: "sub_3", Attempt: 1, Status: jqlgate.StatusDone,
		RequestBody: "example", CreatedAt: logBase.Add(time.Hour)}
	if err := q.InsertTestAttempt(ctx, test); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "n1", logBase.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, aq := range logQueries() {
		want, wantN, err := plain.Attempts(ctx, aq)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := q.Attempts(ctx, aq)
		if err != nil {
			t.Fatal(err)
		}
		if n != wantN || !cmp.Equal(rows(got), rows(want)) {
			t.Errorf("Attempts(%+v) = %d of %d:\n%s\nwant %d of %d:\n%s", aq, len(got), n, strings.Join(rows(got), "\n"), len(want), wantN, strings.Join(rows(want), "\n"))
		}
	}
	if page, _, _ := q.Attempts(ctx, jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 1}); len(page) != 1 || !page[0].Test {
		t.Errorf("newest attempt %v, want the test attempt", page)
	}
	for _, subs := range [][]string{{"sub_1"}, {"sub_2", "sub_5"}, nil} {
		want, err := plain.PendingTo(ctx, subs, subs == nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := q.PendingTo(ctx, subs, subs == nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !cmp.Equal(got, want) {
			t.Errorf("PendingTo(%v) = %v, want %v (not none)", subs, got, want)
		}
	}
	want, err := plain.FailedSince(ctx, "sub_4", logBase.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.FailedSince(ctx, "sub_4", logBase.Add(time.Minute))
	if err != nil || len(want) == 0 || !cmp.Equal(rowsNoBodies(got), rowsNoBodies(want)) {
		t.Errorf("FailedSince = %v, %v; want %v (not none)", rowsNoBodies(got), err, rowsNoBodies(want))
	}
	for _, id := range []string{"msg_0", "msg_51", "msg_test"} {
		want, _ := plain.LatestAttempt(ctx, id)
		got, err := q.LatestAttempt(ctx, id)
		if err != nil || !cmp.Equal(rows([]*jqlgate.Attempt{got}), rows([]*jqlgate.Attempt{want})) {
			t.Errorf("LatestAttempt(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
}

func rowsNoBodies(page []*jqlgate.Attempt) []string {
	var out []string
	for _, a := range page {
		out = append(out, a.ID+" "+a.Status+" "+a.CreatedAt.String())
	}
	return out
}

// A store written before this process started (or before the index
// existed) is read into the index at the first view; what this process
// writes after that shows at once.
func TestLogIndexLoadsExistingStore(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	old := mongodb.NewDeliveryStore(plainDB(t, db))
	logFixture(t, old, 120)
	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	page, total, err := q.Attempts(ctx, jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 3})
	if err != nil || total != 120 || len(page) != 3 || page[0].DeliveryID != "msg_59" || page[0].RequestBody != `{"n":59}` {
		t.Fatalf("first page of the old store = %v, %d, %v; want msg_59 (with its first attempt's body) first, of 120", rows(page), total, err)
	}
	late := &jqlgate.Attempt{DeliveryID: "msg_new", EventID: "evt_new", SubscriptionID: "sub_1", Attempt: 1, Status: jqlgate.StatusFailed,
		RequestBody: "new", CreatedAt: logBase.Add(time.Hour), Node: "n1"}
	if err := s.InsertAttempts(ctx, []*jqlgate.Attempt{late}); err != nil {
		t.Fatal(err)
	}
	page, total, err = q.Attempts(ctx, jqlgate.AttemptQuery{SubscriptionIDs: []string{"sub_1"}, Statuses: []string{jqlgate.StatusFailed}, Limit: 1})
	if err != nil || total != 6 || len(page) != 1 || page[0].ID != late.ID || page[0].RequestBody != "new" {
		t.Errorf("after a new attempt: %v, %d, %v; want it first, of 6", rows(page), total, err)
	}
}

// Pages past what the index keeps whole read their documents from the
// store, bodies and all.
func TestLogIndexOlderPagesFromTheStore(t *testing.T) {
	defer mongodb.SetBodyBudget(2000)()
	ctx := context.Background()
	db := mongotest.New(t)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	plain := mongodb.NewDeliveryQuery(plainDB(t, db))
	logFixture(t, s, 60)
	for _, aq := range []jqlgate.AttemptQuery{{AllSubscriptions: true, Limit: 60}, {SubscriptionID: "sub_2", Limit: 10, Offset: 2}} {
		want, wantN, _ := plain.Attempts(ctx, aq)
		got, n, err := q.Attempts(ctx, aq)
		if err != nil || n != wantN || !cmp.Equal(rows(got), rows(want)) {
			t.Errorf("Attempts(%+v) = %d, %v:\n%s\nwant %d:\n%s", aq, n, err, strings.Join(rows(got), "\n"), wantN, strings.Join(rows(want), "\n"))
		}
	}
}

// Retention deletes old attempts and events from the index as from the
// store.
func TestLogIndexRetention(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	logFixture(t, s, 100)
	if _, total, err := q.Attempts(ctx, jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 1}); err != nil || total != 100 {
		t.Fatalf("before the sweep: %d, %v", total, err)
	}
	// Everything recorded before base+60s is older than the retention.
	cutoff := logBase.Add(60 * time.Second)
	sw := mongodb.NewSweeper(s, mongodb.SweeperOptions{Retention: time.Hour, Attempts: true, Batch: 15, Pause: time.Millisecond,
		Now: func() time.Time { return cutoff.Add(time.Hour) }})
	res, err := sw.Sweep(ctx)
	if err != nil || res.Attempts == 0 {
		t.Fatalf("sweep: %+v, %v", res, err)
	}
	plain := mongodb.NewDeliveryQuery(plainDB(t, db))
	for _, aq := range logQueries() {
		want, wantN, _ := plain.Attempts(ctx, aq)
		got, n, err := q.Attempts(ctx, aq)
		if err != nil || n != wantN || !cmp.Equal(rows(got), rows(want)) {
			t.Errorf("after the sweep, Attempts(%+v) = %d, %v; want %d", aq, n, err, wantN)
		}
		for _, a := range got {
			if a.CreatedAt.Before(cutoff) {
				t.Errorf("attempt %s of %v outlived the retention", a.ID, a.CreatedAt)
			}
		}
	}
	if _, total, _ := q.Attempts(ctx, jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 1}); total != 100-int(res.Attempts) {
		t.Errorf("after deleting %d of 100: %d left", res.Attempts, total)
	}
	if _, err := q.LatestAttempt(ctx, "msg_0"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("LatestAttempt of a swept delivery: %v, want ENOTFOUND", err)
	}
	want, _ := plain.PendingTo(ctx, nil, true)
	if pending, err := q.PendingTo(ctx, nil, true); err != nil || !cmp.Equal(pending, want) {
		t.Errorf("pending after the sweep: %v, %v; the store says %v", pending, err, want)
	}
}

// Past the most attempts it holds, the index turns itself off and the
// views read the store, with the same answers.
func TestLogIndexOffPastItsBound(t *testing.T) {
	defer mongodb.SetMaxIndexed(50)()
	ctx := context.Background()
	db := mongotest.New(t)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	plain := mongodb.NewDeliveryQuery(plainDB(t, db))
	q.Preload(ctx)
	logFixture(t, s, 80)
	for _, aq := range logQueries()[:4] {
		want, wantN, _ := plain.Attempts(ctx, aq)
		got, n, err := q.Attempts(ctx, aq)
		if err != nil || n != wantN || wantN == 0 || !cmp.Equal(rows(got), rows(want)) {
			t.Errorf("Attempts(%+v) = %d, %v; want %d", aq, n, err, wantN)
		}
	}
}

// An embedded store reopened from its files: the index is loaded from
// what the last run wrote.
func TestLogIndexAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *mongodb.DB {
		db, err := mongodb.Open(ctx, mongodb.Config{DataDir: dir, ConnectTimeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	s := mongodb.NewDeliveryStore(db.Database)
	mongodb.NewDeliveryQuery(db.Database).Preload(ctx)
	logFixture(t, s, 40)
	_ = s.Close(ctx)
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close(ctx)
	page, total, err := mongodb.NewDeliveryQuery(db.Database).Attempts(ctx, jqlgate.AttemptQuery{SubscriptionID: "sub_3", Limit: 2})
	if err != nil || total != 6 || len(page) != 2 || page[0].DeliveryID != "msg_19" || page[1].DeliveryID != "msg_19" || page[0].Attempt != 2 {
		t.Errorf("after a restart: %v, %d, %v; want msg_19's attempts 2 and 1, of 6", rows(page), total, err)
	}
}

// The index stays bounded: events that go to no subscription (most
// events) are not held, since no view reads them from it; and attempts
// the sweeper deletes leave nothing behind in the queue of whole ones.
func TestLogIndexBoundedByWhatViewsRead(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	q.Preload(ctx)
	var fans []*jqlgate.Fanout
	for i := range 60 {
		at := logBase.Add(time.Duration(i) * time.Second)
		fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: fmt.Sprint("evt_quiet_", i), Type: "a.B:create", Timestamp: at},
			Node: "n1", Accepted: at})
	}
	if err := s.InsertEvents(ctx, fans); err != nil {
		t.Fatal(err)
	}
	if _, events, _ := mongodb.LogIndexSizes(db); events != 0 {
		t.Errorf("index holds %d events that go to no subscription", events)
	}
	logFixture(t, s, 40)
	sw := mongodb.NewSweeper(s, mongodb.SweeperOptions{Retention: time.Hour, Attempts: true, Batch: 15, Pause: time.Millisecond,
		Now: func() time.Time { return logBase.Add(48 * time.Hour) }})
	if res, err := sw.Sweep(ctx); err != nil || res.Attempts != 40 {
		t.Fatalf("sweep: %+v, %v", res, err)
	}
	if atts, events, fifo := mongodb.LogIndexSizes(db); atts != 0 || events != 0 || fifo != 0 {
		t.Errorf("after sweeping everything the index holds %d attempts, %d events, %d queued whole ids; want none", atts, events, fifo)
	}
}
