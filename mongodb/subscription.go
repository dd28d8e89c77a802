package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// Collection names of the subscription store.
const (
	SubscriptionCollection = "subscriptions"
	MetaCollection         = "meta"
)

// subscriptionsMetaID is the _id of the meta document whose version counts
// subscription writes.
const subscriptionsMetaID = "subscriptions"

// SubscriptionStore keeps webhook subscriptions: small documents, one per
// subscription, indexed by owner, with every secret sealed under the master
// key. Every write also increments a change counter in the meta collection,
// so each process's dispatcher can notice another process's writes by
// polling Version.
type SubscriptionStore struct {
	coll   *mongo.Collection
	meta   *mongo.Collection
	sealer *jqlgate.Sealer
}

// NewSubscriptionStore returns a store over db's subscriptions collection.
func NewSubscriptionStore(db *mongo.Database, sealer *jqlgate.Sealer) *SubscriptionStore {
	return &SubscriptionStore{
		coll:   db.Collection(SubscriptionCollection),
		meta:   db.Collection(MetaCollection),
		sealer: sealer,
	}
}

// EnsureIndexes creates the unique index that makes (owner, prefix,
// trigger, webhookUrl) one subscription, and the index by owner.
func (s *SubscriptionStore) EnsureIndexes(ctx context.Context) error {
	return EnsureIndexes(ctx, s.coll, "subscriptions.EnsureIndexes",
		mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetName("key_unique").SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "owner", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("owner_id")},
	)
}

// SubscriptionKey is the value the unique index holds for a subscription:
// a hash of its owner, prefix, trigger and URL (a hash keeps the index
// entry small however long the URL is). trigger is jqlgate.TriggerKey of
// the subscription's triggers: a single trigger as it is (so the key of a
// one-trigger subscription is what it always was), several sorted and
// joined by commas.
func SubscriptionKey(owner, prefix, trigger, webhookURL string) string {
	h := sha256.New()
	for _, s := range []string{owner, prefix, trigger, webhookURL} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Create inserts sub. When the owner already has a subscription with the
// same prefix, trigger and URL, it returns that one and created false
// instead, even when the two inserts race.
func (s *SubscriptionStore) Create(ctx context.Context, sub *jqlgate.Subscription) (_ *jqlgate.Subscription, created bool, err error) {
	if sub.ID == "" {
		sub.ID = jqlgate.NewID("sub")
	}
	doc, err := s.toDoc(sub)
	if err != nil {
		return nil, false, err
	}
	_, err = s.coll.InsertOne(Counted(ctx), doc)
	if jqlgate.ErrorCode(translate("", err)) == jqlgate.ECONFLICT {
		existing, ferr := s.FindByKey(ctx, sub.Owner, sub.Prefix, jqlgate.TriggerKey(sub.TriggerList()), sub.WebhookURL)
		return existing, false, ferr
	}
	if err != nil {
		return nil, false, translate("subscriptions.Create", err)
	}
	return sub, true, s.bump(ctx)
}

// Get returns any owner's subscription by id, decrypted, for the dispatcher.
func (s *SubscriptionStore) Get(ctx context.Context, id string) (*jqlgate.Subscription, error) {
	return s.findOne(ctx, "subscriptions.Get", bson.D{{Key: "_id", Value: id}})
}

// GetOwned returns owner's subscription id; another owner's is ENOTFOUND.
func (s *SubscriptionStore) GetOwned(ctx context.Context, owner, id string) (*jqlgate.Subscription, error) {
	return s.findOne(ctx, "subscriptions.GetOwned", bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}})
}

// FindByKey returns owner's subscription of prefix, trigger and URL;
// trigger is jqlgate.TriggerKey of its triggers.
func (s *SubscriptionStore) FindByKey(ctx context.Context, owner, prefix, trigger, webhookURL string) (*jqlgate.Subscription, error) {
	key := SubscriptionKey(owner, prefix, trigger, webhookURL)
	return s.findOne(ctx, "subscriptions.FindByKey", bson.D{{Key: "key", Value: key}, {Key: "owner", Value: owner}})
}

func (s *SubscriptionStore) findOne(ctx context.Context, op string, filter bson.D) (*jqlgate.Subscription, error) {
	var doc subscriptionDoc
	if err := s.coll.FindOne(Counted(ctx), filter).Decode(&doc); err != nil {
		return nil, translate(op, err)
	}
	return s.fromDoc(&doc)
}

// List returns one page of q.Owner's subscriptions (every owner's with
// q.AllOwners), oldest first, and how many match q in all.
func (s *SubscriptionStore) List(ctx context.Context, q jqlgate.SubscriptionQuery) ([]*jqlgate.Subscription, int, error) {
	filter := bson.D{{Key: "owner", Value: q.Owner}}
	if q.AllOwners {
		filter = bson.D{}
	}
	if q.Prefix != "" {
		filter = append(filter, bson.E{Key: "prefix", Value: q.Prefix})
	}
	if q.Trigger != "" {
		// Any of the triggers; documents written before subscriptions had
		// several hold only trigger.
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "trigger", Value: q.Trigger}}, bson.D{{Key: "triggers", Value: q.Trigger}},
		}})
	}
	if q.Enabled != nil {
		filter = append(filter, bson.E{Key: "enabled", Value: *q.Enabled})
	}
	total, err := s.coll.CountDocuments(Counted(ctx), filter)
	if err != nil {
		return nil, 0, translate("subscriptions.List", err)
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetSkip(int64(q.Offset))
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	subs, err := s.find(ctx, "subscriptions.List", filter, opts)
	return subs, int(total), err
}

