package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jqlgate/jqlgate"
)

// TrustedSiteStore keeps trusted sites, one row each, with every
// credential sealed under the master key. Its writes bump the subscription
// change counter (see SubscriptionStore.Version) in the same transaction,
// so every process's dispatcher picks up a changed site on its version
// poll.
type TrustedSiteStore struct {
	db     *DB
	sealer *jqlgate.Sealer
}

// NewTrustedSiteStore returns the trusted site store in db.
func NewTrustedSiteStore(db *DB, sealer *jqlgate.Sealer) *TrustedSiteStore {
	return &TrustedSiteStore{db: db, sealer: sealer}
}

const siteColumns = `id, owner, name, created_at, updated_at, data`

const (
	insertSite      = `INSERT INTO trusted_sites (` + siteColumns + `) VALUES (?, ?, ?, ?, ?, ?)`
	updateSite      = `UPDATE trusted_sites SET name = ?, created_at = ?, updated_at = ?, data = ? WHERE id = ? AND owner = ?`
	deleteSite      = `DELETE FROM trusted_sites WHERE id = ? AND owner = ?`
	selectSite      = `SELECT ` + siteColumns + ` FROM trusted_sites WHERE id = ?`
	selectOwnedSite = `SELECT ` + siteColumns + ` FROM trusted_sites WHERE id = ? AND owner = ?`
	countOwnerSites = `SELECT count(*) FROM trusted_sites WHERE owner = ?`
	countAllSites   = `SELECT count(*) FROM trusted_sites`
	pageOwnerSites  = `SELECT ` + siteColumns + ` FROM trusted_sites WHERE owner = ? ORDER BY id LIMIT ? OFFSET ?`
	pageAllSites    = `SELECT ` + siteColumns + ` FROM trusted_sites ORDER BY id LIMIT ? OFFSET ?`
	selectSiteUses  = `SELECT id, webhook_url FROM subscriptions WHERE trusted_site = ? ORDER BY id`
)

// Create inserts site; another of the owner's sites with the same name is
// ECONFLICT.
func (s *TrustedSiteStore) Create(ctx context.Context, site *jqlgate.TrustedSite) error {
	if site.ID == "" {
		site.ID = jqlgate.NewID("site")
	}
	data, err := s.seal(site)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(insertSite, site.ID, site.Owner, site.Name, nanos(site.CreatedAt), nanos(site.UpdatedAt), data); err != nil {
			return FormatError("trustedSites.Create", err)
		}
		return bumpVersion(tx, subscriptionsVersion)
	})
}

// Get returns any owner's site by id, decrypted, for the dispatcher.
func (s *TrustedSiteStore) Get(ctx context.Context, id string) (*jqlgate.TrustedSite, error) {
	return s.findOne(ctx, "trustedSites.Get", selectSite, id)
}

// GetOwned returns owner's site id; another owner's is ENOTFOUND.
func (s *TrustedSiteStore) GetOwned(ctx context.Context, owner, id string) (*jqlgate.TrustedSite, error) {
	return s.findOne(ctx, "trustedSites.GetOwned", selectOwnedSite, id, owner)
}

func (s *TrustedSiteStore) findOne(ctx context.Context, op, query string, args ...any) (*jqlgate.TrustedSite, error) {
	site, err := s.scan(s.db.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, FormatError(op, err)
	}
	return site, nil
}

// List returns one page of q.Owner's sites (every owner's with
// q.AllOwners), oldest first, and how many match in all.
func (s *TrustedSiteStore) List(ctx context.Context, q jqlgate.TrustedSiteQuery) ([]*jqlgate.TrustedSite, int, error) {
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	count, page, args := countOwnerSites, pageOwnerSites, []any{q.Owner}
	if q.AllOwners {
		count, page, args = countAllSites, pageAllSites, nil
	}
	var total int
	if err := s.db.QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, FormatError("trustedSites.List", err)
	}
	rows, err := s.db.Query(ctx, page, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, FormatError("trustedSites.List", err)
	}
	defer rows.Close()
	out := []*jqlgate.TrustedSite{}
	for rows.Next() {
		site, err := s.scan(rows)
		if err != nil {
			return nil, 0, FormatError("trustedSites.List", err)
		}
		out = append(out, site)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, FormatError("trustedSites.List", err)
	}
	return out, total, nil
}

// Update replaces site, which must belong to site.Owner; renaming it to
// the name of another of the owner's sites is ECONFLICT.
func (s *TrustedSiteStore) Update(ctx context.Context, site *jqlgate.TrustedSite) error {
	data, err := s.seal(site)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		return FormatError("trustedSites.Update", execOneBump(tx, subscriptionsVersion, updateSite,
			site.Name, nanos(site.CreatedAt), nanos(site.UpdatedAt), data, site.ID, site.Owner))
	})
}

