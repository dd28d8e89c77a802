package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// subscriptionsVersion is the meta counter every subscription and trusted
// site write increments.
const subscriptionsVersion = "subscriptions"

// SubscriptionStore keeps webhook subscriptions, one row each, with every
// secret sealed under the master key. Every write increments the
// subscriptions counter in meta in the same transaction, so each process's
// dispatcher notices another's writes by polling Version.
type SubscriptionStore struct {
	db     *DB
	sealer *jqlgate.Sealer
}

// NewSubscriptionStore returns the subscription store in db. sealer may be
// nil for a command that reads no secret (DisableOwned, CountByState,
// Version).
func NewSubscriptionStore(db *DB, sealer *jqlgate.Sealer) *SubscriptionStore {
	return &SubscriptionStore{db: db, sealer: sealer}
}

const subscriptionColumns = `id, owner, prefix, triggers, webhook_url, enabled, disabled_reason, trusted_site, created_at, updated_at, data`

const (
	insertSubscription = `INSERT INTO subscriptions (key, ` + subscriptionColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`
	updateSubscription = `UPDATE subscriptions SET key = ?, prefix = ?, triggers = ?, webhook_url = ?, enabled = ?,
disabled_reason = ?, trusted_site = ?, created_at = ?, updated_at = ?, data = ? WHERE id = ? AND owner = ?`
	selectSubscription      = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE id = ?`
	selectOwnedSubscription = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE id = ? AND owner = ?`
	selectSubscriptionByKey = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE key = ? AND owner = ?`
	selectEnabledSubs       = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE enabled = 1 ORDER BY id`
	countSubscriptions      = `SELECT count(*), coalesce(sum(enabled), 0) FROM subscriptions`
	disableOwnedSubs        = `UPDATE subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE owner = ? AND enabled = 1`
	disableSubscription     = `UPDATE subscriptions SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?`
	deleteSubscription      = `DELETE FROM subscriptions WHERE id = ? AND owner = ?`
)

// Create inserts sub. When the owner already has a subscription with the
// same prefix, trigger and URL, it returns that one and created false
// instead: the insert and the look-up are one write, so two creates that
// race cannot both create.
func (s *SubscriptionStore) Create(ctx context.Context, sub *jqlgate.Subscription) (_ *jqlgate.Subscription, created bool, err error) {
	if sub.ID == "" {
		sub.ID = jqlgate.NewID("sub")
	}
	r, err := s.toRow(sub)
	if err != nil {
		return nil, false, err
	}
	args, err := subscriptionArgs(r)
	if err != nil {
		return nil, false, err
	}
	var existing *subscriptionRow
	err = s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(insertSubscription, append([]any{r.Key}, args...)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return bumpVersion(tx, subscriptionsVersion)
		}
		// The key is taken: answer the subscription that holds it, read
		// in the same transaction, so it cannot be gone meanwhile.
		existing, err = scanSubscription(tx.QueryRow(selectSubscriptionByKey, r.Key, r.Owner))
		return err
	})
	if err != nil {
		return nil, false, FormatError("subscriptions.Create", err)
	}
	if existing != nil {
		found, err := s.fromRow(existing)
		return found, false, err
	}
	return sub, true, nil
}

// Get returns any owner's subscription by id, decrypted, for the dispatcher.
func (s *SubscriptionStore) Get(ctx context.Context, id string) (*jqlgate.Subscription, error) {
	return s.findOne(ctx, "subscriptions.Get", selectSubscription, id)
}

// GetOwned returns owner's subscription id; another owner's is ENOTFOUND.
func (s *SubscriptionStore) GetOwned(ctx context.Context, owner, id string) (*jqlgate.Subscription, error) {
	return s.findOne(ctx, "subscriptions.GetOwned", selectOwnedSubscription, id, owner)
}

// FindByKey returns owner's subscription of prefix, trigger and URL;
// trigger is jqlgate.TriggerKey of its triggers.
func (s *SubscriptionStore) FindByKey(ctx context.Context, owner, prefix, trigger, webhookURL string) (*jqlgate.Subscription, error) {
	key := SubscriptionKey(owner, prefix, trigger, webhookURL)
	return s.findOne(ctx, "subscriptions.FindByKey", selectSubscriptionByKey, key, owner)
}

func (s *SubscriptionStore) findOne(ctx context.Context, op, query string, args ...any) (*jqlgate.Subscription, error) {
	r, err := scanSubscription(s.db.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, FormatError(op, err)
	}
	return s.fromRow(r)
}

// List returns one page of q.Owner's subscriptions (every owner's with
// q.AllOwners), oldest first, and how many match q in all.
func (s *SubscriptionStore) List(ctx context.Context, q jqlgate.SubscriptionQuery) ([]*jqlgate.Subscription, int, error) {
	where, args := subscriptionWhere(q)
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM subscriptions`+where, args...).Scan(&total); err != nil {
		return nil, 0, FormatError("subscriptions.List", err)
	}
	query, args := subscriptionPage(q)
	subs, err := s.find(ctx, "subscriptions.List", query, args...)
	return subs, total, err
}

