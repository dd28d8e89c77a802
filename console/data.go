package console

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// logQuery is a filter on getWebhookLogs and getWebhookQueue.
type logQuery struct {
	// ID reads one subscription's log (any owner's for an operator);
	// without it the log is account-wide, narrowed by Sub.
	ID                                       string
	Sub, Status, Event, Entity, Since, Until string
	Delivery                                 string
	Limit, Offset                            int
}

// fields are the intent's fields. Account-wide, an operator asks for
// every owner's rows (owner "*"); anyone else gets their own.
func (l logQuery) fields(operator bool) map[string]any {
	f := map[string]any{"limit": json.Number(strconv.Itoa(max(l.Limit, 1))), "offset": json.Number(strconv.Itoa(l.Offset))}
	for k, v := range map[string]string{"id": l.ID, "subscriptionId": l.Sub, "status": l.Status, "event": l.Event,
		"entityId": l.Entity, "since": l.Since, "until": l.Until, "deliveryId": l.Delivery} {
		if v != "" {
			f[k] = v
		}
	}
	if l.ID == "" && operator {
		f["owner"] = "*"
	}
	return f
}

// operator reports whether the signed-in user holds system.Webhook:operate,
// and so sees every owner's webhooks, logs and queue.
func (q *req) operator() bool { return q.p != nil && q.p.CanOperate() }

// total is the number of rows matching, read defensively: a server that
// does not count (or counts only a window) still pages by what it sent.
// more says whether rows follow this page.
func total(res *jqlgate.Result, offset, got int, more bool) int {
	n := offset + got
	if more {
		n++
	}
	if res != nil && res.Filtered > n {
		return res.Filtered
	}
	return n
}

// logs reads a page of delivery attempts, newest first, and the number
// matching. It asks for one row more than it shows, to know whether
// another page follows without trusting the count.
func (c *Console) logs(q *req, l logQuery) (rows []attempt, n int, more bool, err error) {
	limit := max(l.Limit, 1)
	l.Limit = limit + 1
	res, err := c.run(q, "system.Webhook", "getWebhookLogs", l.fields(q.operator()), &rows)
	if err != nil {
		return nil, 0, false, err
	}
	if more = len(rows) > limit; more {
		rows = rows[:limit]
	}
	return rows, total(res, l.Offset, len(rows), more), more, nil
}

// queue reads a page of unfinished deliveries, like logs.
func (c *Console) queue(q *req, l logQuery) (rows []queued, n int, more bool, err error) {
	limit := max(l.Limit, 1)
	l.Limit = limit + 1
	res, err := c.run(q, "system.Webhook", "getWebhookQueue", l.fields(q.operator()), &rows)
	if err != nil {
		return nil, 0, false, err
	}
	if more = len(rows) > limit; more {
		rows = rows[:limit]
	}
	return rows, total(res, l.Offset, len(rows), more), more, nil
}

// markLatest sets Latest on each row that is its delivery's newest
// attempt. Rows come newest first, so a delivery's first row on the page
// is its newest here; sure tells whether that is the newest of all (the
// page is the first and no filter hid an attempt). Otherwise each
// delivery that could be retried is looked up on its own.
func (c *Console) markLatest(q *req, rows []attempt, sure bool) {
	seen := map[string]bool{}
	for i := range rows {
		a := &rows[i]
		if a.DeliveryID == "" || seen[a.DeliveryID] {
			continue
		}
		seen[a.DeliveryID] = true
		if sure || !failing(a.Status) {
			a.Latest = true
			continue
		}
		var last []attempt
		if _, err := c.run(q, "system.Webhook", "getWebhookLogs", logQuery{Delivery: a.DeliveryID, Limit: 1}.fields(q.operator()), &last); err == nil && len(last) > 0 {
			a.Latest = last[0].ID == a.ID || last[0].Attempt == a.Attempt && last[0].Status == a.Status
		}
	}
}

// webhooks lists the caller's subscriptions (every owner's for an
// operator), up to maxList.
func (c *Console) webhooks(q *req, term string) ([]webhook, error) {
	var subs []webhook
	fields := map[string]any{"health": true}
	if q.operator() {
		fields["owner"] = "*"
	}
	if _, err := c.run(q, "system.Webhook", "listWebhooks", fields, &subs, page(maxList, 0)); err != nil {
		return nil, err
	}
	if term == "" {
		return subs, nil
	}
	term = strings.ToLower(term)
	out := subs[:0]
	for _, s := range subs {
		hay := strings.ToLower(strings.Join(append([]string{s.ID, s.Prefix, s.WebhookURL, s.Owner, s.DisabledReason}, s.Events()...), " "))
		if strings.Contains(hay, term) {
			out = append(out, s)
		}
	}
	return out, nil
}
