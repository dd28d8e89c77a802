package mongodb_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

func TestDeliveryQuery(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	t.Cleanup(func() { _ = s.Close(ctx) })
	if err := q.EnsureIndexes(ctx); err != nil {
		t.Fatalf("EnsureIndexes: %v", err)
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fan := func(id string, at time.Duration) *jqlgate.Fanout {
		return &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "a.B:create", Timestamp: base},
			Targets: []string{"sub_1", "sub_2"}, Node: "n1", Accepted: base.Add(at)}
	}
	// evt_done finished, evt_retry waits for a retry, evt_new has no attempt
	// yet; evt_gone is older than the node's watermark.
	fans := []*jqlgate.Fanout{fan("evt_gone", -time.Hour), fan("evt_done", 0), fan("evt_retry", time.Second), fan("evt_new", 2*time.Second)}
	att := func(ev string, n int, status string, at time.Duration) *jqlgate.Attempt {
		return &jqlgate.Attempt{DeliveryID: "msg_" + ev, EventID: ev, Event: "a.B:create", SubscriptionID: "sub_1", Attempt: n,
			Status: status, ResponseCode: 500, RequestBody: map[bool]string{true: "body of " + ev}[n == 1],
			NextAttemptAt: map[bool]time.Time{true: base.Add(time.Hour)}[status == jqlgate.StatusResent], CreatedAt: base.Add(at), Node: "n1"}
	}
	// evt_gone's delivery was parked: Resent, due long after the watermark.
	attempts := []*jqlgate.Attempt{att("evt_gone", 1, jqlgate.StatusResent, -time.Minute), att("evt_done", 1, jqlgate.StatusResent, 10*time.Second), att("evt_done", 2, jqlgate.StatusDone, 20*time.Second),
		att("evt_retry", 1, jqlgate.StatusResent, 30*time.Second)}
	if err := s.InsertEvents(ctx, fans); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAttempts(ctx, attempts); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "n1", base); err != nil {
		t.Fatal(err)
	}
	test := &jqlgate.Attempt{DeliveryID: "msg_test", EventID: "evt_test", SubscriptionID: "sub_1", Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: base.Add(time.Minute)}
	if err := q.InsertTestAttempt(ctx, test); err != nil {
		t.Fatal(err)
	}

	pending, err := q.Pending(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pending {
		got = append(got, p.EventID+"/"+p.Status)
	}
	if want := []string{"evt_new/Queued", "evt_retry/Resent", "evt_gone/Resent"}; !cmp.Equal(got, want) {
		t.Errorf("Pending = %v, want %v", got, want)
	}

	page, total, err := q.Attempts(ctx, jqlgate.AttemptQuery{SubscriptionID: "sub_1", Limit: 2})
	if err != nil || total != 5 || len(page) != 2 || !page[0].Test || page[1].EventID != "evt_retry" {
		t.Fatalf("Attempts page = %v, %d, %v; want the test attempt, then evt_retry, of 5", page, total, err)
	}
	done, _, err := q.Attempts(ctx, jqlgate.AttemptQuery{SubscriptionID: "sub_1", Statuses: []string{jqlgate.StatusDone}, EventID: "evt_done", Limit: 10})
	if err != nil || len(done) != 1 || done[0].RequestBody != "body of evt_done" {
		t.Errorf("Done attempts of evt_done = %v, %v; want attempt 2 with the first attempt's body", done, err)
	}
	latest, err := q.LatestAttempt(ctx, "msg_evt_done")
	if err != nil || latest.Attempt != 2 {
		t.Errorf("LatestAttempt = %v, %v; want attempt 2", latest, err)
	}
	if _, err := q.LatestAttempt(ctx, "msg_none"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("LatestAttempt of nothing: %v, want ENOTFOUND", err)
	}
	if f, err := q.Event(ctx, "evt_retry"); err != nil || len(f.Targets) != 2 {
		t.Errorf("Event = %v, %v", f, err)
	}
}
