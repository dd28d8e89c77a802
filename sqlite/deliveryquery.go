package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// DeliveryQuery reads what DeliveryStore writes, for the operator views
// (webhook logs, queue, retries). Every read walks an index over only the
// rows it returns (or, for a filtered page, the rows it checks on the way),
// so a page costs the same at ten thousand attempts as at ten million.
type DeliveryQuery struct {
	db *DB
}

// NewDeliveryQuery returns the query side of the delivery store in db.
func NewDeliveryQuery(db *DB) *DeliveryQuery {
	return &DeliveryQuery{db: db}
}

// InsertTestAttempt records the attempt at a test event, marked as such.
func (q *DeliveryQuery) InsertTestAttempt(ctx context.Context, a *jqlgate.Attempt) error {
	a.Test = true
	if a.ID == "" {
		a.ID = jqlgate.NewID("att")
	}
	dup := false
	err := q.db.Write(ctx, func(tx *Tx) (err error) {
		dup, err = insertAttempts(tx, []*jqlgate.Attempt{a}, true)
		return err
	})
	if err == nil && dup {
		return errDuplicate("insert test attempt")
	}
	return err
}

// Bounds of a log page's plan.
const (
	// maxArms is the most subscriptions whose logs are merged, each
	// walked on its own index range; a longer list filters the log of
	// every subscription instead. SQLite allows 500 terms in a compound
	// select.
	maxArms = 64
	// countMargin is how far past the end of the page a total is counted
	// when it cannot come from the counters (see Attempts).
	countMargin = 10_000
)

