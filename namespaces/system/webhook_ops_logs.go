package system

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/jqlgate/jqlgate"
)

// maxViewBody caps each request and response body in the log view.
const maxViewBody = 16 << 10

// logEntry is one line of getWebhookLogs: an attempt, or a delivery still
// waiting for its first attempt (status Queued, attempt 0).
type logEntry struct {
	ID             string        `json:"id,omitempty"`
	DeliveryID     string        `json:"deliveryId"`
	EventID        string        `json:"eventId"`
	Event          string        `json:"event"`
	Trigger        string        `json:"trigger,omitempty"` // the subscription's trigger that matched
	SubscriptionID string        `json:"subscriptionId"`
	Attempt        int           `json:"attempt"`
	Status         string        `json:"status"`
	Test           bool          `json:"test,omitempty"`
	Request        *requestView  `json:"request,omitempty"`
	Response       *responseView `json:"response,omitempty"`
	DurationMS     float64       `json:"durationMs"`
	Error          string        `json:"error,omitempty"`
	// Withheld is true when the request and response bodies are left out
	// because the caller may not read the event's records.
	Withheld      bool      `json:"withheld,omitempty"`
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	CreatedAt     time.Time `json:"createdAt"`
}

type requestView struct {
	URL           string            `json:"url"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
}

type responseView struct {
	Code          int               `json:"code"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
}

func capBody(s string) (string, bool) {
	if len(s) > maxViewBody {
		return s[:maxViewBody], true
	}
	return s, false
}

func entryOf(a *jqlgate.Attempt) *logEntry {
	e := &logEntry{ID: a.ID, DeliveryID: a.DeliveryID, EventID: a.EventID, Event: a.Event, Trigger: a.Trigger, SubscriptionID: a.SubscriptionID,
		Attempt: a.Attempt, Status: a.Status, Test: a.Test, Error: a.Error, NextAttemptAt: a.NextAttemptAt, CreatedAt: a.CreatedAt,
		DurationMS: float64(a.Duration.Microseconds()) / 1000}
	if a.URL != "" {
		e.Request = &requestView{URL: a.URL, Headers: a.RequestHeaders}
		e.Request.Body, e.Request.BodyTruncated = capBody(a.RequestBody)
	}
	if a.ResponseCode != 0 {
		e.Response = &responseView{Code: a.ResponseCode, Headers: a.ResponseHeaders}
		e.Response.Body, e.Response.BodyTruncated = capBody(a.ResponseBody)
	}
	return e
}

// withhold leaves out of e what carries the event's records: the bodies,
// a GET's query string and the entity id header.
func (e *logEntry) withhold() {
	e.Withheld = true
	if q := e.Request; q != nil {
		q.Body, q.BodyTruncated = "", false
		if u, err := url.Parse(q.URL); err == nil && u.RawQuery != "" {
			u.RawQuery = ""
			q.URL = u.String()
		}
		if _, ok := q.Headers[entityIDHeader]; ok {
			q.Headers = maps.Clone(q.Headers)
			delete(q.Headers, entityIDHeader)
		}
	}
	if r := e.Response; r != nil {
		r.Body, r.BodyTruncated = "", false
	}
}

// entityIDHeader names the record an event is about.
const entityIDHeader = "X-Webhook-Entity-Id"

func queuedEntry(p *jqlgate.PendingDelivery) *logEntry {
	return &logEntry{DeliveryID: p.DeliveryID, EventID: p.EventID, Event: p.Event, SubscriptionID: p.SubscriptionID,
		Status: jqlgate.StatusQueued, NextAttemptAt: p.NextAttemptAt, CreatedAt: p.AcceptedAt}
}

// logsQuery reads getWebhookLogs' fields.
func logsQuery(cmd *jqlgate.Command) (jqlgate.AttemptQuery, error) {
	r := &reader{}
	f := cmd.Fields
	r.unknown(f, "id", "status", "event", "eventId", "deliveryId", "since", "until", "limit", "offset")
	q := jqlgate.AttemptQuery{SubscriptionID: r.required(f, "id")}
	if v, ok := f["status"]; ok {
		q.Statuses = r.statuses("status", v)
	}
	for field, dst := range map[string]*string{"event": &q.Event, "eventId": &q.EventID, "deliveryId": &q.DeliveryID} {
		if v, ok := f[field]; ok {
			*dst = r.str(field, v, 256)
		}
	}
	if v, ok := f["since"]; ok {
		q.Since = r.timestamp("since", v)
	}
	if v, ok := f["until"]; ok {
		q.Until = r.timestamp("until", v)
	}
	q.Limit, q.Offset = page(r, cmd)
	return q, r.err()
}

