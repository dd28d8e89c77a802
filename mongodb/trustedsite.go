package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// TrustedSiteCollection holds the trusted sites.
const TrustedSiteCollection = "trusted_sites"

// TrustedSiteStore keeps trusted sites: small documents, one per site,
// with every credential sealed under the master key. Its writes bump the
// subscription change counter (see SubscriptionStore.Version), so every
// process's dispatcher picks up a changed site on its version poll.
type TrustedSiteStore struct {
	coll   *mongo.Collection
	subs   *mongo.Collection
	meta   *mongo.Collection
	sealer *jqlgate.Sealer
}

// NewTrustedSiteStore returns a store over db's trusted_sites collection.
func NewTrustedSiteStore(db *mongo.Database, sealer *jqlgate.Sealer) *TrustedSiteStore {
	return &TrustedSiteStore{
		coll: db.Collection(TrustedSiteCollection), subs: db.Collection(SubscriptionCollection),
		meta: db.Collection(MetaCollection), sealer: sealer,
	}
}

// EnsureIndexes makes a site's name unique per owner, indexes sites by
// owner, and subscriptions by the site they use.
func (s *TrustedSiteStore) EnsureIndexes(ctx context.Context) error {
	if err := EnsureIndexes(ctx, s.coll, "trustedSites.EnsureIndexes",
		mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetName("key_unique").SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "owner", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("owner_id")},
	); err != nil {
		return err
	}
	return EnsureIndexes(ctx, s.subs, "trustedSites.EnsureIndexes",
		mongo.IndexModel{Keys: bson.D{{Key: "trustedSite", Value: 1}}, Options: options.Index().SetName("trusted_site")})
}

// Create inserts site; another of the owner's sites with the same name is
// ECONFLICT.
func (s *TrustedSiteStore) Create(ctx context.Context, site *jqlgate.TrustedSite) error {
	if site.ID == "" {
		site.ID = jqlgate.NewID("site")
	}
	doc, err := s.toDoc(site)
	if err != nil {
		return err
	}
	if _, err := s.coll.InsertOne(Counted(ctx), doc); err != nil {
		return translate("trustedSites.Create", err)
	}
	return s.bump(ctx)
}

// Get returns any owner's site by id, decrypted, for the dispatcher.
func (s *TrustedSiteStore) Get(ctx context.Context, id string) (*jqlgate.TrustedSite, error) {
	return s.findOne(ctx, "trustedSites.Get", bson.D{{Key: "_id", Value: id}})
}

// GetOwned returns owner's site id; another owner's is ENOTFOUND.
func (s *TrustedSiteStore) GetOwned(ctx context.Context, owner, id string) (*jqlgate.TrustedSite, error) {
	return s.findOne(ctx, "trustedSites.GetOwned", bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}})
}

func (s *TrustedSiteStore) findOne(ctx context.Context, op string, filter bson.D) (*jqlgate.TrustedSite, error) {
	var doc trustedSiteDoc
	if err := s.coll.FindOne(Counted(ctx), filter).Decode(&doc); err != nil {
		return nil, translate(op, err)
	}
	return s.fromDoc(&doc)
}

// List returns one page of q.Owner's sites, oldest first, and how many the
// owner has in all.
func (s *TrustedSiteStore) List(ctx context.Context, q jqlgate.TrustedSiteQuery) ([]*jqlgate.TrustedSite, int, error) {
	filter := bson.D{{Key: "owner", Value: q.Owner}}
	if q.AllOwners {
		filter = bson.D{}
	}
	total, err := s.coll.CountDocuments(Counted(ctx), filter)
	if err != nil {
		return nil, 0, translate("trustedSites.List", err)
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetSkip(int64(q.Offset))
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	cur, err := s.coll.Find(Counted(ctx), filter, opts)
	if err != nil {
		return nil, 0, translate("trustedSites.List", err)
	}
	var docs []trustedSiteDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, 0, translate("trustedSites.List", err)
	}
	out := make([]*jqlgate.TrustedSite, 0, len(docs))
	for i := range docs {
		site, err := s.fromDoc(&docs[i])
		if err != nil {
			return nil, 0, err
		}
		out = append(out, site)
	}
	return out, int(total), nil
}

// Update replaces site, which must belong to site.Owner.
func (s *TrustedSiteStore) Update(ctx context.Context, site *jqlgate.TrustedSite) error {
	doc, err := s.toDoc(site)
	if err != nil {
		return err
	}
	res, err := s.coll.ReplaceOne(Counted(ctx), bson.D{{Key: "_id", Value: site.ID}, {Key: "owner", Value: site.Owner}}, doc)
	if err != nil {
		return translate("trustedSites.Update", err)
	}
	if res.MatchedCount == 0 {
		return translate("trustedSites.Update", mongo.ErrNoDocuments)
	}
	return s.bump(ctx)
}

// Delete removes owner's site id; another owner's is ENOTFOUND.
//
// A site a subscription still uses is ECONFLICT. The check and the delete
// are two commands here, so a subscription saved between them can still
// name the site; system.TrustedSite checks Uses first too.
func (s *TrustedSiteStore) Delete(ctx context.Context, owner, id string) error {
	if _, err := s.GetOwned(ctx, owner, id); err != nil {
		return err
	}
	n, err := s.subs.CountDocuments(Counted(ctx), bson.D{{Key: "trustedSite", Value: id}}, options.Count().SetLimit(1))
	if err != nil {
		return translate("trustedSites.Delete", err)
	}
	if n > 0 {
		return &jqlgate.Error{Code: jqlgate.ECONFLICT, Message: "The trusted site is used by subscriptions; move or delete them first.", Field: "id"}
	}
	res, err := s.coll.DeleteOne(Counted(ctx), bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}})
	if err != nil {
		return translate("trustedSites.Delete", err)
	}
	if res.DeletedCount == 0 {
		return translate("trustedSites.Delete", mongo.ErrNoDocuments)
	}
	return s.bump(ctx)
}

