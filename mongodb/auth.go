package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// AuthStore keeps OAuth2 clients, API keys, system users, token signing
// keys and revoked tokens. All five collections are small. Deleting a
// principal or changing its permissions increments a change counter in the
// meta collection (see Version), so every process's dispatcher notices;
// that and every other change authentication must honour increment a
// second one (see CredentialsVersion).
type AuthStore struct {
	clients, apiKeys, users, keys, revoked, meta *mongo.Collection
}

// principalsMetaID is the _id of the meta document whose version counts
// principal deletions and permission changes.
const principalsMetaID = "principals"

// credentialsMetaID is the _id of the meta document whose version counts
// what principalsMetaID counts, and new API key secrets, passwords,
// session versions and revoked tokens.
const credentialsMetaID = "credentials"

// RevokedTokenCollection holds the revoked tokens' ids until they expire.
const RevokedTokenCollection = "auth_revoked_tokens"

// NewAuthStore returns the auth store in db.
func NewAuthStore(db *mongo.Database) *AuthStore {
	return &AuthStore{
		clients: db.Collection("auth_clients"),
		apiKeys: db.Collection("auth_api_keys"),
		users:   db.Collection("auth_users"),
		keys:    db.Collection("auth_signing_keys"),
		revoked: db.Collection(RevokedTokenCollection),
		meta:    db.Collection(MetaCollection),
	}
}

// Version returns the principals change counter: it grows with every
// deletion of a client, API key or user and every change of their
// permissions, by any process.
func (s *AuthStore) Version(ctx context.Context) (int64, error) {
	return metaVersion(ctx, s.meta, principalsMetaID, "mongodb.AuthStore.Version")
}

// CredentialsVersion returns the credentials change counter: it grows with
// every change of Version and every new API key secret, password, session
// version or revoked token, by any process.
func (s *AuthStore) CredentialsVersion(ctx context.Context) (int64, error) {
	return metaVersion(ctx, s.meta, credentialsMetaID, "mongodb.AuthStore.CredentialsVersion")
}

// bump increments the principals and credentials change counters after a
// write.
func (s *AuthStore) bump(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	if err := metaBump(ctx, s.meta, principalsMetaID, "mongodb.AuthStore.bump"); err != nil {
		return err
	}
	return s.bumpCredentials(ctx, nil)
}

// bumpCredentials increments the credentials change counter after a write.
func (s *AuthStore) bumpCredentials(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	return metaBump(ctx, s.meta, credentialsMetaID, "mongodb.AuthStore.bumpCredentials")
}

// EnsureIndexes creates the unique username index.
func (s *AuthStore) EnsureIndexes(ctx context.Context) error {
	_, err := s.users.Indexes().CreateOne(Counted(ctx), mongo.IndexModel{
		Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true).SetName("username_unique"),
	})
	return translate("mongodb.AuthStore.EnsureIndexes", err)
}

// CreateClient stores a new client; an existing id is ECONFLICT.
func (s *AuthStore) CreateClient(ctx context.Context, c *jqlgate.Client) error {
	_, err := s.clients.InsertOne(Counted(ctx), c)
	return translate("mongodb.AuthStore.CreateClient", err)
}

// Client returns the client with id, or ENOTFOUND.
func (s *AuthStore) Client(ctx context.Context, id string) (*jqlgate.Client, error) {
	return authFind[jqlgate.Client](ctx, s.clients, id, "mongodb.AuthStore.Client")
}

// Clients returns every client, oldest first.
func (s *AuthStore) Clients(ctx context.Context) ([]*jqlgate.Client, error) {
	return authList[jqlgate.Client](ctx, s.clients, "mongodb.AuthStore.Clients")
}

// DeleteClient removes a client, or reports ENOTFOUND.
func (s *AuthStore) DeleteClient(ctx context.Context, id string) error {
	return s.bump(ctx, authDelete(ctx, s.clients, id, "mongodb.AuthStore.DeleteClient"))
}

// SetClientPermissions replaces a client's permissions; its tokens and
// subscriptions follow the new permissions (the counters tell every
// process).
func (s *AuthStore) SetClientPermissions(ctx context.Context, id string, perms []string) error {
	return s.bump(ctx, authSetPermissions(ctx, s.clients, id, perms, true, "mongodb.AuthStore.SetClientPermissions"))
}

