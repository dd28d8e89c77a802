package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// DeliveryQuery is every method the delivery query sides of both adapters
// have that serve system.Webhook.
type DeliveryQuery interface {
	Attempts(ctx context.Context, aq jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int, error)
	LatestAttempt(ctx context.Context, deliveryID string) (*jqlgate.Attempt, error)
	Event(ctx context.Context, id string) (*jqlgate.Fanout, error)
	FailedSince(ctx context.Context, subID string, since time.Time) ([]*jqlgate.Attempt, error)
	Health(ctx context.Context, subIDs []string) (map[string]*jqlgate.WebhookHealth, error)
	Pending(ctx context.Context, subID string) ([]*jqlgate.PendingDelivery, error)
	PendingTo(ctx context.Context, subIDs []string, all bool) ([]*jqlgate.PendingDelivery, error)
	InsertTestAttempt(ctx context.Context, a *jqlgate.Attempt) error
}

// DeliveryStores is one adapter's delivery store over one fresh database:
// the dispatcher's store, its query side, and its retention.
type DeliveryStores struct {
	Store dispatcher.Store
	Query DeliveryQuery
	// Checkpoint records node's watermark and retry floor whatever its
	// epoch.
	Checkpoint func(ctx context.Context, node string, watermark, floor time.Time) error
	// Sweep runs one retention sweep of events and attempt records with
	// the clock at now, deleting at most batch rows at a time.
	Sweep func(ctx context.Context, now time.Time, retention time.Duration, batch int) (events, attempts int64, batches int, err error)
	// RacyUpdates says the store's conditional updates are not atomic
	// (FerretDB v1 reads, then writes): concurrent takeovers of one node
	// may then all win, and that race is not checked. A real MongoDB and
	// SQLite are atomic.
	RacyUpdates bool
}

// Deliveries runs the delivery store contract; open returns the stores
// over a fresh, empty database.
func Deliveries(t *testing.T, open func(t *testing.T) DeliveryStores) {
	t.Run("EventRoundTrip", func(t *testing.T) { delEventRoundTrip(t, open(t)) })
	t.Run("EventsSince", func(t *testing.T) { delEventsSince(t, open(t)) })
	t.Run("DuplicateEvent", func(t *testing.T) { delDuplicateEvent(t, open(t)) })
	t.Run("AttemptRoundTrip", func(t *testing.T) { delAttemptRoundTrip(t, open(t)) })
	t.Run("AttemptsSince", func(t *testing.T) { delAttemptsSince(t, open(t)) })
	t.Run("DuplicateAttempt", func(t *testing.T) { delDuplicateAttempt(t, open(t)) })
	t.Run("Heartbeat", func(t *testing.T) { delHeartbeat(t, open(t)) })
	t.Run("ClaimNode", func(t *testing.T) { delClaimNode(t, open(t)) })
	t.Run("ClaimRace", func(t *testing.T) { delClaimRace(t, open(t)) })
	t.Run("CheckpointEpoch", func(t *testing.T) { delCheckpointEpoch(t, open(t)) })
	t.Run("DueRetries", func(t *testing.T) { delDueRetries(t, open(t)) })
	t.Run("LatestAttempts", func(t *testing.T) { delLatestAttempts(t, open(t)) })
	t.Run("EventsByID", func(t *testing.T) { delEventsByID(t, open(t)) })
	t.Run("LogFilters", func(t *testing.T) { delLogFilters(t, open(t)) })
	t.Run("LogPaging", func(t *testing.T) { delLogPaging(t, open(t)) })
	t.Run("LogBodies", func(t *testing.T) { delLogBodies(t, open(t)) })
	t.Run("LatestAttempt", func(t *testing.T) { delLatestAttempt(t, open(t)) })
	t.Run("FailedSince", func(t *testing.T) { delFailedSince(t, open(t)) })
	t.Run("Health", func(t *testing.T) { delHealth(t, open(t)) })
	t.Run("Pending", func(t *testing.T) { delPending(t, open(t)) })
	t.Run("PendingTo", func(t *testing.T) { delPendingTo(t, open(t)) })
	t.Run("Retention", func(t *testing.T) { delRetention(t, open(t)) })
}

// delBase is a time both stores keep exactly (MongoDB keeps milliseconds).
var delBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func delFan(id, node string, at time.Duration, targets ...string) *jqlgate.Fanout {
	if targets == nil {
		targets = []string{}
	}
	return &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "profile.Customer:create", EntityID: "cus_" + id,
		Data: map[string]any{"name": "Ann " + id, "vip": true}, Changed: []string{"name"}, Timestamp: delBase.Add(at - time.Second)},
		Targets: targets, Node: node, Accepted: delBase.Add(at)}
}

// delAttempt is attempt n at the delivery of ev to sub.
func delAttempt(ev, sub string, n int, status string, at time.Duration) *jqlgate.Attempt {
	a := &jqlgate.Attempt{ID: fmt.Sprintf("att_%s_%s_%d", ev, sub, n), DeliveryID: "msg_" + ev + "_" + sub, EventID: ev,
		Event: "profile.Customer:create", EntityID: "cus_" + ev, SubscriptionID: sub, Attempt: n, Status: status,
		URL: "https://example.com/hook", ResponseCode: 500, CreatedAt: delBase.Add(at), Node: "n1"}
	if status == jqlgate.StatusResent {
		a.NextAttemptAt = a.CreatedAt.Add(time.Minute)
	}
	if status == jqlgate.StatusDone {
		a.ResponseCode = 200
	}
	return a
}

func delInsert(t *testing.T, s DeliveryStores, fans []*jqlgate.Fanout, attempts []*jqlgate.Attempt) {
	t.Helper()
	ctx := context.Background()
	if len(fans) > 0 {
		if err := s.Store.InsertEvents(ctx, fans); err != nil {
			t.Fatalf("InsertEvents: %v", err)
		}
	}
	if len(attempts) > 0 {
		if err := s.Store.InsertAttempts(ctx, attempts); err != nil {
			t.Fatalf("InsertAttempts: %v", err)
		}
	}
}