// SiteUse is one subscription that uses a trusted site.
type SiteUse struct {
	ID         string `bson:"_id"`
	WebhookURL string `bson:"webhookUrl"`
}

// Uses returns the subscriptions that use site id, oldest first.
func (s *TrustedSiteStore) Uses(ctx context.Context, id string) ([]jqlgate.SiteUse, error) {
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "webhookUrl", Value: 1}})
	cur, err := s.subs.Find(Counted(ctx), bson.D{{Key: "trustedSite", Value: id}}, opts)
	if err != nil {
		return nil, translate("trustedSites.Uses", err)
	}
	var docs []SiteUse
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("trustedSites.Uses", err)
	}
	out := make([]jqlgate.SiteUse, len(docs))
	for i, d := range docs {
		out[i] = jqlgate.SiteUse{SubscriptionID: d.ID, WebhookURL: d.WebhookURL}
	}
	return out, nil
}

// bump increments the subscription change counter after a write.
func (s *TrustedSiteStore) bump(ctx context.Context) error {
	_, err := s.meta.UpdateOne(Counted(ctx), bson.D{{Key: "_id", Value: subscriptionsMetaID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}, options.UpdateOne().SetUpsert(true))
	return translate("trustedSites.bump", err)
}

// trustedSiteDoc is a trusted site as stored; every credential is sealed,
// header values included.
type trustedSiteDoc struct {
	ID         string        `bson:"_id"`
	Key        string        `bson:"key"`
	Owner      string        `bson:"owner"`
	Name       string        `bson:"name"`
	BaseURL    string        `bson:"baseUrl"`
	BasicAuth  *basicAuthDoc `bson:"basicAuth,omitempty"`
	OAuth2     *oauth2Doc    `bson:"oauth2,omitempty"`
	Headers    []headerDoc   `bson:"headers,omitempty"` // values sealed
	PublicOnly bool          `bson:"publicOnly,omitempty"`
	CreatedAt  time.Time     `bson:"createdAt"`
	UpdatedAt  time.Time     `bson:"updatedAt"`
}

// siteKey makes a site's name unique per owner.
func siteKey(owner, name string) string { return SubscriptionKey(owner, name, "", "") }

func siteHeaderContext(id, name string) string { return id + "/headers." + name }

func (s *TrustedSiteStore) toDoc(site *jqlgate.TrustedSite) (*trustedSiteDoc, error) {
	d := &trustedSiteDoc{ID: site.ID, Key: siteKey(site.Owner, site.Name), Owner: site.Owner, Name: site.Name,
		BaseURL: site.BaseURL, PublicOnly: site.PublicOnly, CreatedAt: site.CreatedAt, UpdatedAt: site.UpdatedAt}
	var err error
	if b := site.BasicAuth; b != nil {
		d.BasicAuth = &basicAuthDoc{Username: b.Username}
		if d.BasicAuth.Password, err = s.sealer.Seal(b.Password, passwordContext(site.ID)); err != nil {
			return nil, jqlgate.Internal("trustedSites.seal", err)
		}
	}
	if o := site.OAuth2; o != nil {
		d.OAuth2 = &oauth2Doc{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: o.Scopes, Audience: o.Audience}
		if d.OAuth2.ClientSecret, err = s.sealer.Seal(o.ClientSecret, clientSecContext(site.ID)); err != nil {
			return nil, jqlgate.Internal("trustedSites.seal", err)
		}
	}
	if d.Headers, err = sealHeaders(s.sealer, site.Headers, func(name string) string { return siteHeaderContext(site.ID, name) }); err != nil {
		return nil, jqlgate.Internal("trustedSites.seal", err)
	}
	return d, nil
}

func (s *TrustedSiteStore) fromDoc(d *trustedSiteDoc) (*jqlgate.TrustedSite, error) {
	site := &jqlgate.TrustedSite{ID: d.ID, Owner: d.Owner, Name: d.Name, BaseURL: d.BaseURL, PublicOnly: d.PublicOnly,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if err := s.open(d, site); err != nil {
		return nil, jqlgate.Internal("trustedSites.open", fmt.Errorf("trusted site %s: %w", d.ID, err))
	}
	return site, nil
}

func (s *TrustedSiteStore) open(d *trustedSiteDoc, site *jqlgate.TrustedSite) error {
	var err error
	if b := d.BasicAuth; b != nil {
		site.BasicAuth = &jqlgate.BasicAuth{Username: b.Username}
		if site.BasicAuth.Password, err = s.sealer.Open(b.Password, passwordContext(d.ID)); err != nil {
			return err
		}
	}
	if o := d.OAuth2; o != nil {
		site.OAuth2 = &jqlgate.ReceiverOAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: o.Scopes, Audience: o.Audience}
		if site.OAuth2.ClientSecret, err = s.sealer.Open(o.ClientSecret, clientSecContext(d.ID)); err != nil {
			return err
		}
	}
	site.Headers, err = openHeaders(s.sealer, d.Headers, func(name string) string { return siteHeaderContext(d.ID, name) })
	return err
}