// ListEnabled returns every owner's enabled subscriptions, decrypted, for
// the dispatcher's index.
func (s *SubscriptionStore) ListEnabled(ctx context.Context) ([]*jqlgate.Subscription, error) {
	return s.find(ctx, "subscriptions.ListEnabled", bson.D{{Key: "enabled", Value: true}}, options.Find())
}

// CountByState counts every owner's subscriptions, enabled and disabled,
// for the metrics. It reads no secret.
func (s *SubscriptionStore) CountByState(ctx context.Context) (enabled, disabled int, err error) {
	total, err := s.coll.CountDocuments(Counted(ctx), bson.D{})
	if err != nil {
		return 0, 0, translate("subscriptions.CountByState", err)
	}
	on, err := s.coll.CountDocuments(Counted(ctx), bson.D{{Key: "enabled", Value: true}})
	if err != nil {
		return 0, 0, translate("subscriptions.CountByState", err)
	}
	return int(on), int(max(0, total-on)), nil // max: a subscription created between the counts
}

func (s *SubscriptionStore) find(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]*jqlgate.Subscription, error) {
	cur, err := s.coll.Find(Counted(ctx), filter, opts)
	if err != nil {
		return nil, translate(op, err)
	}
	var docs []subscriptionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(op, err)
	}
	out := make([]*jqlgate.Subscription, 0, len(docs))
	for i := range docs {
		sub, err := s.fromDoc(&docs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

// Update replaces sub, which must belong to sub.Owner. Changing its prefix,
// trigger or URL to those of another of the owner's subscriptions is
// ECONFLICT.
func (s *SubscriptionStore) Update(ctx context.Context, sub *jqlgate.Subscription) error {
	doc, err := s.toDoc(sub)
	if err != nil {
		return err
	}
	res, err := s.coll.ReplaceOne(Counted(ctx), bson.D{{Key: "_id", Value: sub.ID}, {Key: "owner", Value: sub.Owner}}, doc)
	if err != nil {
		return translate("subscriptions.Update", err)
	}
	if res.MatchedCount == 0 {
		return translate("subscriptions.Update", mongo.ErrNoDocuments)
	}
	return s.bump(ctx)
}

// Delete removes owner's subscription id; another owner's is ENOTFOUND.
func (s *SubscriptionStore) Delete(ctx context.Context, owner, id string) error {
	res, err := s.coll.DeleteOne(Counted(ctx), bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}})
	if err != nil {
		return translate("subscriptions.Delete", err)
	}
	if res.DeletedCount == 0 {
		return translate("subscriptions.Delete", mongo.ErrNoDocuments)
	}
	return s.bump(ctx)
}

// Version returns the subscription change counter: it grows with every
// write of any process, so a changed value means "reload".
func (s *SubscriptionStore) Version(ctx context.Context) (int64, error) {
	return metaVersion(ctx, s.meta, subscriptionsMetaID, "subscriptions.Version")
}

// bump increments the change counter after a write.
func (s *SubscriptionStore) bump(ctx context.Context) error {
	return metaBump(ctx, s.meta, subscriptionsMetaID, "subscriptions.bump")
}

// metaVersion reads the change counter of the meta document id.
func metaVersion(ctx context.Context, meta *mongo.Collection, id, op string) (int64, error) {
	var m struct {
		Version int64 `bson:"version"`
	}
	err := meta.FindOne(Counted(ctx), bson.D{{Key: "_id", Value: id}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, translate(op, err)
	}
	return m.Version, nil
}

// metaBump increments the change counter of the meta document id.
func metaBump(ctx context.Context, meta *mongo.Collection, id, op string) error {
	_, err := meta.UpdateOne(Counted(ctx), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}, options.UpdateOne().SetUpsert(true))
	return translate(op, err)
}

// DisableOwned switches off every enabled subscription of owner with a
// reason (its owner was deleted) and reports how many. It reads no secret,
// so it works on a store opened without the master key.
func (s *SubscriptionStore) DisableOwned(ctx context.Context, owner, reason string) (int, error) {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "enabled", Value: false}, {Key: "disabledReason", Value: reason},
		{Key: "updatedAt", Value: time.Now().UTC().Truncate(time.Millisecond)},
	}}}
	res, err := s.coll.UpdateMany(Counted(ctx), bson.D{{Key: "owner", Value: owner}, {Key: "enabled", Value: true}}, update)
	if err != nil {
		return 0, translate("subscriptions.DisableOwned", err)
	}
	if res.ModifiedCount == 0 {
		return 0, nil
	}
	return int(res.ModifiedCount), s.bump(ctx)
}

// Disable switches any owner's subscription off with a reason, for the
// dispatcher (a receiver that answered 410 Gone). It is ENOTFOUND when the
// subscription is gone.
func (s *SubscriptionStore) Disable(ctx context.Context, id, reason string) error {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "enabled", Value: false}, {Key: "disabledReason", Value: reason},
		{Key: "updatedAt", Value: time.Now().UTC().Truncate(time.Millisecond)},
	}}}
	res, err := s.coll.UpdateOne(Counted(ctx), bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return translate("subscriptions.Disable", err)
	}
	if res.MatchedCount == 0 {
		return translate("subscriptions.Disable", mongo.ErrNoDocuments)
	}
	return s.bump(ctx)
}