// SetClientSecret replaces a client's secret hash.
func (s *AuthStore) SetClientSecret(ctx context.Context, id string, hash []byte) error {
	res, err := s.clients.UpdateByID(Counted(ctx), id, bson.M{"$set": bson.M{"secretHash": hash, "updatedAt": time.Now().UTC()}})
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return translate("mongodb.AuthStore.SetClientSecret", err)
}

// CreateAPIKey stores a new API key.
func (s *AuthStore) CreateAPIKey(ctx context.Context, k *jqlgate.APIKey) error {
	_, err := s.apiKeys.InsertOne(Counted(ctx), k)
	return translate("mongodb.AuthStore.CreateAPIKey", err)
}

// APIKey returns the API key with id, or ENOTFOUND.
func (s *AuthStore) APIKey(ctx context.Context, id string) (*jqlgate.APIKey, error) {
	return authFind[jqlgate.APIKey](ctx, s.apiKeys, id, "mongodb.AuthStore.APIKey")
}

// APIKeys returns every API key, oldest first.
func (s *AuthStore) APIKeys(ctx context.Context) ([]*jqlgate.APIKey, error) {
	return authList[jqlgate.APIKey](ctx, s.apiKeys, "mongodb.AuthStore.APIKeys")
}

// DeleteAPIKey removes an API key, or reports ENOTFOUND.
func (s *AuthStore) DeleteAPIKey(ctx context.Context, id string) error {
	return s.bump(ctx, authDelete(ctx, s.apiKeys, id, "mongodb.AuthStore.DeleteAPIKey"))
}

// SetAPIKeyPermissions replaces an API key's permissions.
func (s *AuthStore) SetAPIKeyPermissions(ctx context.Context, id string, perms []string) error {
	return s.bump(ctx, authSetPermissions(ctx, s.apiKeys, id, perms, false, "mongodb.AuthStore.SetAPIKeyPermissions"))
}

// SetAPIKeyHash replaces an API key's hash (its secret).
func (s *AuthStore) SetAPIKeyHash(ctx context.Context, id string, hash []byte) error {
	return s.bumpCredentials(ctx, authSet(ctx, s.apiKeys, id, bson.M{"hash": hash}, "mongodb.AuthStore.SetAPIKeyHash"))
}

// SetUserPassword replaces a user's password hash and moves their session
// version (signing them out everywhere).
func (s *AuthStore) SetUserPassword(ctx context.Context, id string, hash []byte) error {
	return s.bumpCredentials(ctx, authUpdate(ctx, s.users, id, bson.M{"$set": bson.M{"passwordHash": hash}, "$inc": sessionInc},
		"mongodb.AuthStore.SetUserPassword"))
}

// sessionInc moves a user's session version.
var sessionInc = bson.M{"sessionVersion": int64(1)}

// EndUserSessions moves a user's session version, so every token the user
// got before stops working; ENOTFOUND when there is no such user.
func (s *AuthStore) EndUserSessions(ctx context.Context, id string) error {
	return s.bumpCredentials(ctx, authUpdate(ctx, s.users, id, bson.M{"$inc": sessionInc}, "mongodb.AuthStore.EndUserSessions"))
}

// RevokeToken records jti as revoked until expires and deletes the
// revocations already expired.
func (s *AuthStore) RevokeToken(ctx context.Context, jti string, expires time.Time) error {
	const op = "mongodb.AuthStore.RevokeToken"
	now := time.Now().UTC()
	if _, err := s.revoked.DeleteMany(Counted(ctx), bson.M{"expiresAt": bson.M{"$lte": now}}); err != nil {
		return translate(op, err)
	}
	_, err := s.revoked.UpdateOne(Counted(ctx), bson.M{"_id": jti}, bson.M{"$max": bson.M{"expiresAt": expires.UTC()}},
		options.UpdateOne().SetUpsert(true))
	return s.bumpCredentials(ctx, translate(op, err))
}

