package console

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// logQuery is a filter on getWebhookLogs.
type logQuery struct {
	Sub, Status, Event, Entity, Since, Until string
	Limit, Offset                            int
}

func (l logQuery) fields(withEntity bool) map[string]any {
	f := map[string]any{"limit": json.Number(strconv.Itoa(max(l.Limit, 1))), "offset": json.Number(strconv.Itoa(l.Offset))}
	for k, v := range map[string]string{"id": l.Sub, "status": l.Status, "event": l.Event, "since": l.Since, "until": l.Until} {
		if v != "" {
			f[k] = v
		}
	}
	if withEntity && l.Entity != "" {
		f["entityId"] = l.Entity
	}
	return f
}

// needsID reports whether err is a server asking for a subscription id,
// which it does when it cannot answer for every subscription at once.
func needsID(err error) bool {
	e := jqlgate.AsError(err)
	_, ok := fieldErrors(err)["id"]
	return e.Code == jqlgate.EINVALID && ok
}

// logs reads a page of delivery attempts and the number matching. With no
// subscription it asks for all the caller's; a server that only answers
// per subscription is asked once for each.
func (c *Console) logs(q *req, l logQuery) ([]attempt, int, error) {
	var rows []attempt
	res, err := c.run(q, "system.Webhook", "getWebhookLogs", l.fields(true), &rows)
	if err == nil {
		return rows, res.Filtered, nil
	}
	if l.Sub != "" || !needsID(err) {
		return nil, 0, err
	}
	return c.logsEach(q, l)
}

func (c *Console) logsEach(q *req, l logQuery) ([]attempt, int, error) {
	subs, err := c.webhooks(q, "")
	if err != nil {
		return nil, 0, err
	}
	var all []attempt
	total := 0
	for _, s := range subs {
		each := l
		each.Sub, each.Offset, each.Limit = s.ID, 0, l.Offset+l.Limit
		var rows []attempt
		res, err := c.run(q, "system.Webhook", "getWebhookLogs", each.fields(false), &rows)
		if err != nil {
			return nil, 0, err
		}
		total += res.Filtered
		for _, a := range rows {
			if l.Entity == "" || a.Entity() == l.Entity {
				a.WebhookURL = s.WebhookURL
				all = append(all, a)
			}
		}
	}
	if l.Entity != "" {
		total = len(all)
	}
	slices.SortStableFunc(all, func(a, b attempt) int { return strings.Compare(b.CreatedAt, a.CreatedAt) })
	return window(all, l.Offset, l.Limit), total, nil
}

// queue reads a page of unfinished deliveries, like logs.
func (c *Console) queue(q *req, sub string, limit, offset int) ([]queued, int, error) {
	f := logQuery{Sub: sub, Limit: limit, Offset: offset}.fields(false)
	var rows []queued
	res, err := c.run(q, "system.Webhook", "getWebhookQueue", f, &rows)
	if err == nil {
		return rows, res.Filtered, nil
	}
	if sub != "" || !needsID(err) {
		return nil, 0, err
	}
	subs, err := c.webhooks(q, "")
	if err != nil {
		return nil, 0, err
	}
	var all []queued
	for _, s := range subs {
		var rows []queued
		f := logQuery{Sub: s.ID, Limit: maxList}.fields(false)
		if _, err := c.run(q, "system.Webhook", "getWebhookQueue", f, &rows); err != nil {
			return nil, 0, err
		}
		for _, d := range rows {
			d.WebhookURL = s.WebhookURL
			all = append(all, d)
		}
	}
	slices.SortStableFunc(all, func(a, b queued) int { return strings.Compare(b.Since(), a.Since()) })
	return window(all, offset, limit), len(all), nil
}

func window[T any](s []T, offset, limit int) []T {
	if offset >= len(s) {
		return nil
	}
	return s[offset:min(len(s), offset+limit)]
}

// webhooks lists the caller's subscriptions (every owner's for an
// operator), up to maxList.
func (c *Console) webhooks(q *req, term string) ([]webhook, error) {
	var subs []webhook
	if _, err := c.run(q, "system.Webhook", "listWebhooks", nil, &subs, page(maxList, 0)); err != nil {
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

// addHealth works out each webhook's health from its latest attempts.
func (c *Console) addHealth(q *req, subs []webhook) {
	for i := range subs {
		var rows []attempt
		f := logQuery{Sub: subs[i].ID, Limit: 10}.fields(false)
		if _, err := c.run(q, "system.Webhook", "getWebhookLogs", f, &rows); err != nil {
			continue
		}
		h := &health{}
		for _, a := range rows {
			if a.Status == "Queued" || a.Test {
				continue
			}
			if h.LastStatus == "" {
				h.LastStatus, h.LastCode, h.LastAt = a.Status, a.Code(), a.CreatedAt
			}
			if a.Status == "Done" {
				break
			}
			h.FailuresInRow++
		}
		subs[i].Health = h
	}
}
