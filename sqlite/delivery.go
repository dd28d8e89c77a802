package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// DeliveryStore keeps the dispatcher's state: accepted events (with the
// subscriptions they fan out to) in events, one row per delivery attempt in
// attempts, and one checkpoint per dispatcher node in nodes. Events and
// attempts are insert-only; triggers keep the pending deliveries and the
// log's counters in the same transactions (see migration 011).
type DeliveryStore struct {
	db *DB
}

// NewDeliveryStore returns the delivery store in db. Its inserts are group
// committed by db's writer.
func NewDeliveryStore(db *DB) *DeliveryStore {
	return &DeliveryStore{db: db}
}

// Close has nothing to flush: every insert has committed when it returns.
// The DB is closed by its owner.
func (s *DeliveryStore) Close(context.Context) error { return nil }

// errDuplicate answers an insert of which some rows were already stored;
// the others are stored, as an unordered insert on MongoDB does.
func errDuplicate(op string) error {
	return &jqlgate.Error{Code: jqlgate.ECONFLICT, Message: "A record with the same unique value already exists.", Op: op}
}

// InsertEvents stores accepted events and returns once they are durable.
// Concurrent callers share one commit. Events already stored are left as
// they are, the others stored, and the answer is then ECONFLICT.
func (s *DeliveryStore) InsertEvents(ctx context.Context, fans []*jqlgate.Fanout) error {
	if len(fans) == 0 {
		return nil
	}
	ids := make([]string, len(fans))
	for i, f := range fans {
		ids[i] = f.Event.ID
	}
	list, err := jsonList(ids)
	if err != nil {
		return err
	}
	dup := false
	err = s.db.Write(ctx, func(tx *Tx) error {
		// One read finds those already stored (the writer is alone, so
		// none can appear before the insert).
		seen, err := storedEvents(tx, list)
		if err != nil {
			return err
		}
		fresh := make([]*jqlgate.Fanout, 0, len(fans))
		for _, f := range fans {
			if seen[f.Event.ID] {
				continue
			}
			seen[f.Event.ID] = true
			fresh = append(fresh, f)
		}
		dup = len(fresh) < len(fans)
		return insertFanouts(tx, fresh)
	})
	if err == nil && dup {
		return errDuplicate("insert events")
	}
	return err
}

// storedEvents returns which of the events in the JSON list ids are
// stored.
func storedEvents(tx *Tx, ids string) (map[string]bool, error) {
	rows, err := tx.Query(`SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?))`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		seen[id] = true
	}
	return seen, rows.Err()
}

// eventCols are the columns scanEvent reads.
const eventCols = `id, type, entity_id, node, accepted, seq, timestamp, targets, changed, data`

func scanEvent(sc interface{ Scan(...any) error }) (*jqlgate.Fanout, error) {
	var (
		ev            jqlgate.Event
		f             = &jqlgate.Fanout{Event: &ev}
		accepted, ts  int64
		targets       string
		changed, data sql.NullString
	)
	if err := sc.Scan(&ev.ID, &ev.Type, &ev.EntityID, &f.Node, &accepted, &f.Seq, &ts, &targets, &changed, &data); err != nil {
		return nil, err
	}
	f.Accepted, ev.Timestamp = fromNanos(accepted), fromNanos(ts)
	if err := json.Unmarshal([]byte(targets), &f.Targets); err != nil {
		return nil, err
	}
	if changed.Valid {
		if err := json.Unmarshal([]byte(changed.String), &ev.Changed); err != nil {
			return nil, err
		}
		if len(ev.Changed) == 0 {
			ev.Changed = nil
		}
	}
	if data.Valid {
		// Numbers stay exact (json.Number), as large ids must.
		d := json.NewDecoder(bytes.NewReader([]byte(data.String)))
		d.UseNumber()
		if err := d.Decode(&ev.Data); err != nil {
			return nil, err
		}
		if len(ev.Data) == 0 {
			ev.Data = nil
		}
	}
	return f, nil
}

// readEvents runs a read of eventCols.
func (s *DeliveryStore) readEvents(ctx context.Context, op, query string, args ...any) ([]*jqlgate.Fanout, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, FormatError(op, err)
	}
	defer rows.Close()
	var out []*jqlgate.Fanout
	for rows.Next() {
		f, err := scanEvent(rows)
		if err != nil {
			return nil, FormatError(op, err)
		}
		out = append(out, f)
	}
	return out, FormatError(op, rows.Err())
}