func fanIDs(fans []*jqlgate.Fanout) []string {
	out := []string{}
	for _, f := range fans {
		out = append(out, f.Event.ID)
	}
	return out
}

func attemptIDs(as []*jqlgate.Attempt) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func sortedIDs(ids []string) []string { return slices.Sorted(slices.Values(ids)) }

func delEventRoundTrip(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	full := delFan("evt_1", "n1", 0, "sub_b", "sub_a")
	full.Seq = 7
	bare := &jqlgate.Fanout{Event: &jqlgate.Event{ID: "evt_2", Type: "profile.Customer:delete"}, Node: "n1", Accepted: delBase.Add(time.Second)}
	delInsert(t, s, []*jqlgate.Fanout{full, bare}, nil)
	got, err := s.Store.EventsSince(ctx, "n1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantBare := *bare
	wantBare.Targets = []string{}
	if diff := gocmp.Diff([]*jqlgate.Fanout{full, &wantBare}, got); diff != "" {
		t.Errorf("EventsSince (-want +got):\n%s", diff)
	}
	one, err := s.Query.Event(ctx, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(full, one); diff != "" {
		t.Errorf("Event (-want +got):\n%s", diff)
	}
	if _, err := s.Query.Event(ctx, "evt_none"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("Event of an unknown id: %v, want ENOTFOUND", err)
	}
}

func delEventsSince(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	a, b, c := delFan("evt_a", "n1", 2*time.Second), delFan("evt_b", "n1", time.Second), delFan("evt_c", "n1", 2*time.Second)
	a.Seq, b.Seq, c.Seq = 3, 1, 2
	delInsert(t, s, []*jqlgate.Fanout{a, b, c, delFan("evt_old", "n1", 0), delFan("evt_other", "n2", 5*time.Second)}, nil)
	got, err := s.Store.EventsSince(ctx, "n1", delBase.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"evt_b", "evt_c", "evt_a"}; !slices.Equal(fanIDs(got), want) {
		t.Errorf("EventsSince = %v, want %v (accepted, then seq; from since on; this node's)", fanIDs(got), want)
	}
	if got, err := s.Store.EventsSince(ctx, "n3", time.Time{}); err != nil || len(got) != 0 {
		t.Errorf("EventsSince of a node without events = %v, %v", fanIDs(got), err)
	}
}

func delDuplicateEvent(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	delInsert(t, s, []*jqlgate.Fanout{delFan("evt_1", "n1", 0, "sub_1")}, nil)
	changed := delFan("evt_1", "n1", time.Hour, "sub_2")
	err := s.Store.InsertEvents(ctx, []*jqlgate.Fanout{changed, delFan("evt_2", "n1", time.Second)})
	if jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Fatalf("InsertEvents with a stored id: %v, want ECONFLICT", err)
	}
	got, err := s.Store.EventsByID(ctx, []string{"evt_1", "evt_2"})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b *jqlgate.Fanout) int { return cmp.Compare(a.Event.ID, b.Event.ID) })
	if len(got) != 2 || !slices.Equal(got[0].Targets, []string{"sub_1"}) {
		t.Errorf("after the conflict: %v; want evt_1 as first stored and evt_2 stored too", fanIDs(got))
	}
}

// delFullAttempt has every field set; its request headers include those
// the stores may derive from its fields, and one of their names with
// another value.
func delFullAttempt() *jqlgate.Attempt {
	at := delBase.Add(1500 * time.Millisecond)
	return &jqlgate.Attempt{ID: "att_full", DeliveryID: "msg_full", EventID: "evt_full", Event: "profile.Customer:create",
		Trigger: "profile.Customer:*", EntityID: "cus_1", SubscriptionID: "sub_1", Attempt: 2, Status: jqlgate.StatusResent,
		URL: "https://example.com/hook?x=1",
		RequestHeaders: map[string]string{"webhook-id": "msg_full", "webhook-timestamp": fmt.Sprint(at.Unix()), "webhook-signature": "v1,abc",
			"X-Webhook-Event": "profile.Customer:create", "X-Webhook-Subscription": "sub_1", "X-Webhook-Trigger": "profile.Customer:*",
			"X-Webhook-Entity-Id": jqlgate.RedactedValue, "X-Webhook-Attempt": "2", "Content-Type": "application/json", "X-Custom": "1"},
		RequestBody: `{"id":"msg_full"}`, ResponseCode: 503, ResponseHeaders: map[string]string{"Retry-After": "5"},
		ResponseBody: "busy", Error: "server error", Duration: 1500 * time.Microsecond,
		NextAttemptAt: at.Add(5 * time.Minute), CreatedAt: at, Node: "n1"}
}