// RevokedTokens returns every revoked jti that has not expired at now.
func (s *AuthStore) RevokedTokens(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	const op = "mongodb.AuthStore.RevokedTokens"
	cur, err := s.revoked.Find(Counted(ctx), bson.M{"expiresAt": bson.M{"$gt": now.UTC()}})
	if err != nil {
		return nil, translate(op, err)
	}
	var docs []struct {
		ID        string    `bson:"_id"`
		ExpiresAt time.Time `bson:"expiresAt"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(op, err)
	}
	out := make(map[string]time.Time, len(docs))
	for _, d := range docs {
		out[d.ID] = d.ExpiresAt
	}
	return out, nil
}

func authSet(ctx context.Context, c *mongo.Collection, id string, set bson.M, op string) error {
	return authUpdate(ctx, c, id, bson.M{"$set": set}, op)
}

func authUpdate(ctx context.Context, c *mongo.Collection, id string, update bson.M, op string) error {
	res, err := c.UpdateByID(Counted(ctx), id, update)
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return translate(op, err)
}

// CreateUser stores a new user; a taken username is ECONFLICT.
func (s *AuthStore) CreateUser(ctx context.Context, u *jqlgate.User) error {
	_, err := s.users.InsertOne(Counted(ctx), u)
	return translate("mongodb.AuthStore.CreateUser", err)
}

// UserByUsername returns the user with username, or ENOTFOUND.
func (s *AuthStore) UserByUsername(ctx context.Context, username string) (*jqlgate.User, error) {
	var u jqlgate.User
	err := s.users.FindOne(Counted(ctx), bson.M{"username": username}).Decode(&u)
	if err != nil {
		return nil, translate("mongodb.AuthStore.UserByUsername", err)
	}
	return &u, nil
}

// Users returns every user, oldest first.
func (s *AuthStore) Users(ctx context.Context) ([]*jqlgate.User, error) {
	return authList[jqlgate.User](ctx, s.users, "mongodb.AuthStore.Users")
}

// DeleteUser removes a user, or reports ENOTFOUND.
func (s *AuthStore) DeleteUser(ctx context.Context, id string) error {
	return s.bump(ctx, authDelete(ctx, s.users, id, "mongodb.AuthStore.DeleteUser"))
}

// User returns the user with id, or ENOTFOUND.
func (s *AuthStore) User(ctx context.Context, id string) (*jqlgate.User, error) {
	return authFind[jqlgate.User](ctx, s.users, id, "mongodb.AuthStore.User")
}

// SetUserPermissions replaces a user's permissions and moves their
// session version (signing them out everywhere).
func (s *AuthStore) SetUserPermissions(ctx context.Context, id string, perms []string) error {
	return s.bump(ctx, authUpdate(ctx, s.users, id, bson.M{"$set": bson.M{"permissions": perms}, "$inc": sessionInc},
		"mongodb.AuthStore.SetUserPermissions"))
}

// CreateSigningKey stores a new signing key.
func (s *AuthStore) CreateSigningKey(ctx context.Context, k *jqlgate.SigningKey) error {
	_, err := s.keys.InsertOne(Counted(ctx), k)
	return translate("mongodb.AuthStore.CreateSigningKey", err)
}

// SigningKeys returns every signing key.
func (s *AuthStore) SigningKeys(ctx context.Context) ([]*jqlgate.SigningKey, error) {
	return authList[jqlgate.SigningKey](ctx, s.keys, "mongodb.AuthStore.SigningKeys")
}

// RetireSigningKeys sets notAfter on every signing key still signing,
// except keep.
func (s *AuthStore) RetireSigningKeys(ctx context.Context, keep string, notAfter time.Time) error {
	filter := bson.M{"_id": bson.M{"$ne": keep}, "notAfter": bson.M{"$exists": false}}
	_, err := s.keys.UpdateMany(Counted(ctx), filter, bson.M{"$set": bson.M{"notAfter": notAfter.UTC()}})
	return translate("mongodb.AuthStore.RetireSigningKeys", err)
}

func authFind[T any](ctx context.Context, c *mongo.Collection, id, op string) (*T, error) {
	var v T
	if err := c.FindOne(Counted(ctx), bson.M{"_id": id}).Decode(&v); err != nil {
		return nil, translate(op, err)
	}
	return &v, nil
}

func authList[T any](ctx context.Context, c *mongo.Collection, op string) ([]*T, error) {
	cur, err := c.Find(Counted(ctx), bson.M{}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}}))
	if err != nil {
		return nil, translate(op, err)
	}
	out := []*T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}

func authSetPermissions(ctx context.Context, c *mongo.Collection, id string, perms []string, updatedAt bool, op string) error {
	set := bson.M{"permissions": perms}
	if updatedAt {
		set["updatedAt"] = time.Now().UTC()
	}
	res, err := c.UpdateByID(Counted(ctx), id, bson.M{"$set": set})
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return translate(op, err)
}

func authDelete(ctx context.Context, c *mongo.Collection, id, op string) error {
	res, err := c.DeleteOne(Counted(ctx), bson.M{"_id": id})
	if err == nil && res.DeletedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return translate(op, err)
}
