package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

func openTestDB(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), Config{Path: filepath.Join(tb.TempDir(), FileName)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

// queryPlan is EXPLAIN QUERY PLAN's lines for query.
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// TestDeliveryQueryPlans: every read of the logs, the queue, recovery and
// retention walks an index; the log pages in the order they return (no
// sort of what they select), and no read scans a whole table.
func TestDeliveryQueryPlans(t *testing.T) {
	db := openTestDB(t)
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	owner := []string{"sub_1", "sub_2", "sub_3"}
	for name, aq := range map[string]jqlgate.AttemptQuery{
		"subscription":  {SubscriptionID: "sub_1", Limit: 50},
		"owner":         {SubscriptionIDs: owner, Limit: 50, Offset: 9000},
		"ownerStatus":   {SubscriptionIDs: owner, Statuses: []string{jqlgate.StatusFailed}, Limit: 50},
		"subStatuses":   {SubscriptionID: "sub_1", Statuses: []string{jqlgate.StatusFailed, jqlgate.StatusDone}, Limit: 50},
		"every":         {AllSubscriptions: true, Limit: 50, Offset: 9000},
		"everyFiltered": {AllSubscriptions: true, Statuses: []string{jqlgate.StatusFailed}, Event: "a.B:create", Since: since, Limit: 50},
		"manyOwned":     {SubscriptionIDs: manyIDs(100), Limit: 50},
		"entity":        {SubscriptionIDs: owner, EntityID: "cus_1", Limit: 50},
		"event":         {AllSubscriptions: true, EventID: "evt_1", Limit: 50},
		"delivery":      {SubscriptionID: "sub_1", DeliveryID: "msg_1", Limit: 50},
	} {
		p, err := planLog(aq)
		if err != nil {
			t.Fatal(err)
		}
		page := queryPlan(t, db, `SELECT `+prefixed("a.", attemptCols)+` FROM (`+p.rowids()+
			` LIMIT ? OFFSET ?) p CROSS JOIN attempts a ON a.rowid = p.r ORDER BY p.created_at DESC, p.id DESC`, append(p.args(), 50, 0)...)
		count := queryPlan(t, db, `SELECT count(*) FROM (`+p.ones()+` LIMIT ?)`, append(p.args(), 100)...)
		for _, plan := range []string{page, count} {
			for _, line := range strings.Split(plan, "\n") {
				if strings.HasPrefix(line, "SCAN a") && !strings.Contains(line, "INDEX") {
					t.Errorf("%s: a whole-table scan:\n%s", name, plan)
				}
			}
		}
		ordered := aq.DeliveryID == "" && aq.EventID == ""
		// The one sort allowed is of the page's rows, after the join.
		if ordered && strings.Count(page, "TEMP B-TREE") > 1 {
			t.Errorf("%s: the selection is sorted, not walked in order:\n%s", name, page)
		}
		if len(aq.SubscriptionIDs) > 1 && len(aq.SubscriptionIDs) <= maxArms && aq.EntityID == "" && !strings.Contains(page, "MERGE") {
			t.Errorf("%s: the subscriptions' ranges are not merged:\n%s", name, page)
		}
	}
	for name, q := range map[string]string{
		"eventsSince":   `SELECT ` + eventCols + ` FROM events WHERE node = 'n1' AND accepted >= 0 ORDER BY accepted, seq`,
		"attemptsSince": `SELECT ` + attemptCols + ` FROM attempts WHERE node = 'n1' AND created_at >= 0 ORDER BY created_at`,
		"latest":        `SELECT ` + summaryCols + ` FROM attempts WHERE delivery_id IN (SELECT value FROM json_each('["a"]')) ORDER BY delivery_id, attempt, created_at`,
		"eventsByID":    `SELECT ` + eventCols + ` FROM events WHERE id IN (SELECT value FROM json_each('["a"]'))`,
		"due": `SELECT ` + summaryCols + ` FROM attempts INDEXED BY attempts_due
WHERE node = 'n1' AND next_attempt_at >= 0 AND next_attempt_at < 1 AND status = 'Resent' ORDER BY next_attempt_at`,
		"pending":       `SELECT event_id FROM pending WHERE subscription_id IN (SELECT value FROM json_each('["a"]')) AND (accepted >= 0 OR (status = 'Resent' AND next_attempt_at >= 0))`,
		"sweepEvents":   strings.Replace(sweepEvents, "DELETE FROM", "SELECT * FROM", 1),
		"sweepAttempts": strings.Replace(sweepAttempts, "DELETE FROM", "SELECT * FROM", 1),
	} {
		plan := queryPlan(t, db, strings.ReplaceAll(q, "?", "1"))
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "json_each") && !strings.Contains(line, "INDEX") {
				t.Errorf("%s: a whole-table scan:\n%s", name, plan)
			}
		}
	}
}