// EventsSince returns node's events accepted at or after since, oldest
// first.
func (s *DeliveryStore) EventsSince(ctx context.Context, node string, since time.Time) ([]*jqlgate.Fanout, error) {
	return s.readEvents(ctx, "find events", `SELECT `+eventCols+` FROM events WHERE node = ? AND accepted >= ? ORDER BY accepted, seq`,
		node, nanos(since))
}

// derivedHeaders are the request headers every delivery sends whose
// values are the attempt's own fields (dispatcher.setWebhookHeaders): a
// row leaves out each one whose value is exactly what it derives to, and
// flags it by its bit in rh_derived, which saves a few hundred bytes per
// attempt. A header with any other value (a redacted custom header of the
// same name, say) is kept.
var derivedHeaders = [...]struct {
	name  string
	value func(a *jqlgate.Attempt) string
}{
	{"webhook-id", func(a *jqlgate.Attempt) string { return a.DeliveryID }},
	{"webhook-timestamp", func(a *jqlgate.Attempt) string { return strconv.FormatInt(a.CreatedAt.Unix(), 10) }},
	{"X-Webhook-Event", func(a *jqlgate.Attempt) string { return a.Event }},
	{"X-Webhook-Subscription", func(a *jqlgate.Attempt) string { return a.SubscriptionID }},
	{"X-Webhook-Trigger", func(a *jqlgate.Attempt) string { return a.Trigger }},
	{"X-Webhook-Entity-Id", func(a *jqlgate.Attempt) string { return a.EntityID }},
	{"X-Webhook-Attempt", func(a *jqlgate.Attempt) string { return strconv.Itoa(a.Attempt) }},
	{"Content-Type", func(*jqlgate.Attempt) string { return "application/json" }},
}

// storedHeaders returns a's request headers as stored, without the
// derivable ones, and the bits of those it left out; a's map is not
// changed.
func storedHeaders(a *jqlgate.Attempt) (any, int, error) {
	h := a.RequestHeaders
	bits := 0
	for i, d := range derivedHeaders {
		if v, ok := h[d.name]; ok && v == d.value(a) {
			bits |= 1 << i
		}
	}
	if bits != 0 {
		out := make(map[string]string, len(h))
		for k, v := range h {
			out[k] = v
		}
		for i, d := range derivedHeaders {
			if bits&(1<<i) != 0 {
				delete(out, d.name)
			}
		}
		h = out
	}
	j, err := jsonOrNull(h)
	return j, bits, err
}

// jsonOrNull is m as a JSON object, or NULL when it is empty.
func jsonOrNull(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// insertAttemptsSQL is the insert of n attempts. modernc.org/sqlite
// compiles a statement (and the triggers it fires) on every execution, so
// rows go in statements of up to insertChunk at a time rather than one
// each.
func insertAttemptsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO attempts (id, delivery_id, event_id, event, trig, entity_id, subscription_id, attempt, status, url,
request_headers, rh_derived, request_body, response_code, response_headers, response_body, error, duration, next_attempt_at,
created_at, node, test) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	return b.String()
}

// insertChunk bounds the rows of one multi-row insert.
const insertChunk = 64

var insertAttemptSQL = func() (s [insertChunk + 1]string) {
	for n := 1; n <= insertChunk; n++ {
		s[n] = insertAttemptsSQL(n)
	}
	return s
}()

// insertAttempts stores attempts in tx, marked as attempts at test events
// if test, and reports whether any was already stored (it is then left as
// it was).
func insertAttempts(tx *Tx, attempts []*jqlgate.Attempt, test bool) (dup bool, err error) {
	for len(attempts) > 0 {
		chunk := attempts[:min(len(attempts), insertChunk)]
		attempts = attempts[len(chunk):]
		args := make([]any, 0, 22*len(chunk))
		for _, a := range chunk {
			reqHeaders, derived, err := storedHeaders(a)
			if err != nil {
				return false, err
			}
			respHeaders, err := jsonOrNull(a.ResponseHeaders)
			if err != nil {
				return false, err
			}
			args = append(args, a.ID, a.DeliveryID, a.EventID, a.Event, a.Trigger, a.EntityID, a.SubscriptionID,
				a.Attempt, a.Status, a.URL, reqHeaders, derived, a.RequestBody, a.ResponseCode, respHeaders, a.ResponseBody,
				a.Error, int64(a.Duration), nanos(a.NextAttemptAt), nanos(a.CreatedAt), a.Node, test)
		}
		res, err := tx.Exec(insertAttemptSQL[len(chunk)], args...)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, err
		}
		dup = dup || int(n) < len(chunk)
	}
	return dup, nil
}