// Delete removes owner's site id; another owner's is ENOTFOUND. A site a subscription still uses is ECONFLICT, checked in the delete's
// own transaction, so no subscription is left naming a site that is gone.
func (s *TrustedSiteStore) Delete(ctx context.Context, owner, id string) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		// Deleted first, so another owner's site is ENOTFOUND whether or
		// not it is used; a refusal rolls the delete back.
		if err := execOneBump(tx, subscriptionsVersion, deleteSite, id, owner); err != nil {
			return FormatError("trustedSites.Delete", err)
		}
		return refuseUsedSite(tx, id)
	})
}

// errSiteInUse answers the delete of a site that subscriptions use.
var errSiteInUse = &jqlgate.Error{Code: jqlgate.ECONFLICT, Message: "The trusted site is used by subscriptions; move or delete them first.", Field: "id"}

func refuseUsedSite(tx *Tx, id string) error {
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM subscriptions WHERE trusted_site = ? LIMIT 1)`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errSiteInUse
	}
	return nil
}

// Uses returns the subscriptions that use site id, oldest first, through
// the subscriptions' trusted_site index.
func (s *TrustedSiteStore) Uses(ctx context.Context, id string) ([]jqlgate.SiteUse, error) {
	rows, err := s.db.Query(ctx, selectSiteUses, id)
	if err != nil {
		return nil, FormatError("trustedSites.Uses", err)
	}
	defer rows.Close()
	out := []jqlgate.SiteUse{}
	for rows.Next() {
		var u jqlgate.SiteUse
		if err := rows.Scan(&u.SubscriptionID, &u.WebhookURL); err != nil {
			return nil, FormatError("trustedSites.Uses", err)
		}
		out = append(out, u)
	}
	return out, FormatError("trustedSites.Uses", rows.Err())
}

// siteData is a trusted site's data column; every credential is sealed,
// header values included.
type siteData struct {
	BaseURL    string            `json:"baseUrl"`
	BasicAuth  *basicAuthData    `json:"basicAuth,omitempty"`
	OAuth2     *oauth2Data       `json:"oauth2,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	PublicOnly bool              `json:"publicOnly,omitempty"`
}

// siteHeaderContext is the MongoDB store's seal context of a site header.
func siteHeaderContext(id, name string) string { return id + "/headers." + name }

// seal returns site's data column.
func (s *TrustedSiteStore) seal(site *jqlgate.TrustedSite) (string, error) {
	d := siteData{BaseURL: site.BaseURL, PublicOnly: site.PublicOnly}
	var err error
	if d.BasicAuth, err = sealBasicAuth(s.sealer, site.BasicAuth, site.ID); err != nil {
		return "", jqlgate.Internal("trustedSites.seal", err)
	}
	if d.OAuth2, err = sealOAuth2(s.sealer, site.OAuth2, site.ID); err != nil {
		return "", jqlgate.Internal("trustedSites.seal", err)
	}
	if d.Headers, err = sealHeaders(s.sealer, site.Headers, func(name string) string { return siteHeaderContext(site.ID, name) }); err != nil {
		return "", jqlgate.Internal("trustedSites.seal", err)
	}
	b, err := json.Marshal(&d)
	if err != nil {
		return "", jqlgate.Internal("trustedSites.seal", err)
	}
	return string(b), nil
}

// scan reads one site row and opens its credentials.
func (s *TrustedSiteStore) scan(sc storeScanner) (*jqlgate.TrustedSite, error) {
	site := &jqlgate.TrustedSite{}
	var created, updated int64
	var data string
	if err := sc.Scan(&site.ID, &site.Owner, &site.Name, &created, &updated, &data); err != nil {
		return nil, err
	}
	site.CreatedAt, site.UpdatedAt = fromNanos(created), fromNanos(updated)
	var d siteData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, jqlgate.Internal("trustedSites.decode", err)
	}
	site.BaseURL, site.PublicOnly = d.BaseURL, d.PublicOnly
	var err error
	if site.BasicAuth, err = openBasicAuth(s.sealer, d.BasicAuth, site.ID); err == nil {
		if site.OAuth2, err = openOAuth2(s.sealer, d.OAuth2, site.ID); err == nil {
			site.Headers, err = openHeaders(s.sealer, d.Headers, func(name string) string { return siteHeaderContext(site.ID, name) })
		}
	}
	if err != nil {
		return nil, jqlgate.Internal("trustedSites.open", fmt.Errorf("trusted site %s: %w", site.ID, err))
	}
	return site, nil
}