// Attempts returns one page of the attempts aq selects, newest first (by
// time, then id), and how many it selects in all. An attempt after the
// first carries the request body of the first, since the store keeps it
// only there.
//
// The page walks an index in the order it returns: one subscription's
// (subscription_id, created_at, id) range; for a set of subscriptions the
// ranges of each, merged (with statuses, the range of each subscription
// and status) (SQLite's MERGE of a compound select reads only
// offset+limit entries in all); for every subscription the created_at
// index; for one delivery, event or record their own index. Statuses and
// the event type are in the log indexes, so those filters skip entries
// without reading rows; rows are read for the page alone.
//
// The total comes from attempt_counts (per subscription and status, kept
// by triggers) when aq filters on nothing else, so the usual views have
// an exact total at any size. With any other filter it is a count over
// the same index capped at offset+limit+countMargin: exact for what one
// delivery, event or record has, and never more than a bounded walk for a
// time range or an event type (the total then says "at least").
func (q *DeliveryQuery) Attempts(ctx context.Context, aq jqlgate.AttemptQuery) ([]*jqlgate.Attempt, int, error) {
	p, err := planLog(aq)
	if err != nil || p == nil {
		return []*jqlgate.Attempt{}, 0, err
	}
	limit, offset := aq.Limit, max(aq.Offset, 0)
	if limit <= 0 {
		limit = -1
	}
	page, err := readAttempts(ctx, q.db, "find attempts", `SELECT `+prefixed("a.", attemptCols)+` FROM (`+p.rowids()+
		` LIMIT ? OFFSET ?) p CROSS JOIN attempts a ON a.rowid = p.r ORDER BY p.created_at DESC, p.id DESC`, append(p.args(), limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	total, err := q.total(ctx, aq, p, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	return page, total, q.fillBodies(ctx, page)
}

// total counts what aq selects (see Attempts).
func (q *DeliveryQuery) total(ctx context.Context, aq jqlgate.AttemptQuery, p *logPlan, limit, offset int) (int, error) {
	var n int
	var err error
	if p.counted {
		cond, args := "1", []any{}
		switch {
		case aq.SubscriptionID != "":
			cond, args = "subscription_id = ?", []any{aq.SubscriptionID}
		case !aq.AllSubscriptions:
			cond, args = "subscription_id IN (SELECT value FROM json_each(?))", []any{p.subList}
		}
		if p.statuses != "" {
			cond += " AND status IN (SELECT value FROM json_each(?))"
			args = append(args, p.statuses)
		}
		err = q.db.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM attempt_counts WHERE `+cond, args...).Scan(&n)
	} else {
		cap := -1
		if limit > 0 {
			cap = offset + limit + countMargin
		}
		err = q.db.QueryRow(ctx, `SELECT count(*) FROM (`+p.ones()+` LIMIT ?)`, append(p.args(), cap)...).Scan(&n)
	}
	return n, FormatError("count attempts", err)
}

// logPlan is how a log page is read: one arm per index range (several
// for a merged set of subscriptions), each "FROM attempts INDEXED BY ...
// WHERE ..." with its arguments.
type logPlan struct {
	arms    []string
	armArgs [][]any
	// counted says the total can come from attempt_counts: aq filters on
	// subscriptions and statuses only.
	counted  bool
	subList  string
	statuses string
}

// rowids is the compound select of the arms' rowids in page order.
func (p *logPlan) rowids() string {
	var b strings.Builder
	for i, arm := range p.arms {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT rowid AS r, created_at, id " + arm)
	}
	b.WriteString(" ORDER BY created_at DESC, id DESC")
	return b.String()
}

// ones is the compound select of one row per selected attempt, for a
// count.
func (p *logPlan) ones() string {
	var b strings.Builder
	for i, arm := range p.arms {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT 1 " + arm)
	}
	return b.String()
}

func (p *logPlan) args() []any {
	var out []any
	for _, a := range p.armArgs {
		out = append(out, a...)
	}
	return out
}

// planLog chooses the index ranges aq's page walks; nil when aq selects
// nothing (an empty set of subscriptions).
func planLog(aq jqlgate.AttemptQuery) (*logPlan, error) {
	p := &logPlan{}
	var subs []string
	switch {
	case aq.SubscriptionID != "":
		subs = []string{aq.SubscriptionID}
	case !aq.AllSubscriptions:
		subs = slices.Compact(slices.Sorted(slices.Values(aq.SubscriptionIDs)))
		// Padded to a power of two with an id no subscription has, so a
		// handful of statements serve every length.
		for n := len(subs); len(subs) > 0 && len(subs) <= maxArms && n&(n-1) != 0; n++ {
			subs = append(subs, "")
		}
		if len(subs) == 0 {
			return nil, nil
		}
	}
	var err error
	if p.subList, err = jsonList(subs); err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds, args = append(conds, cond), append(args, arg)
	}
	statuses := slices.Compact(slices.Sorted(slices.Values(aq.Statuses)))
	if len(statuses) > 0 {
		if p.statuses, err = jsonList(statuses); err != nil {
			return nil, err
		}
	}
	// The status condition goes first, so that the arms of a
	// subscription and status drop it (conds[1:]).
	if len(statuses) > 0 {
		add("status IN (SELECT value FROM json_each(?))", p.statuses)
	}
	// In a fixed order: the statement text is the prepared statement's key.
	for _, f := range [...]struct{ col, v string }{{"event", aq.Event}, {"event_id", aq.EventID}, {"delivery_id", aq.DeliveryID}, {"entity_id", aq.EntityID}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if aq.EntityID != "" {
		conds = append(conds, "entity_id <> ''") // lets the partial index serve
	}
	if !aq.Since.IsZero() {
		add("created_at >= ?", nanos(aq.Since))
	}
	if !aq.Until.IsZero() {
		add("created_at < ?", nanos(aq.Until))
	}
	p.counted = aq.Event == "" && aq.EventID == "" && aq.DeliveryID == "" && aq.EntityID == "" && aq.Since.IsZero() && aq.Until.IsZero()

	arm := func(index string, conds []string, args []any) {
		where := "1"
		if len(conds) > 0 {
			where = strings.Join(conds, " AND ")
		}
		p.arms = append(p.arms, "FROM attempts INDEXED BY "+index+" WHERE "+where)
		p.armArgs = append(p.armArgs, args)
	}
	var index string
	switch {
	case aq.DeliveryID != "":
		index = "attempts_delivery"
	case aq.EventID != "":
		index = "attempts_event"
	case aq.EntityID != "":
		index = "attempts_entity"
	case subs != nil && len(statuses) > 0 && len(subs)*len(statuses) <= maxArms:
		for _, sub := range subs {
			for _, st := range statuses {
				arm("attempts_sub_status", append([]string{"subscription_id = ?", "status = ?"}, conds[1:]...),
					append([]any{sub, st}, args[1:]...))
			}
		}
		return p, nil
	case subs == nil && len(statuses) > 0 && len(statuses) <= maxArms:
		for _, st := range statuses {
			arm("attempts_status", append([]string{"status = ?"}, conds[1:]...), append([]any{st}, args[1:]...))
		}
		return p, nil
	case subs != nil && len(subs) <= maxArms:
		for _, sub := range subs {
			arm("attempts_sub_log", append([]string{"subscription_id = ?"}, conds...), append([]any{sub}, args...))
		}
		return p, nil
	default:
		index = "attempts_log"
	}
	switch {
	case len(subs) == 1:
		conds, args = append(conds, "subscription_id = ?"), append(args, subs[0])
	case subs != nil:
		conds, args = append(conds, "subscription_id IN (SELECT value FROM json_each(?))"), append(args, p.subList)
	}
	arm(index, conds, args)
	return p, nil
}

// prefixed qualifies each of the comma-separated cols with prefix.
func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		c = strings.TrimSpace(c)
		if c != "NULL" && c != "0" && c != "''" {
			c = prefix + c
		}
		parts[i] = c
	}
	return strings.Join(parts, ", ")
}

// fillBodies copies the request body of each delivery's first attempt into
// its later attempts in page.
func (q *DeliveryQuery) fillBodies(ctx context.Context, page []*jqlgate.Attempt) error {
	var ids []string
	for _, a := range page {
		if a.RequestBody == "" && a.Attempt > 1 {
			ids = append(ids, a.DeliveryID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	list, err := jsonList(ids)
	if err != nil {
		return err
	}
	rows, err := q.db.Query(ctx, `SELECT delivery_id, request_body FROM attempts INDEXED BY attempts_delivery
WHERE delivery_id IN (SELECT value FROM json_each(?)) AND attempt = 1 AND request_body <> ''`, list)
	if err != nil {
		return FormatError("find first attempts", err)
	}
	defer rows.Close()
	bodies := make(map[string]string, len(ids))
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return FormatError("find first attempts", err)
		}
		bodies[id] = body
	}
	if err := rows.Err(); err != nil {
		return FormatError("find first attempts", err)
	}
	for _, a := range page {
		if a.RequestBody == "" && a.Attempt > 1 {
			a.RequestBody = bodies[a.DeliveryID]
		}
	}
	return nil
}

// LatestAttempt returns the latest attempt (by attempt number, then time)
// at a delivery; ENOTFOUND if it has none.
func (q *DeliveryQuery) LatestAttempt(ctx context.Context, deliveryID string) (*jqlgate.Attempt, error) {
	a, err := scanAttempt(q.db.QueryRow(ctx, `SELECT `+attemptCols+` FROM attempts INDEXED BY attempts_delivery
WHERE delivery_id = ? ORDER BY attempt DESC, created_at DESC LIMIT 1`, deliveryID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Delivery not found.", Op: "find latest attempt"}
	}
	return a, FormatError("find latest attempt", err)
}

// Event returns an accepted event with its targets; ENOTFOUND if it is not
// (or no longer) stored.
func (q *DeliveryQuery) Event(ctx context.Context, id string) (*jqlgate.Fanout, error) {
	f, err := scanEvent(q.db.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = ?`, id))
	if err != nil {
		return nil, FormatError("find event", err)
	}
	return f, nil
}

// FailedSince returns the latest attempt of every delivery to subID that
// ended Failed at or after since (test attempts excepted), oldest first.
// "Latest" counts the attempts made since then, as on MongoDB. It walks the
// subscription's log index from since, checking each Failed attempt
// against its delivery's later ones by the delivery index; headers and
// bodies are left out.
func (q *DeliveryQuery) FailedSince(ctx context.Context, subID string, since time.Time) ([]*jqlgate.Attempt, error) {
	return readAttempts(ctx, q.db, "find failed attempts", `SELECT `+prefixed("a.", noBodyCols)+`
FROM attempts a INDEXED BY attempts_sub_log
WHERE a.subscription_id = ? AND a.created_at >= ? AND a.status = 'Failed' AND a.test = 0
AND NOT EXISTS (SELECT 1 FROM attempts b INDEXED BY attempts_delivery WHERE b.delivery_id = a.delivery_id AND b.attempt >= a.attempt
	AND b.rowid <> a.rowid AND b.test = 0 AND b.created_at >= ? AND (b.attempt > a.attempt OR b.created_at > a.created_at))
ORDER BY a.created_at, a.id`, subID, nanos(since), nanos(since))
}

// noBodyCols are attemptCols without the bodies.
var noBodyCols = strings.NewReplacer("request_body", "''", "response_body", "''").Replace(attemptCols)

// Health returns the health of each subscription in subIDs, from index
// seeks only, whatever its number of attempts: its latest Done attempt, its
// latest Resent and Failed ones, and its latest jqlgate.HealthSample
// attempts (test sends left out).
func (q *DeliveryQuery) Health(ctx context.Context, subIDs []string) (map[string]*jqlgate.WebhookHealth, error) {
	out := make(map[string]*jqlgate.WebhookHealth, len(subIDs))
	latest := func(sub, status string) (*jqlgate.Attempt, error) {
		as, err := readAttempts(ctx, q.db, "webhook health", `SELECT `+noBodyCols+` FROM attempts INDEXED BY attempts_sub_status
WHERE subscription_id = ? AND status = ? AND test = 0 ORDER BY created_at DESC LIMIT 1`, sub, status)
		if err != nil || len(as) == 0 {
			return nil, err
		}
		return as[0], nil
	}
	for _, sub := range subIDs {
		recent, err := q.outcomes(ctx, sub)
		if err != nil {
			return nil, err
		}
		// The latest success and failure are usually among the recent
		// attempts; only a missing one is looked up.
		done, failure := jqlgate.LatestOutcomes(recent)
		if done == nil && len(recent) == jqlgate.HealthSample {
			if done, err = latest(sub, jqlgate.StatusDone); err != nil {
				return nil, err
			}
		}
		for _, st := range []string{jqlgate.StatusResent, jqlgate.StatusFailed} {
			if failure != nil || len(recent) < jqlgate.HealthSample {
				break
			}
			a, err := latest(sub, st)
			if err != nil {
				return nil, err
			}
			if a != nil && (failure == nil || a.CreatedAt.After(failure.CreatedAt)) {
				failure = a
			}
		}
		out[sub] = jqlgate.NewWebhookHealth(sub, done, failure, recent)
	}
	return out, nil
}

// outcomes returns the status, time, response code and error of the
// latest jqlgate.HealthSample attempts of sub (test sends left out),
// newest first: only what health needs, read from the log index's rows.
func (q *DeliveryQuery) outcomes(ctx context.Context, sub string) ([]*jqlgate.Attempt, error) {
	rows, err := q.db.Query(ctx, `SELECT status, created_at, response_code, error FROM attempts INDEXED BY attempts_sub_log
WHERE subscription_id = ? AND test = 0 ORDER BY created_at DESC LIMIT ?`, sub, jqlgate.HealthSample)
	if err != nil {
		return nil, FormatError("webhook health", err)
	}
	defer rows.Close()
	var out []*jqlgate.Attempt
	for rows.Next() {
		a := &jqlgate.Attempt{SubscriptionID: sub}
		var at int64
		if err := rows.Scan(&a.Status, &at, &a.ResponseCode, &a.Error); err != nil {
			return nil, FormatError("webhook health", err)
		}
		a.CreatedAt = fromNanos(at)
		out = append(out, a)
	}
	return out, FormatError("webhook health", rows.Err())
}
