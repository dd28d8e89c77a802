package mongodb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// BenchmarkAccountWideLogs measures one newest-first page of 50 of an
// owner's account-wide log (10 of its subscriptions among 40) and of an
// operator's every-owner log, over 10,000 attempts with 1 KiB bodies, with
// its total, through the indexes DeliveryQuery.EnsureIndexes creates:
//
//	go test ./mongodb -run '^$' -bench AccountWideLogs -benchtime 20x
func BenchmarkAccountWideLogs(b *testing.B) {
	ctx := context.Background()
	db := mongotest.New(b)
	s, q := mongodb.NewDeliveryStore(db), mongodb.NewDeliveryQuery(db)
	b.Cleanup(func() { _ = s.Close(ctx) })
	if err := q.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := strings.Repeat("x", 1024)
	const n = 10_000
	batch := make([]*jqlgate.Attempt, 0, 500)
	for i := range n {
		batch = append(batch, &jqlgate.Attempt{DeliveryID: fmt.Sprint("msg_", i), EventID: fmt.Sprint("evt_", i), Event: "profile.Customer:create",
			EntityID: fmt.Sprint("cus_", i%500), SubscriptionID: fmt.Sprint("sub_", i%40), Attempt: 1, Status: jqlgate.StatusDone,
			URL: "https://example.com/hook", RequestHeaders: map[string]string{"webhook-id": fmt.Sprint("msg_", i)}, RequestBody: body,
			ResponseCode: 200, ResponseBody: "ok", CreatedAt: base.Add(time.Duration(i) * time.Second), Node: "n1"})
		if len(batch) == cap(batch) {
			if err := s.InsertAttempts(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	owner := make([]string, 10)
	for i := range owner {
		owner[i] = fmt.Sprint("sub_", i)
	}
	cases := []struct {
		name string
		q    jqlgate.AttemptQuery
	}{
		{"owner", jqlgate.AttemptQuery{SubscriptionIDs: owner, Limit: 50}},
		{"ownerEntity", jqlgate.AttemptQuery{SubscriptionIDs: owner, EntityID: "cus_7", Limit: 50}},
		{"allOwners", jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 50}},
		{"allOwnersDeep", jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 50, Offset: 9000}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page, total, err := q.Attempts(ctx, c.q)
				if err != nil || len(page) == 0 || total == 0 {
					b.Fatalf("page of %d of %d: %v", len(page), total, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