// InsertAttempts records delivery attempts and returns once they are
// durable. Concurrent callers share one commit. Attempts without an ID get
// one. An attempt already stored is left as it was, the others stored,
// and the answer is then ECONFLICT.
func (s *DeliveryStore) InsertAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error {
	if len(attempts) == 0 {
		return nil
	}
	for _, a := range attempts {
		if a.ID == "" {
			a.ID = jqlgate.NewID("att")
		}
	}
	dup := false
	err := s.db.Write(ctx, func(tx *Tx) (err error) {
		dup, err = insertAttempts(tx, attempts, false)
		return err
	})
	if err == nil && dup {
		return errDuplicate("insert attempts")
	}
	return err
}

// attemptCols are the columns scanAttempt reads; summaryCols read the same
// without the headers and bodies, which scheduling does not need.
const (
	attemptCols = `id, delivery_id, event_id, event, trig, entity_id, subscription_id, attempt, status, url,
request_headers, rh_derived, request_body, response_code, response_headers, response_body, error, duration, next_attempt_at,
created_at, node, test`
	summaryCols = `id, delivery_id, event_id, event, trig, entity_id, subscription_id, attempt, status, url,
NULL, 0, '', response_code, NULL, '', error, duration, next_attempt_at, created_at, node, test`
)

func scanAttempt(sc interface{ Scan(...any) error }) (*jqlgate.Attempt, error) {
	var (
		a                  jqlgate.Attempt
		reqH, respH        sql.NullString
		derived            int
		duration, next, at int64
	)
	if err := sc.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.Event, &a.Trigger, &a.EntityID, &a.SubscriptionID, &a.Attempt,
		&a.Status, &a.URL, &reqH, &derived, &a.RequestBody, &a.ResponseCode, &respH, &a.ResponseBody, &a.Error,
		&duration, &next, &at, &a.Node, &a.Test); err != nil {
		return nil, err
	}
	a.Duration, a.NextAttemptAt, a.CreatedAt = time.Duration(duration), fromNanos(next), fromNanos(at)
	if reqH.Valid {
		if err := json.Unmarshal([]byte(reqH.String), &a.RequestHeaders); err != nil {
			return nil, err
		}
	}
	if respH.Valid {
		if err := json.Unmarshal([]byte(respH.String), &a.ResponseHeaders); err != nil {
			return nil, err
		}
	}
	if derived != 0 {
		if a.RequestHeaders == nil {
			a.RequestHeaders = make(map[string]string, len(derivedHeaders))
		}
		for i, d := range derivedHeaders {
			if derived&(1<<i) != 0 {
				a.RequestHeaders[d.name] = d.value(&a)
			}
		}
	}
	return &a, nil
}

// readAttempts runs a read whose columns are attemptCols (or summaryCols).
func readAttempts(ctx context.Context, db *DB, op, query string, args ...any) ([]*jqlgate.Attempt, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, FormatError(op, err)
	}
	defer rows.Close()
	var out []*jqlgate.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, FormatError(op, err)
		}
		out = append(out, a)
	}
	return out, FormatError(op, rows.Err())
}

// AttemptsSince returns the attempts at deliveries of node's events made at
// or after since. Every attempt at an event accepted at or after since is
// among them, because an attempt is never older than its event.
func (s *DeliveryStore) AttemptsSince(ctx context.Context, node string, since time.Time) ([]*jqlgate.Attempt, error) {
	return readAttempts(ctx, s.db, "find attempts", `SELECT `+attemptCols+` FROM attempts WHERE node = ? AND created_at >= ? ORDER BY created_at`,
		node, nanos(since))
}