// subscriptionWhere is the condition of q. Its text depends only on which
// fields q sets, so each variant is prepared once; an owner's list reads
// through the owner index, and the trigger test looks only at the rows
// that index selects.
func subscriptionWhere(q jqlgate.SubscriptionQuery) (string, []any) {
	var conds []string
	var args []any
	if !q.AllOwners {
		conds, args = append(conds, "owner = ?"), append(args, q.Owner)
	}
	if q.Prefix != "" {
		conds, args = append(conds, "prefix = ?"), append(args, q.Prefix)
	}
	if q.Trigger != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM json_each(triggers) WHERE value = ?)"), append(args, q.Trigger)
	}
	if q.Enabled != nil {
		conds, args = append(conds, "enabled = ?"), append(args, *q.Enabled)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// subscriptionPage is the query of one page of q, oldest (lowest id) first.
func subscriptionPage(q jqlgate.SubscriptionQuery) (string, []any) {
	where, args := subscriptionWhere(q)
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	return `SELECT ` + subscriptionColumns + ` FROM subscriptions` + where + ` ORDER BY id LIMIT ? OFFSET ?`,
		append(args, limit, max(q.Offset, 0))
}

// ListEnabled returns every owner's enabled subscriptions, decrypted, for
// the dispatcher's index.
func (s *SubscriptionStore) ListEnabled(ctx context.Context) ([]*jqlgate.Subscription, error) {
	return s.find(ctx, "subscriptions.ListEnabled", selectEnabledSubs)
}

// CountByState counts every owner's subscriptions, enabled and disabled,
// for the metrics. It reads no secret.
func (s *SubscriptionStore) CountByState(ctx context.Context) (enabled, disabled int, err error) {
	var total int
	if err := s.db.QueryRow(ctx, countSubscriptions).Scan(&total, &enabled); err != nil {
		return 0, 0, FormatError("subscriptions.CountByState", err)
	}
	return enabled, total - enabled, nil
}

func (s *SubscriptionStore) find(ctx context.Context, op, query string, args ...any) ([]*jqlgate.Subscription, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, FormatError(op, err)
	}
	defer rows.Close()
	out := []*jqlgate.Subscription{}
	for rows.Next() {
		r, err := scanSubscription(rows)
		if err != nil {
			return nil, FormatError(op, err)
		}
		sub, err := s.fromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, FormatError(op, err)
	}
	return out, nil
}

// Update replaces sub, which must belong to sub.Owner. Changing its prefix,
// trigger or URL to those of another of the owner's subscriptions is
// ECONFLICT.
func (s *SubscriptionStore) Update(ctx context.Context, sub *jqlgate.Subscription) error {
	r, err := s.toRow(sub)
	if err != nil {
		return err
	}
	args, err := subscriptionArgs(r)
	if err != nil {
		return err
	}
	// args without id and owner, which select the row instead.
	set := append([]any{r.Key}, args[2:]...)
	return s.db.Write(ctx, func(tx *Tx) error {
		return FormatError("subscriptions.Update", execOneBump(tx, subscriptionsVersion, updateSubscription, append(set, r.ID, r.Owner)...))
	})
}