// logs answers a subscription's delivery log, newest first: deliveries
// still waiting for their first attempt (Queued), then attempts. The
// bodies of attempts whose event the caller may not read (its permissions
// were narrowed since it subscribed) are withheld.
func (w *webhooks) logs(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	q, err := logsQuery(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := w.ownedSub(ctx, cmd, "id", q.SubscriptionID); err != nil {
		return nil, err
	}
	queued, err := w.queuedEntries(ctx, q)
	if err != nil {
		return nil, err
	}
	entries, total := pageOf(queued, q.Offset, q.Limit), len(queued)
	if len(q.Statuses) == 0 || slices.ContainsFunc(q.Statuses, func(s string) bool { return s != jqlgate.StatusQueued }) {
		aq := q
		aq.Statuses = slices.DeleteFunc(slices.Clone(q.Statuses), func(s string) bool { return s == jqlgate.StatusQueued })
		aq.Offset, aq.Limit = max(0, q.Offset-len(queued)), q.Limit-len(entries)
		attempts, n, err := w.attemptsPage(ctx, aq)
		if err != nil {
			return nil, err
		}
		for _, a := range attempts {
			e := entryOf(a)
			if !a.Test && !canRead(cmd.Principal, a.Event) {
				e.withhold()
			}
			entries = append(entries, e)
		}
		total += n
	}
	if entries == nil {
		entries = []*logEntry{}
	}
	return &jqlgate.Result{Data: entries, Message: "Webhook logs.", Filtered: total, Display: len(entries)}, nil
}

// attemptsPage reads a page of attempts; a page of size 0 still counts.
func (w *webhooks) attemptsPage(ctx context.Context, q jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int, error) {
	if q.Limit > 0 {
		return w.Operations.Attempts(ctx, q)
	}
	q.Limit = 1
	_, n, err := w.Operations.Attempts(ctx, q)
	return nil, n, err
}

// queuedEntries are the deliveries q selects that wait for their first
// attempt, when q asks for status Queued or for any status.
func (w *webhooks) queuedEntries(ctx context.Context, q jqlgate.AttemptQuery) ([]*logEntry, error) {
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, jqlgate.StatusQueued) {
		return nil, nil
	}
	pending, err := w.Operations.Pending(ctx, q.SubscriptionID)
	if err != nil {
		return nil, err
	}
	var out []*logEntry
	for _, p := range pending {
		if p.Status == jqlgate.StatusQueued && queuedMatches(p, q) {
			out = append(out, queuedEntry(p))
		}
	}
	return out, nil
}

func queuedMatches(p *jqlgate.PendingDelivery, q jqlgate.AttemptQuery) bool {
	switch {
	case q.Event != "" && p.Event != q.Event, q.EventID != "" && p.EventID != q.EventID,
		q.DeliveryID != "" && p.DeliveryID != q.DeliveryID:
		return false
	case !q.Since.IsZero() && p.AcceptedAt.Before(q.Since), !q.Until.IsZero() && !p.AcceptedAt.Before(q.Until):
		return false
	}
	return true
}

// pageOf returns s[offset:offset+limit], clipped.
func pageOf[T any](s []T, offset, limit int) []T {
	if offset >= len(s) {
		return nil
	}
	return slices.Clone(s[offset:min(len(s), offset+limit)])
}

// queue answers a subscription's unfinished deliveries with the retries
// made so far and when the next attempt falls due.
func (w *webhooks) queue(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	r := &reader{}
	r.unknown(cmd.Fields, "id", "limit", "offset")
	id := r.required(cmd.Fields, "id")
	limit, offset := page(r, cmd)
	if err := r.err(); err != nil {
		return nil, err
	}
	if _, err := w.ownedSub(ctx, cmd, "id", id); err != nil {
		return nil, err
	}
	pending, err := w.Operations.Pending(ctx, id)
	if err != nil {
		return nil, err
	}
	out := pageOf(pending, offset, limit)
	if out == nil {
		out = []*jqlgate.PendingDelivery{}
	}
	return &jqlgate.Result{Data: out, Message: "Webhook queue.", Filtered: len(pending), Display: len(out)}, nil
}