func delAttemptRoundTrip(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	full := delFullAttempt()
	headers := maps(full.RequestHeaders)
	bare := &jqlgate.Attempt{DeliveryID: "msg_bare", EventID: "evt_bare", SubscriptionID: "sub_1", Attempt: 1,
		Status: jqlgate.StatusDone, CreatedAt: delBase, Node: "n1"}
	delInsert(t, s, nil, []*jqlgate.Attempt{full, bare})
	if bare.ID == "" {
		t.Error("an attempt without an id got none")
	}
	if diff := gocmp.Diff(headers, full.RequestHeaders); diff != "" {
		t.Errorf("the insert changed the caller's headers (-want +got):\n%s", diff)
	}
	got, err := s.Store.AttemptsSince(ctx, "n1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b *jqlgate.Attempt) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if diff := gocmp.Diff([]*jqlgate.Attempt{bare, full}, got); diff != "" {
		t.Errorf("AttemptsSince (-want +got):\n%s", diff)
	}
	page, total, err := s.Query.Attempts(ctx, jqlgate.AttemptQuery{DeliveryID: "msg_full", AllSubscriptions: true, Limit: 10})
	if err != nil || total != 1 {
		t.Fatalf("Attempts of msg_full = %d of %d, %v", len(page), total, err)
	}
	if diff := gocmp.Diff(full, page[0]); diff != "" {
		t.Errorf("Attempts (-want +got):\n%s", diff)
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func delAttemptsSince(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	other := delAttempt("evt_3", "sub_1", 1, jqlgate.StatusDone, 3*time.Second)
	other.Node = "n2"
	delInsert(t, s, nil, []*jqlgate.Attempt{delAttempt("evt_0", "sub_1", 1, jqlgate.StatusDone, 0),
		delAttempt("evt_1", "sub_1", 1, jqlgate.StatusDone, time.Second), delAttempt("evt_2", "sub_1", 1, jqlgate.StatusDone, 2*time.Second), other})
	got, err := s.Store.AttemptsSince(ctx, "n1", delBase.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"att_evt_1_sub_1_1", "att_evt_2_sub_1_1"}; !slices.Equal(sortedIDs(attemptIDs(got)), want) {
		t.Errorf("AttemptsSince = %v, want %v (from since on, this node's)", attemptIDs(got), want)
	}
}

func delDuplicateAttempt(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	first := delAttempt("evt_1", "sub_1", 1, jqlgate.StatusResent, 0)
	delInsert(t, s, nil, []*jqlgate.Attempt{first})
	again := delAttempt("evt_1", "sub_1", 1, jqlgate.StatusDone, time.Second)
	err := s.Store.InsertAttempts(ctx, []*jqlgate.Attempt{again, delAttempt("evt_2", "sub_1", 1, jqlgate.StatusDone, 0)})
	if jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Fatalf("InsertAttempts with a stored id: %v, want ECONFLICT", err)
	}
	got, err := s.Store.AttemptsSince(ctx, "n1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b *jqlgate.Attempt) int { return cmp.Compare(a.ID, b.ID) })
	if len(got) != 2 || got[0].Status != jqlgate.StatusResent {
		t.Errorf("after the conflict: %v; want the first attempt as stored and the other new one", attemptIDs(got))
	}
}

func delHeartbeat(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	if wm, err := s.Store.Watermark(ctx, "n1"); err != nil || !wm.IsZero() {
		t.Errorf("Watermark of an unknown node = %v, %v; want zero", wm, err)
	}
	if st, err := s.Store.NodeState(ctx, "n1"); err != nil || st != nil {
		t.Errorf("NodeState of an unknown node = %+v, %v; want nil", st, err)
	}
	before := time.Now().Add(-time.Second)
	for _, want := range []time.Time{delBase, delBase.Add(time.Hour)} {
		if err := s.Store.Heartbeat(ctx, "n1", want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Store.Watermark(ctx, "n1"); err != nil || !got.Equal(want) {
			t.Errorf("Watermark = %v, %v; want %v", got, err, want)
		}
	}
	if err := s.Store.Heartbeat(ctx, "n2", delBase); err != nil {
		t.Fatal(err)
	}
	st, err := s.Store.NodeState(ctx, "n1")
	if err != nil || st == nil {
		t.Fatalf("NodeState = %v, %v", st, err)
	}
	if st.Node != "n1" || st.Owner != "" || st.Epoch != 0 || st.Heartbeat.Before(before) || !st.Watermark.Equal(delBase.Add(time.Hour)) {
		t.Errorf("NodeState = %+v; want n1, unclaimed, heartbeat now, watermark an hour on", st)
	}
	all, err := s.Store.NodeStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range all {
		names = append(names, n.Node)
	}
	if !slices.Equal(sortedIDs(names), []string{"n1", "n2"}) {
		t.Errorf("NodeStates = %v, want n1 and n2", names)
	}
}

func delClaimNode(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	claim := func(node, owner string, epoch int64, hb time.Time, reset bool) bool {
		t.Helper()
		won, err := s.Store.ClaimNode(ctx, node, owner, epoch, hb, reset)
		if err != nil {
			t.Fatalf("ClaimNode: %v", err)
		}
		return won
	}
	state := func(node string) *jqlgate.NodeState {
		t.Helper()
		st, err := s.Store.NodeState(ctx, node)
		if err != nil || st == nil {
			t.Fatalf("NodeState(%s) = %v, %v", node, st, err)
		}
		return st
	}
	if !claim("n1", "n1", 0, time.Time{}, false) {
		t.Fatal("the first claim of a node without a row lost")
	}
	st := state("n1")
	if st.Owner != "n1" || st.Epoch != 1 || st.Heartbeat.IsZero() || !st.Watermark.IsZero() {
		t.Errorf("after the first claim: %+v; want owner n1, epoch 1, a heartbeat, no watermark", st)
	}
	if claim("n1", "n2", 0, time.Time{}, false) {
		t.Error("a claim at epoch 0 of a claimed node won")
	}
	if claim("n1", "n2", 2, time.Time{}, false) {
		t.Error("a claim at a wrong epoch won")
	}
	if claim("n1", "n2", 1, st.Heartbeat.Add(-time.Second), false) {
		t.Error("a claim with a stale heartbeat won")
	}
	if err := s.Checkpoint(ctx, "n1", delBase, delBase.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	st = state("n1")
	before := time.Now().Add(-time.Second)
	if !claim("n1", "n2", 1, st.Heartbeat, false) {
		t.Fatal("a claim at the epoch and heartbeat as read lost")
	}
	if got := state("n1"); got.Owner != "n2" || got.Epoch != 2 || !got.Watermark.Equal(delBase) || !got.Floor.Equal(delBase.Add(time.Minute)) {
		t.Errorf("after the takeover: %+v; want owner n2, epoch 2, watermark and floor kept", got)
	}
	if !claim("n1", "n3", 2, time.Time{}, true) {
		t.Fatal("a claim at the epoch, heartbeat unchecked, lost")
	}
	if got := state("n1"); got.Owner != "n3" || got.Epoch != 3 || got.Watermark.Before(before) || got.Floor.Before(before) {
		t.Errorf("after a resetting claim: %+v; want owner n3, epoch 3, watermark and floor now", got)
	}
	// A node that only heartbeat (no epoch yet) is claimed at epoch 0.
	if err := s.Store.Heartbeat(ctx, "n4", delBase); err != nil {
		t.Fatal(err)
	}
	if !claim("n4", "n4", 0, time.Time{}, false) {
		t.Error("the claim of a node that only heartbeat lost")
	}
	if got := state("n4"); got.Epoch != 1 || !got.Watermark.Equal(delBase) {
		t.Errorf("after claiming a heartbeating node: %+v; want epoch 1, its watermark kept", got)
	}
}

func delClaimRace(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	race := func(node string, epoch int64, hb time.Time) int {
		t.Helper()
		var wg sync.WaitGroup
		wins := make([]bool, 4)
		errs := make([]error, 4)
		for i := range wins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wins[i], errs[i] = s.Store.ClaimNode(ctx, node, fmt.Sprint("owner_", i), epoch, hb, false)
			}()
		}
		wg.Wait()
		n := 0
		for i, won := range wins {
			if errs[i] != nil {
				t.Fatalf("ClaimNode: %v", errs[i])
			}
			if won {
				n++
			}
		}
		return n
	}
	if n := race("n1", 0, time.Time{}); n != 1 {
		t.Errorf("%d of 4 concurrent first claims won, want 1", n)
	}
	st, err := s.Store.NodeState(ctx, "n1")
	if err != nil || st == nil {
		t.Fatal(st, err)
	}
	if s.RacyUpdates {
		return
	}
	if n := race("n1", st.Epoch, st.Heartbeat); n != 1 {
		t.Errorf("%d of 4 concurrent takeovers won, want 1", n)
	}
	if got, err := s.Store.NodeState(ctx, "n1"); err != nil || got.Epoch != 2 {
		t.Errorf("after two races: %+v, %v; want epoch 2", got, err)
	}
}

func delCheckpointEpoch(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	if won, err := s.Store.ClaimNode(ctx, "n1", "n1", 0, time.Time{}, false); err != nil || !won {
		t.Fatal(won, err)
	}
	if err := s.Store.CheckpointEpoch(ctx, "n1", 1, delBase, delBase.Add(time.Hour)); err != nil {
		t.Fatalf("CheckpointEpoch at the epoch: %v", err)
	}
	st, err := s.Store.NodeState(ctx, "n1")
	if err != nil || !st.Watermark.Equal(delBase) || !st.Floor.Equal(delBase.Add(time.Hour)) || st.Owner != "n1" || st.Epoch != 1 {
		t.Fatalf("after CheckpointEpoch: %+v, %v", st, err)
	}
	if won, err := s.Store.ClaimNode(ctx, "n1", "n2", 1, st.Heartbeat, false); err != nil || !won {
		t.Fatal(won, err)
	}
	err = s.Store.CheckpointEpoch(ctx, "n1", 1, delBase.Add(time.Minute), delBase.Add(time.Minute))
	if jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("CheckpointEpoch after another claim: %v, want ECONFLICT", err)
	}
	if got, _ := s.Store.NodeState(ctx, "n1"); got == nil || !got.Watermark.Equal(delBase) {
		t.Errorf("a conflicting checkpoint moved the watermark: %+v", got)
	}
	if err := s.Store.CheckpointEpoch(ctx, "n_none", 1, delBase, delBase); jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		t.Errorf("CheckpointEpoch of an unknown node: %v, want ECONFLICT", err)
	}
}