// Delete removes owner's subscription id; another owner's is ENOTFOUND.
func (s *SubscriptionStore) Delete(ctx context.Context, owner, id string) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		return FormatError("subscriptions.Delete", execOneBump(tx, subscriptionsVersion, deleteSubscription, id, owner))
	})
}

// Version returns the subscription change counter: it grows with every
// write of any process, so a changed value means "reload".
func (s *SubscriptionStore) Version(ctx context.Context) (int64, error) {
	return readVersion(ctx, s.db, subscriptionsVersion, "subscriptions.Version")
}

// DisableOwned switches off every enabled subscription of owner with a
// reason (its owner was deleted) and reports how many. It reads no secret,
// so it works on a store opened without the master key.
func (s *SubscriptionStore) DisableOwned(ctx context.Context, owner, reason string) (int, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(disableOwnedSubs, reason, nanos(disabledAt(tx)), owner)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return bumpVersion(tx, subscriptionsVersion)
	})
	if err != nil {
		return 0, FormatError("subscriptions.DisableOwned", err)
	}
	return int(n), nil
}

// Disable switches any owner's subscription off with a reason, for the
// dispatcher (a receiver that answered 410 Gone). It is ENOTFOUND when the
// subscription is gone.
func (s *SubscriptionStore) Disable(ctx context.Context, id, reason string) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		return FormatError("subscriptions.Disable", execOneBump(tx, subscriptionsVersion, disableSubscription, reason, nanos(disabledAt(tx)), id))
	})
}

// disabledAt is the updatedAt of a disabled subscription: the batch's
// clock to the millisecond, as the MongoDB store keeps it.
func disabledAt(tx *Tx) time.Time { return tx.Now.Truncate(time.Millisecond) }

// subscriptionArgs are r's values in subscriptionColumns order.
func subscriptionArgs(r *subscriptionRow) ([]any, error) {
	triggers, err := json.Marshal(r.Triggers)
	if err != nil {
		return nil, jqlgate.Internal("subscriptions.encode", err)
	}
	data, err := json.Marshal(&r.Data)
	if err != nil {
		return nil, jqlgate.Internal("subscriptions.encode", err)
	}
	return []any{r.ID, r.Owner, r.Prefix, string(triggers), r.WebhookURL, r.Enabled, r.DisabledReason,
		r.TrustedSite, r.CreatedAt, r.UpdatedAt, string(data)}, nil
}

// storeScanner is a *sql.Row or *sql.Rows.
type storeScanner interface {
	Scan(dest ...any) error
}

func scanSubscription(sc storeScanner) (*subscriptionRow, error) {
	var r subscriptionRow
	var triggers, data string
	if err := sc.Scan(&r.ID, &r.Owner, &r.Prefix, &triggers, &r.WebhookURL, &r.Enabled, &r.DisabledReason,
		&r.TrustedSite, &r.CreatedAt, &r.UpdatedAt, &data); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(triggers), &r.Triggers); err != nil {
		return nil, jqlgate.Internal("subscriptions.decode", err)
	}
	if err := json.Unmarshal([]byte(data), &r.Data); err != nil {
		return nil, jqlgate.Internal("subscriptions.decode", err)
	}
	return &r, nil
}

// execOneBump runs a statement that must change one row, and then bumps the
// version counter: no row changed is ENOTFOUND, and bumps nothing.
func execOneBump(tx *Tx, version, query string, args ...any) error {
	res, err := tx.Exec(query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	if version == "" {
		return nil
	}
	return bumpVersion(tx, version)
}

// bumpVersion increments the meta counter name inside tx, so the counter
// moves in the same commit as the write it counts.
func bumpVersion(tx *Tx, name string) error {
	_, err := tx.Exec(`INSERT INTO meta (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1`, name)
	return err
}

// readVersion reads the meta counter name; one never bumped is 0.
func readVersion(ctx context.Context, db *DB, name, op string) (int64, error) {
	var v int64
	err := db.QueryRow(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, FormatError(op, err)
}
