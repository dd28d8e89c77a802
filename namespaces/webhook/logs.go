package webhook

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// maxViewBody caps each request and response body in the log view.
const maxViewBody = 16 << 10

// logEntry is one line of getWebhookLogs: an attempt, or a delivery still
// waiting for its first attempt (status Queued, attempt 0).
type logEntry struct {
	ID             string `json:"id,omitempty"`
	DeliveryID     string `json:"deliveryId"`
	EventID        string `json:"eventId"`
	Event          string `json:"event"`
	Trigger        string `json:"trigger,omitempty"` // the subscription's trigger that matched
	SubscriptionID string `json:"subscriptionId"`
	rowInfo
	Attempt int `json:"attempt"`
	// Retries is how many attempts before this one failed.
	Retries      int           `json:"retries"`
	Status       string        `json:"status"`
	ResponseCode int           `json:"responseCode"`
	Test         bool          `json:"test,omitempty"`
	Request      *requestView  `json:"request,omitempty"`
	Response     *responseView `json:"response,omitempty"`
	DurationMS   float64       `json:"durationMs"`
	Error        string        `json:"error,omitempty"`
	// Withheld is true when the request and response bodies are left out
	// because the caller may not read the event's records.
	Withheld bool `json:"withheld,omitempty"`
	// ResponseHidden: the receiver is private and the caller may no
	// longer reach private receivers (system.Webhook:privateTargets).
	ResponseHidden bool      `json:"responseHidden,omitempty"`
	NextAttemptAt  time.Time `json:"nextAttemptAt,omitzero"`
	CreatedAt      time.Time `json:"createdAt"`
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
		Attempt: a.Attempt, Retries: max(0, a.Attempt-1), Status: a.Status, ResponseCode: a.ResponseCode, Test: a.Test, Error: a.Error, NextAttemptAt: a.NextAttemptAt, CreatedAt: a.CreatedAt,
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

// hideResponse leaves out what a private receiver answered (its headers
// and body), for an owner who may no longer reach private receivers.
func (e *logEntry) hideResponse() {
	e.ResponseHidden = true
	if r := e.Response; r != nil {
		r.Headers, r.Body, r.BodyTruncated = nil, "", false
	}
}

// withhold leaves out of e what carries the event's records: the bodies,
// a GET's query string and the entity id header.
func (e *logEntry) withhold() {
	e.Withheld = true
	e.EntityID, e.EntityURL = "", ""
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

// hideCustomHeaders hides, in another owner's request as an operator sees
// it, the value of every header the dispatcher does not set itself: like
// operatorView, since custom headers may carry the receiver's credentials
// under any name. sub (nil when it is gone) names its custom headers.
func hideCustomHeaders(q *requestView, sub *jqlgate.Subscription) {
	if q == nil || len(q.Headers) == 0 {
		return
	}
	h := maps.Clone(q.Headers)
	for k := range h {
		custom := false
		if sub != nil {
			for name := range sub.Headers {
				custom = custom || strings.EqualFold(name, k)
			}
		}
		if custom || !slices.ContainsFunc(dispatcherHeaders, func(d string) bool { return strings.EqualFold(d, k) }) {
			h[k] = jqlgate.RedactedValue
		}
	}
	q.Headers = h
}

// dispatcherHeaders are the request headers the dispatcher sets itself.
var dispatcherHeaders = []string{"Content-Type", "User-Agent", "webhook-id", "webhook-timestamp", "webhook-signature",
	"X-Webhook-Event", "X-Webhook-Subscription", "X-Webhook-Trigger", entityIDHeader, "X-Webhook-Entity-Url",
	"X-Webhook-Attempt", "X-Webhook-Test"}

// entityIDHeader names the record an event is about.
const entityIDHeader = "X-Webhook-Entity-Id"

func queuedEntry(p *jqlgate.PendingDelivery) *logEntry {
	e := &logEntry{DeliveryID: p.DeliveryID, EventID: p.EventID, Event: p.Event, SubscriptionID: p.SubscriptionID,
		Status: jqlgate.StatusQueued, NextAttemptAt: p.NextAttemptAt, CreatedAt: p.AcceptedAt}
	e.EntityID = p.EntityID
	return e
}

// logsQuery reads getWebhookLogs' fields and the subscriptions they cover.
func (w *webhooks) logsQuery(ctx context.Context, cmd *jqlgate.Command) (jqlgate.AttemptQuery, *opsScope, error) {
	r := &reader{}
	f := cmd.Fields
	r.Unknown(f, "id", "subscriptionId", "owner", "entityId", "status", "event", "eventId", "deliveryId", "since", "until", "limit", "offset")
	var q jqlgate.AttemptQuery
	if v, ok := f["status"]; ok {
		q.Statuses = r.statuses("status", v)
	}
	id, subID, ownerKey := "", "", ""
	for field, dst := range map[string]*string{"event": &q.Event, "eventId": &q.EventID, "deliveryId": &q.DeliveryID,
		"entityId": &q.EntityID, "id": &id, "subscriptionId": &subID, "owner": &ownerKey} {
		if v, ok := f[field]; ok {
			*dst = r.Str(field, v, 256)
		}
	}
	if v, ok := f["since"]; ok {
		q.Since = r.Timestamp("since", v)
	}
	if v, ok := f["until"]; ok {
		q.Until = r.Timestamp("until", v)
	}
	q.Limit, q.Offset = r.Page(cmd, defaultOpsLimit, maxOpsLimit)
	if id != "" && (subID != "" || ownerKey != "") {
		r.Fail("id", "give either id, or subscriptionId and owner")
	}
	if err := r.Err(); err != nil {
		return q, nil, err
	}
	sc, err := w.scopeOf(ctx, cmd, id, subID, ownerKey)
	if err != nil {
		return q, nil, err
	}
	q.SubscriptionID, q.SubscriptionIDs, q.AllSubscriptions = sc.subID, sc.ids, sc.all
	return q, sc, nil
}

// logs answers a delivery log, newest first: deliveries still waiting for
// their first attempt (Queued), then attempts. With id it is one
// subscription's; without, every subscription of the caller's (or, for an
// operator naming owner, another owner's or every owner's). The bodies of
// attempts whose event the caller may not read (its permissions were
// narrowed since it subscribed, or an operator without read permission)
// are withheld.
func (w *webhooks) logs(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	q, sc, err := w.logsQuery(ctx, cmd)
	if err != nil {
		return nil, err
	}
	queued, err := w.queuedEntries(ctx, sc, q)
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
			readable := a.Test || canRead(cmd.Principal, a.Event)
			e.rowInfo = w.rowInfo(ctx, sc, a.SubscriptionID, a.Event, a.EntityID, readable)
			if !readable {
				e.withhold()
			}
			if privateHeld(cmd, w.scopeSub(ctx, sc, a.SubscriptionID)) {
				e.hideResponse()
			}
			entries = append(entries, e)
		}
		total += n
	}
	for _, e := range entries {
		if e.Attempt == 0 {
			e.rowInfo = w.rowInfo(ctx, sc, e.SubscriptionID, e.Event, e.EntityID, canRead(cmd.Principal, e.Event))
		}
		if sc.operated && e.Owner != cmd.Principal.Owner() {
			hideCustomHeaders(e.Request, w.scopeSub(ctx, sc, e.SubscriptionID))
		}
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
func (w *webhooks) queuedEntries(ctx context.Context, sc *opsScope, q jqlgate.AttemptQuery) ([]*logEntry, error) {
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, jqlgate.StatusQueued) {
		return nil, nil
	}
	pending, err := w.pending(ctx, sc)
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

// pending returns the unfinished deliveries of the scope.
func (w *webhooks) pending(ctx context.Context, sc *opsScope) ([]*jqlgate.PendingDelivery, error) {
	if sc.subID != "" {
		return w.Operations.PendingTo(ctx, []string{sc.subID}, false)
	}
	return w.Operations.PendingTo(ctx, sc.ids, sc.all)
}

func queuedMatches(p *jqlgate.PendingDelivery, q jqlgate.AttemptQuery) bool {
	switch {
	case q.Event != "" && p.Event != q.Event, q.EventID != "" && p.EventID != q.EventID,
		q.DeliveryID != "" && p.DeliveryID != q.DeliveryID, q.EntityID != "" && p.EntityID != q.EntityID:
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

// queueEntry is one row of getWebhookQueue: an unfinished delivery with
// its subscription and record.
type queueEntry struct {
	*jqlgate.PendingDelivery
	rowInfo
	CreatedAt    time.Time `json:"createdAt"`
	Attempt      int       `json:"attempt"`
	ResponseCode int       `json:"responseCode"`
}

// queue answers unfinished deliveries, newest event first, with the
// retries made so far and when the next attempt falls due: one
// subscription's (id), or account-wide like getWebhookLogs.
func (w *webhooks) queue(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	r := &reader{}
	f := cmd.Fields
	r.Unknown(f, "id", "subscriptionId", "owner", "entityId", "status", "event", "since", "until", "limit", "offset")
	var q jqlgate.AttemptQuery
	id, subID, ownerKey := "", "", ""
	for field, dst := range map[string]*string{"event": &q.Event, "entityId": &q.EntityID, "id": &id, "subscriptionId": &subID, "owner": &ownerKey} {
		if v, ok := f[field]; ok {
			*dst = r.Str(field, v, 256)
		}
	}
	if v, ok := f["status"]; ok {
		q.Statuses = r.statuses("status", v)
	}
	if v, ok := f["since"]; ok {
		q.Since = r.Timestamp("since", v)
	}
	if v, ok := f["until"]; ok {
		q.Until = r.Timestamp("until", v)
	}
	limit, offset := r.Page(cmd, defaultOpsLimit, maxOpsLimit)
	if id != "" && (subID != "" || ownerKey != "") {
		r.Fail("id", "give either id, or subscriptionId and owner")
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	sc, err := w.scopeOf(ctx, cmd, id, subID, ownerKey)
	if err != nil {
		return nil, err
	}
	pending, err := w.pending(ctx, sc)
	if err != nil {
		return nil, err
	}
	pending = slices.DeleteFunc(pending, func(p *jqlgate.PendingDelivery) bool {
		return len(q.Statuses) > 0 && !slices.Contains(q.Statuses, p.Status) || !queuedMatches(p, q)
	})
	out := []*queueEntry{}
	for _, p := range pageOf(pending, offset, limit) {
		e := &queueEntry{PendingDelivery: p, CreatedAt: p.AcceptedAt, Attempt: p.Attempts, ResponseCode: p.LastResponseCode}
		e.rowInfo = w.rowInfo(ctx, sc, p.SubscriptionID, p.Event, p.EntityID, canRead(cmd.Principal, p.Event))
		out = append(out, e)
	}
	return &jqlgate.Result{Data: out, Message: "Webhook queue.", Filtered: len(pending), Display: len(out)}, nil
}