func delDueRetries(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	due := func(id string, next time.Duration, status, node string) *jqlgate.Attempt {
		a := delAttempt(id, "sub_1", 1, status, 0)
		a.NextAttemptAt, a.Node = delBase.Add(next), node
		return a
	}
	delInsert(t, s, nil, []*jqlgate.Attempt{
		due("evt_before", 59*time.Second, jqlgate.StatusResent, "n1"),
		due("evt_from", time.Minute, jqlgate.StatusResent, "n1"),
		due("evt_in", 90*time.Second, jqlgate.StatusResent, "n1"),
		due("evt_to", 2*time.Minute, jqlgate.StatusResent, "n1"),
		due("evt_failed", 90*time.Second, jqlgate.StatusFailed, "n1"),
		due("evt_other", 90*time.Second, jqlgate.StatusResent, "n2"),
	})
	got, err := s.Store.DueRetries(ctx, "n1", delBase.Add(time.Minute), delBase.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"att_evt_from_sub_1_1", "att_evt_in_sub_1_1"}; !slices.Equal(sortedIDs(attemptIDs(got)), want) {
		t.Errorf("DueRetries = %v, want %v ([from, to), Resent, this node's)", attemptIDs(got), want)
	}
	for _, a := range got {
		if a.DeliveryID == "" || a.EventID == "" || a.SubscriptionID != "sub_1" || a.Attempt != 1 || a.NextAttemptAt.IsZero() {
			t.Errorf("due retry %+v lacks what scheduling needs", a)
		}
	}
}