func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint("sub_", i)
	}
	return out
}

// TestPendingAdoptionMark: a delivery adopted from a silent node before
// any attempt has only the adoption's mark (Queued, attempt 0) as its
// latest record; it stays in the queue as Queued, with its delivery id.
// (The MongoDB adapter leaves it out: its queue counts only a Resent
// latest attempt as unfinished.)
func TestPendingAdoptionMark(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s, q := NewDeliveryStore(db), NewDeliveryQuery(db)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.InsertEvents(ctx, []*jqlgate.Fanout{{Event: &jqlgate.Event{ID: "evt_1", Type: "a.B:create"},
		Targets: []string{"sub_1"}, Node: "n1", Accepted: at}}); err != nil {
		t.Fatal(err)
	}
	mark := &jqlgate.Attempt{ID: "adopt_msg_1_2", DeliveryID: "msg_1", EventID: "evt_1", Event: "a.B:create", SubscriptionID: "sub_1",
		Status: jqlgate.StatusQueued, NextAttemptAt: at.Add(time.Minute), CreatedAt: at.Add(time.Minute), Node: "n2"}
	if err := s.InsertAttempts(ctx, []*jqlgate.Attempt{mark}); err != nil {
		t.Fatal(err)
	}
	got, err := q.Pending(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status != jqlgate.StatusQueued || got[0].DeliveryID != "msg_1" || !got[0].NextAttemptAt.Equal(at) {
		t.Errorf("Pending = %+v; want msg_1 Queued, due at its acceptance", got)
	}
}

// TestPendingAttemptBeforeEvent: an attempt stored before its event (an
// import in another order) decides the delivery as well.
func TestPendingAttemptBeforeEvent(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s, q := NewDeliveryStore(db), NewDeliveryQuery(db)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.InsertAttempts(ctx, []*jqlgate.Attempt{
		{ID: "a1", DeliveryID: "msg_1", EventID: "evt_1", SubscriptionID: "sub_1", Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: at, Node: "n1"},
		{ID: "a2", DeliveryID: "msg_2", EventID: "evt_1", SubscriptionID: "sub_2", Attempt: 1, Status: jqlgate.StatusResent,
			NextAttemptAt: at.Add(time.Hour), CreatedAt: at, Node: "n1"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertEvents(ctx, []*jqlgate.Fanout{{Event: &jqlgate.Event{ID: "evt_1", Type: "a.B:create"},
		Targets: []string{"sub_1", "sub_2", "sub_3"}, Node: "n1", Accepted: at.Add(-time.Second)}}); err != nil {
		t.Fatal(err)
	}
	got, err := q.PendingTo(ctx, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range got {
		keys = append(keys, p.SubscriptionID+"/"+p.Status+"/"+p.AcceptedAt.Format(time.TimeOnly))
	}
	if want := []string{"sub_2/Resent/11:59:59", "sub_3/Queued/11:59:59"}; !slices.Equal(keys, want) {
		t.Errorf("PendingTo = %v, want %v", keys, want)
	}
}

// TestDeliveryScale measures the log and queue reads over
// JQLGATE_SQLITE_SCALE attempts (skipped without it), and logs the median
// of each:
//
//	JQLGATE_SQLITE_SCALE=1000000 go test ./sqlite -run DeliveryScale -v
func TestDeliveryScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("JQLGATE_SQLITE_SCALE"))
	if n <= 0 {
		t.Skip("set JQLGATE_SQLITE_SCALE to the number of attempts")
	}
	ctx := context.Background()
	db := openTestDB(t)
	s, q := NewDeliveryStore(db), NewDeliveryQuery(db)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []string{jqlgate.StatusDone, jqlgate.StatusDone, jqlgate.StatusDone, jqlgate.StatusResent, jqlgate.StatusDone,
		jqlgate.StatusDone, jqlgate.StatusDone, jqlgate.StatusDone, jqlgate.StatusDone, jqlgate.StatusDone}
	start := time.Now()
	const batch = 2000
	for i := 0; i < n; i += batch {
		var as []*jqlgate.Attempt
		var fans []*jqlgate.Fanout
		for j := i; j < min(n, i+batch); j++ {
			st := statuses[j%len(statuses)]
			if j%1000 == 0 {
				st = jqlgate.StatusFailed
			}
			ev := fmt.Sprint("evt_", j)
			at := base.Add(time.Duration(j) * 100 * time.Millisecond)
			if j%50 == 0 {
				fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: ev, Type: "profile.Customer:create"}, Targets: []string{fmt.Sprint("sub_", j%40)}, Node: "n1", Accepted: at})
			}
			as = append(as, &jqlgate.Attempt{DeliveryID: fmt.Sprint("msg_", j), EventID: ev, Event: "profile.Customer:create",
				EntityID: fmt.Sprint("cus_", j%5000), SubscriptionID: fmt.Sprint("sub_", j%40), Attempt: 1, Status: st,
				URL: "https://example.com/hook", RequestBody: `{"id":"` + ev + `","data":{"name":"Ann"}}`, ResponseCode: 200,
				CreatedAt: at, Node: "n1"})
		}
		if err := s.InsertEvents(ctx, fans); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertAttempts(ctx, as); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("inserted %d attempts in %v (%.0f/s)", n, time.Since(start), float64(n)/time.Since(start).Seconds())
	if err := s.Heartbeat(ctx, "n1", base.Add(time.Duration(n-1000)*100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	owner := manyIDs(10)
	cases := []struct {
		name string
		aq   jqlgate.AttemptQuery
	}{
		{"subFirst", jqlgate.AttemptQuery{SubscriptionID: "sub_7", Limit: 50}},
		{"subDeep", jqlgate.AttemptQuery{SubscriptionID: "sub_7", Limit: 50, Offset: 9000}},
		{"ownerFirst", jqlgate.AttemptQuery{SubscriptionIDs: owner, Limit: 50}},
		{"ownerDeep", jqlgate.AttemptQuery{SubscriptionIDs: owner, Limit: 50, Offset: 9000}},
		{"ownerFailed", jqlgate.AttemptQuery{SubscriptionIDs: owner, Statuses: []string{jqlgate.StatusFailed}, Limit: 50}},
		{"ownerEntity", jqlgate.AttemptQuery{SubscriptionIDs: owner, EntityID: "cus_7", Limit: 50}},
		{"allFirst", jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 50}},
		{"allDeep", jqlgate.AttemptQuery{AllSubscriptions: true, Limit: 50, Offset: 9000}},
		{"allFailed", jqlgate.AttemptQuery{AllSubscriptions: true, Statuses: []string{jqlgate.StatusFailed}, Limit: 50}},
		{"allSince", jqlgate.AttemptQuery{AllSubscriptions: true, Since: base.Add(time.Duration(n/2) * 100 * time.Millisecond), Limit: 50}},
		{"delivery", jqlgate.AttemptQuery{AllSubscriptions: true, DeliveryID: "msg_4242", Limit: 50}},
	}
	median := func(f func()) time.Duration {
		var ds []time.Duration
		for range 21 {
			t0 := time.Now()
			f()
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	for _, c := range cases {
		var total int
		d := median(func() {
			_, n, err := q.Attempts(ctx, c.aq)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			total = n
		})
		t.Logf("%-12s p50 %8.2f ms  total %d", c.name, float64(d.Microseconds())/1000, total)
	}
	var queued int
	d := median(func() {
		ps, err := q.PendingTo(ctx, owner, false)
		if err != nil {
			t.Fatal(err)
		}
		queued = len(ps)
	})
	t.Logf("%-12s p50 %8.2f ms  %d pending", "queue", float64(d.Microseconds())/1000, queued)
}