func delLatestAttempts(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	delInsert(t, s, nil, []*jqlgate.Attempt{
		delAttempt("evt_1", "sub_1", 1, jqlgate.StatusResent, 0),
		delAttempt("evt_1", "sub_1", 3, jqlgate.StatusDone, 2*time.Second),
		delAttempt("evt_1", "sub_1", 2, jqlgate.StatusResent, 3*time.Second),
		delAttempt("evt_2", "sub_1", 1, jqlgate.StatusFailed, 0),
	})
	got, err := s.Store.LatestAttempts(ctx, []string{"msg_evt_1_sub_1", "msg_evt_2_sub_1", "msg_none"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"att_evt_1_sub_1_3", "att_evt_2_sub_1_1"}; !slices.Equal(sortedIDs(attemptIDs(got)), want) {
		t.Errorf("LatestAttempts = %v, want %v (the highest attempt of each delivery that has one)", attemptIDs(got), want)
	}
	if got, err := s.Store.LatestAttempts(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("LatestAttempts of none = %v, %v", attemptIDs(got), err)
	}
}

func delEventsByID(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	delInsert(t, s, []*jqlgate.Fanout{delFan("evt_1", "n1", 0, "sub_1"), delFan("evt_2", "n2", 0), delFan("evt_3", "n1", 0)}, nil)
	got, err := s.Store.EventsByID(ctx, []string{"evt_2", "evt_1", "evt_none"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"evt_1", "evt_2"}; !slices.Equal(sortedIDs(fanIDs(got)), want) {
		t.Errorf("EventsByID = %v, want %v", fanIDs(got), want)
	}
	if got, err := s.Store.EventsByID(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("EventsByID of none = %v, %v", fanIDs(got), err)
	}
}

// delLogData is a log of 3 subscriptions: attempts with every status, two
// event types, a few records, some at the same time (the id breaks the
// tie), and a test attempt.
func delLogData(t *testing.T, s DeliveryStores) []*jqlgate.Attempt {
	t.Helper()
	statuses := []string{jqlgate.StatusDone, jqlgate.StatusResent, jqlgate.StatusFailed, jqlgate.StatusDone}
	var all []*jqlgate.Attempt
	for i := range 30 {
		sub := fmt.Sprint("sub_", i%3)
		a := delAttempt(fmt.Sprintf("evt_%02d", i), sub, 1+i%2, statuses[i%4], time.Duration(i/2)*time.Second)
		a.EntityID = fmt.Sprint("cus_", i%5)
		if i%7 == 0 {
			a.Event = "profile.Customer:delete"
		}
		a.RequestBody = "body " + a.ID
		all = append(all, a)
	}
	delInsert(t, s, nil, all)
	test := &jqlgate.Attempt{ID: "att_test", DeliveryID: "msg_test", EventID: "evt_test", Event: "profile.Customer:create",
		SubscriptionID: "sub_1", Attempt: 1, Status: jqlgate.StatusDone, URL: "https://example.com/hook", ResponseCode: 200,
		RequestBody: "test body", CreatedAt: delBase.Add(5500 * time.Millisecond)}
	if err := s.Query.InsertTestAttempt(context.Background(), test); err != nil {
		t.Fatalf("InsertTestAttempt: %v", err)
	}
	if !test.Test {
		t.Error("InsertTestAttempt did not mark the attempt")
	}
	return append(all, test)
}

// delSelect is what aq selects of all, newest first, as the stores must
// answer.
func delSelect(all []*jqlgate.Attempt, aq jqlgate.AttemptQuery) []*jqlgate.Attempt {
	var out []*jqlgate.Attempt
	for _, a := range all {
		switch {
		case aq.SubscriptionID != "" && a.SubscriptionID != aq.SubscriptionID,
			aq.SubscriptionID == "" && !aq.AllSubscriptions && !slices.Contains(aq.SubscriptionIDs, a.SubscriptionID),
			len(aq.Statuses) > 0 && !slices.Contains(aq.Statuses, a.Status),
			aq.Event != "" && a.Event != aq.Event, aq.EventID != "" && a.EventID != aq.EventID,
			aq.DeliveryID != "" && a.DeliveryID != aq.DeliveryID, aq.EntityID != "" && a.EntityID != aq.EntityID,
			!aq.Since.IsZero() && a.CreatedAt.Before(aq.Since), !aq.Until.IsZero() && !a.CreatedAt.Before(aq.Until):
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *jqlgate.Attempt) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

func delLogFilters(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	all := delLogData(t, s)
	for name, aq := range map[string]jqlgate.AttemptQuery{
		"subscription":       {SubscriptionID: "sub_1"},
		"subscriptions":      {SubscriptionIDs: []string{"sub_0", "sub_2", "sub_none"}},
		"noSubscriptions":    {SubscriptionIDs: []string{}},
		"every":              {AllSubscriptions: true},
		"status":             {AllSubscriptions: true, Statuses: []string{jqlgate.StatusFailed}},
		"statuses":           {SubscriptionID: "sub_0", Statuses: []string{jqlgate.StatusResent, jqlgate.StatusDone}},
		"ownerStatus":        {SubscriptionIDs: []string{"sub_0", "sub_1"}, Statuses: []string{jqlgate.StatusDone}},
		"event":              {AllSubscriptions: true, Event: "profile.Customer:delete"},
		"eventId":            {SubscriptionIDs: []string{"sub_2"}, EventID: "evt_05"},
		"deliveryId":         {AllSubscriptions: true, DeliveryID: "msg_evt_07_sub_1"},
		"deliveryIdOtherSub": {SubscriptionID: "sub_0", DeliveryID: "msg_evt_07_sub_1"},
		"entity":             {SubscriptionID: "sub_1", EntityID: "cus_2"},
		"entityEvery":        {AllSubscriptions: true, EntityID: "cus_3", Statuses: []string{jqlgate.StatusDone}},
		"since":              {AllSubscriptions: true, Since: delBase.Add(10 * time.Second)},
		"until":              {SubscriptionIDs: []string{"sub_1", "sub_2"}, Until: delBase.Add(3 * time.Second)},
		"window":             {SubscriptionID: "sub_2", Since: delBase.Add(2 * time.Second), Until: delBase.Add(9 * time.Second), Event: "profile.Customer:create"},
	} {
		t.Run(name, func(t *testing.T) {
			aq.Limit = 100
			want := delSelect(all, aq)
			got, total, err := s.Query.Attempts(ctx, aq)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(attemptIDs(got), attemptIDs(want)) || total != len(want) {
				t.Errorf("Attempts = %v of %d; want %v of %d", attemptIDs(got), total, attemptIDs(want), len(want))
			}
		})
	}
	page, _, err := s.Query.Attempts(ctx, jqlgate.AttemptQuery{DeliveryID: "msg_test", AllSubscriptions: true, Limit: 1})
	if err != nil || len(page) != 1 || !page[0].Test || page[0].RequestBody != "test body" {
		t.Errorf("the test attempt in the log = %v, %v; want it marked as a test", page, err)
	}
}

func delLogPaging(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	all := delLogData(t, s)
	for _, aq := range []jqlgate.AttemptQuery{{AllSubscriptions: true}, {SubscriptionID: "sub_1"},
		{SubscriptionIDs: []string{"sub_1", "sub_2"}}, {AllSubscriptions: true, Statuses: []string{jqlgate.StatusDone}},
		{AllSubscriptions: true, Since: delBase.Add(3 * time.Second)}} {
		want := delSelect(all, aq)
		var got []string
		for offset := 0; offset < len(want)+4; offset += 4 {
			aq.Limit, aq.Offset = 4, offset
			page, total, err := s.Query.Attempts(ctx, aq)
			if err != nil {
				t.Fatal(err)
			}
			if total != len(want) {
				t.Errorf("%+v: total %d, want %d", aq, total, len(want))
			}
			if len(page) > 4 {
				t.Errorf("%+v: page of %d, limit 4", aq, len(page))
			}
			got = append(got, attemptIDs(page)...)
		}
		if !slices.Equal(got, attemptIDs(want)) {
			t.Errorf("%+v: pages = %v, want %v", aq, got, attemptIDs(want))
		}
	}
}

func delLogBodies(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	first := delAttempt("evt_1", "sub_1", 1, jqlgate.StatusResent, 0)
	first.RequestBody = "the body"
	second := delAttempt("evt_1", "sub_1", 2, jqlgate.StatusDone, time.Second)
	delInsert(t, s, nil, []*jqlgate.Attempt{first, second})
	page, total, err := s.Query.Attempts(ctx, jqlgate.AttemptQuery{SubscriptionID: "sub_1", Statuses: []string{jqlgate.StatusDone}, Limit: 10})
	if err != nil || total != 1 || len(page) != 1 || page[0].RequestBody != "the body" {
		t.Errorf("a later attempt = %v of %d, %v; want it with the first attempt's body", page, total, err)
	}
}

func delLatestAttempt(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	delInsert(t, s, nil, []*jqlgate.Attempt{
		delAttempt("evt_1", "sub_1", 2, jqlgate.StatusDone, 2*time.Second),
		delAttempt("evt_1", "sub_1", 1, jqlgate.StatusResent, 3*time.Second),
	})
	a, err := s.Query.LatestAttempt(ctx, "msg_evt_1_sub_1")
	if err != nil || a.ID != "att_evt_1_sub_1_2" || a.URL == "" {
		t.Errorf("LatestAttempt = %+v, %v; want attempt 2 whole", a, err)
	}
	if _, err := s.Query.LatestAttempt(ctx, "msg_none"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("LatestAttempt of a delivery without attempts: %v, want ENOTFOUND", err)
	}
}

func delFailedSince(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	oldFail := delAttempt("evt_old", "sub_1", 1, jqlgate.StatusFailed, -time.Hour)
	delInsert(t, s, nil, []*jqlgate.Attempt{
		oldFail,
		delAttempt("evt_1", "sub_1", 1, jqlgate.StatusFailed, time.Second),
		delAttempt("evt_2", "sub_1", 1, jqlgate.StatusFailed, time.Second),
		delAttempt("evt_2", "sub_1", 2, jqlgate.StatusResent, 2*time.Second),
		delAttempt("evt_3", "sub_1", 1, jqlgate.StatusResent, time.Second),
		delAttempt("evt_3", "sub_1", 2, jqlgate.StatusFailed, 2*time.Second),
		delAttempt("evt_4", "sub_2", 1, jqlgate.StatusFailed, time.Second),
		delAttempt("evt_5", "sub_1", 1, jqlgate.StatusDone, time.Second),
	})
	test := delAttempt("evt_test", "sub_1", 1, jqlgate.StatusFailed, time.Second)
	if err := s.Query.InsertTestAttempt(ctx, test); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query.FailedSince(ctx, "sub_1", delBase)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"att_evt_1_sub_1_1", "att_evt_3_sub_1_2"}; !slices.Equal(sortedIDs(attemptIDs(got)), want) {
		t.Errorf("FailedSince = %v, want %v (latest attempts since then that Failed, this subscription's, no tests)", attemptIDs(got), want)
	}
	if got, err := s.Query.FailedSince(ctx, "sub_1", delBase.Add(-2*time.Hour)); err != nil || len(got) != 3 {
		t.Errorf("FailedSince two hours before = %v, %v; want the old failure too", attemptIDs(got), err)
	}
}

func pendingKeys(ps []*jqlgate.PendingDelivery) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.EventID+"/"+p.SubscriptionID+"/"+p.Status)
	}
	return out
}

// delPendingData: evt_done finished, evt_retry waits for a retry, evt_new
// has no attempt yet, evt_failed failed; evt_gone is older than the node's
// watermark, its delivery to sub_1 parked (Resent, due long after the
// watermark), its delivery to sub_2 out of the window.
func delPendingData(t *testing.T, s DeliveryStores) {
	t.Helper()
	fans := []*jqlgate.Fanout{delFan("evt_gone", "n1", -time.Hour, "sub_1", "sub_2"), delFan("evt_done", "n1", 0, "sub_1", "sub_2"),
		delFan("evt_failed", "n1", 500*time.Millisecond, "sub_1"), delFan("evt_retry", "n1", time.Second, "sub_1", "sub_2"),
		delFan("evt_new", "n1", 2*time.Second, "sub_2", "sub_1", "sub_3")}
	gone := delAttempt("evt_gone", "sub_1", 1, jqlgate.StatusResent, -time.Minute)
	gone.NextAttemptAt = delBase.Add(time.Hour)
	retry := delAttempt("evt_retry", "sub_1", 2, jqlgate.StatusResent, 30*time.Second)
	retry.Error = "server error"
	attempts := []*jqlgate.Attempt{gone,
		delAttempt("evt_done", "sub_1", 1, jqlgate.StatusResent, 10*time.Second), delAttempt("evt_done", "sub_1", 2, jqlgate.StatusDone, 20*time.Second),
		delAttempt("evt_failed", "sub_1", 1, jqlgate.StatusFailed, 10*time.Second),
		delAttempt("evt_retry", "sub_1", 1, jqlgate.StatusResent, 10*time.Second), retry}
	delInsert(t, s, fans, attempts)
	if err := s.Store.Heartbeat(context.Background(), "n1", delBase); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.Heartbeat(context.Background(), "n2", delBase.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	test := delAttempt("evt_new", "sub_1", 1, jqlgate.StatusDone, time.Minute)
	test.ID = "att_test"
	if err := s.Query.InsertTestAttempt(context.Background(), test); err != nil {
		t.Fatal(err)
	}
}

func delPending(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	delPendingData(t, s)
	got, err := s.Query.Pending(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	want := []*jqlgate.PendingDelivery{
		{EventID: "evt_new", Event: "profile.Customer:create", EntityID: "cus_evt_new", SubscriptionID: "sub_1", Status: jqlgate.StatusQueued,
			AcceptedAt: delBase.Add(2 * time.Second), NextAttemptAt: delBase.Add(2 * time.Second)},
		{DeliveryID: "msg_evt_retry_sub_1", EventID: "evt_retry", Event: "profile.Customer:create", EntityID: "cus_evt_retry", SubscriptionID: "sub_1",
			Status: jqlgate.StatusResent, Attempts: 2, Retries: 1, AcceptedAt: delBase.Add(time.Second), NextAttemptAt: delBase.Add(90 * time.Second),
			LastAttemptAt: delBase.Add(30 * time.Second), LastResponseCode: 500, LastError: "server error"},
		{DeliveryID: "msg_evt_gone_sub_1", EventID: "evt_gone", Event: "profile.Customer:create", EntityID: "cus_evt_gone", SubscriptionID: "sub_1",
			Status: jqlgate.StatusResent, Attempts: 1, AcceptedAt: delBase.Add(-time.Hour), NextAttemptAt: delBase.Add(time.Hour),
			LastAttemptAt: delBase.Add(-time.Minute), LastResponseCode: 500},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Pending(sub_1) (-want +got):\n%s", diff)
	}
	if got, err := s.Query.Pending(ctx, "sub_none"); err != nil || len(got) != 0 {
		t.Errorf("Pending of a subscription without deliveries = %v, %v", pendingKeys(got), err)
	}
}

func delPendingTo(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	delPendingData(t, s)
	for name, c := range map[string]struct {
		subs []string
		all  bool
		want []string
	}{
		"two": {subs: []string{"sub_2", "sub_3"},
			want: []string{"evt_new/sub_2/Queued", "evt_new/sub_3/Queued", "evt_retry/sub_2/Queued", "evt_done/sub_2/Queued"}},
		"all": {all: true,
			want: []string{"evt_new/sub_2/Queued", "evt_new/sub_1/Queued", "evt_new/sub_3/Queued", "evt_retry/sub_1/Resent",
				"evt_retry/sub_2/Queued", "evt_done/sub_2/Queued", "evt_gone/sub_1/Resent"}},
		"none": {subs: []string{}, want: []string{}},
	} {
		got, err := s.Query.PendingTo(ctx, c.subs, c.all)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pendingKeys(got), c.want) {
			t.Errorf("%s: PendingTo = %v, want %v", name, pendingKeys(got), c.want)
		}
	}
	// Once the delivery waiting for a retry is done, it leaves the queue.
	delInsert(t, s, nil, []*jqlgate.Attempt{delAttempt("evt_retry", "sub_1", 3, jqlgate.StatusDone, time.Minute)})
	got, err := s.Query.Pending(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"evt_new/sub_1/Queued", "evt_gone/sub_1/Resent"}; !slices.Equal(pendingKeys(got), want) {
		t.Errorf("after the retry succeeded: %v, want %v", pendingKeys(got), want)
	}
}

func delRetention(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	const day = 24 * time.Hour
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var fans []*jqlgate.Fanout
	var attempts []*jqlgate.Attempt
	ms := time.Millisecond
	for i, at := range []time.Duration{0, ms, 2 * ms, 3 * ms, 4 * ms, 5 * ms, 6 * ms, 99 * day, 99*day + ms} {
		id := fmt.Sprintf("evt_%d", i)
		fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: id, Type: "a.B:create", Timestamp: base.Add(at)},
			Targets: []string{"sub_1"}, Node: "n1", Accepted: base.Add(at)})
		attempts = append(attempts, &jqlgate.Attempt{ID: "att_" + id, DeliveryID: "msg_" + id, EventID: id, SubscriptionID: "sub_1",
			Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: base.Add(at), Node: "n1"})
	}
	delInsert(t, s, fans, attempts)
	events, atts, batches, err := s.Sweep(ctx, base.Add(100*day), 30*day, 3)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if events != 7 || atts != 7 || batches != 6 {
		t.Errorf("sweep deleted %d events and %d attempts in %d batches; want 7 and 7 in 6 (batches of at most 3)", events, atts, batches)
	}
	left, err := s.Store.EventsSince(ctx, "n1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"evt_7", "evt_8"}; !slices.Equal(fanIDs(left), want) {
		t.Errorf("events left: %v, want %v", fanIDs(left), want)
	}
	as, err := s.Store.AttemptsSince(ctx, "n1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"att_evt_7", "att_evt_8"}; !slices.Equal(sortedIDs(attemptIDs(as)), want) {
		t.Errorf("attempts left: %v, want %v", attemptIDs(as), want)
	}
	if _, total, err := s.Query.Attempts(ctx, jqlgate.AttemptQuery{SubscriptionID: "sub_1", Limit: 10}); err != nil || total != 2 {
		t.Errorf("log total after the sweep = %d, %v; want 2", total, err)
	}
	if events, atts, _, err := s.Sweep(ctx, base.Add(100*day), 30*day, 3); err != nil || events+atts != 0 {
		t.Errorf("a second sweep deleted %d events and %d attempts (%v); want none", events, atts, err)
	}

	// A node whose watermark is at day 15 still has unfinished deliveries
	// of events from then on: those stay however old.
	old := []*jqlgate.Fanout{
		{Event: &jqlgate.Event{ID: "evt_day10", Type: "a.B:create"}, Targets: []string{"sub_1"}, Node: "n1", Accepted: base.Add(10 * day)},
		{Event: &jqlgate.Event{ID: "evt_day20", Type: "a.B:create"}, Targets: []string{"sub_1"}, Node: "n1", Accepted: base.Add(20 * day)},
	}
	delInsert(t, s, old, []*jqlgate.Attempt{{ID: "att_day10", DeliveryID: "msg_day10", EventID: "evt_day10", SubscriptionID: "sub_1",
		Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: base.Add(10 * day), Node: "n1"}})
	if err := s.Checkpoint(ctx, "n2", base.Add(15*day), base.Add(200*day)); err != nil {
		t.Fatal(err)
	}
	if events, atts, _, err := s.Sweep(ctx, base.Add(100*day), 30*day, 3); err != nil || events != 1 || atts != 1 {
		t.Fatalf("guarded sweep deleted %d events and %d attempts (%v); want the day-10 ones", events, atts, err)
	}
	got, err := s.Store.EventsByID(ctx, []string{"evt_day10", "evt_day20"})
	if err != nil || !slices.Equal(fanIDs(got), []string{"evt_day20"}) {
		t.Errorf("after the guarded sweep: %v, %v; want evt_day20 only", fanIDs(got), err)
	}
}

func delHealth(t *testing.T, s DeliveryStores) {
	ctx := context.Background()
	timeout := delAttempt("evt_3", "sub_1", 1, jqlgate.StatusFailed, 3*time.Second)
	timeout.Error, timeout.ResponseCode = "timeout after 10s", 0
	delInsert(t, s, nil, []*jqlgate.Attempt{
		delAttempt("evt_0", "sub_1", 1, jqlgate.StatusResent, 0),
		delAttempt("evt_1", "sub_1", 1, jqlgate.StatusDone, time.Second),
		delAttempt("evt_2", "sub_1", 1, jqlgate.StatusResent, 2*time.Second),
		timeout,
		delAttempt("evt_9", "sub_3", 1, jqlgate.StatusDone, time.Second),
	})
	if err := s.Query.InsertTestAttempt(ctx, delAttempt("evt_t", "sub_1", 1, jqlgate.StatusDone, 4*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query.Health(ctx, []string{"sub_1", "sub_2", "sub_3"})
	if err != nil {
		t.Fatal(err)
	}
	h := got["sub_1"]
	switch {
	case h == nil:
		t.Fatalf("no health for sub_1: %v", got)
	case !h.LastSuccessAt.Equal(delBase.Add(time.Second)) || !h.LastFailureAt.Equal(delBase.Add(3*time.Second)):
		t.Errorf("sub_1 last success %v, last failure %v; want the Done at 1s (not the test send) and the Failed at 3s", h.LastSuccessAt, h.LastFailureAt)
	case h.LastFailure != "timeout after 10s" || h.LastFailureOf != jqlgate.StatusFailed:
		t.Errorf("sub_1 last failure %q (%s), want its error", h.LastFailure, h.LastFailureOf)
	case h.FailuresInRow != 2 || h.FailuresCapped || h.Recent != 4 || h.RecentDone != 1:
		t.Errorf("sub_1 health %+v, want 2 failures in a row of 4 recent attempts, 1 done", h)
	}
	if h := got["sub_2"]; h == nil || h.Recent != 0 || !h.LastSuccessAt.IsZero() || !h.LastFailureAt.IsZero() {
		t.Errorf("sub_2 (no attempts) health %+v, want empty", h)
	}
	if h := got["sub_3"]; h == nil || h.FailuresInRow != 0 || h.RecentDone != 1 || !h.LastFailureAt.IsZero() {
		t.Errorf("sub_3 health %+v, want one success and no failure", h)
	}

	// A success older than the sample is still found; the streak is
	// capped at the sample.
	many := []*jqlgate.Attempt{delAttempt("evt_ok", "sub_4", 1, jqlgate.StatusDone, 0)}
	for i := range jqlgate.HealthSample + 1 {
		many = append(many, delAttempt(fmt.Sprintf("evt_f%d", i), "sub_4", 1, jqlgate.StatusResent, time.Duration(i+1)*time.Second))
	}
	delInsert(t, s, nil, many)
	got, err = s.Query.Health(ctx, []string{"sub_4"})
	if err != nil {
		t.Fatal(err)
	}
	if h := got["sub_4"]; h == nil || !h.LastSuccessAt.Equal(delBase) || h.FailuresInRow != jqlgate.HealthSample || !h.FailuresCapped || h.RecentDone != 0 ||
		!h.LastFailureAt.Equal(delBase.Add(time.Duration(jqlgate.HealthSample+1)*time.Second)) {
		t.Errorf("sub_4 health %+v, want the old success found, %d+ failures in a row", h, jqlgate.HealthSample)
	}
}
