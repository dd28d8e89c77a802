package auth

import (
	"context"
	"time"

	"github.com/jqlgate/jqlgate"
)

// ClientStore keeps OAuth2 clients. Lookups of a missing client return an
// ENOTFOUND error.
type ClientStore interface {
	CreateClient(ctx context.Context, c *jqlgate.Client) error
	Client(ctx context.Context, id string) (*jqlgate.Client, error)
	Clients(ctx context.Context) ([]*jqlgate.Client, error)
	DeleteClient(ctx context.Context, id string) error
	SetClientSecret(ctx context.Context, id string, hash []byte) error
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *jqlgate.APIKey) error
	APIKey(ctx context.Context, id string) (*jqlgate.APIKey, error)
	APIKeys(ctx context.Context) ([]*jqlgate.APIKey, error)
	DeleteAPIKey(ctx context.Context, id string) error
}

// UserStore keeps system users. A duplicate username is ECONFLICT.
type UserStore interface {
	CreateUser(ctx context.Context, u *jqlgate.User) error
	UserByUsername(ctx context.Context, username string) (*jqlgate.User, error)
	Users(ctx context.Context) ([]*jqlgate.User, error)
	DeleteUser(ctx context.Context, id string) error
	// EndUserSessions increments user id's session version, so every
	// token it got before stops working; ENOTFOUND when there is no such
	// user.
	EndUserSessions(ctx context.Context, id string) error
}

// RevocationStore keeps the ids (jti) of revoked tokens until they expire.
type RevocationStore interface {
	// RevokeToken records jti as revoked until expires (revoking it twice
	// is no error) and forgets the revocations that have expired.
	RevokeToken(ctx context.Context, jti string, expires time.Time) error
	// RevokedTokens returns every revoked jti not expired at now, with its
	// expiry.
	RevokedTokens(ctx context.Context, now time.Time) (map[string]time.Time, error)
}

// KeyStore keeps token signing keys.
type KeyStore interface {
	CreateSigningKey(ctx context.Context, k *jqlgate.SigningKey) error
	SigningKeys(ctx context.Context) ([]*jqlgate.SigningKey, error)
	// RetireSigningKeys sets NotAfter on every key still signing except
	// keep.
	RetireSigningKeys(ctx context.Context, keep string, notAfter time.Time) error
}

// PrincipalStore is what Principals reads: the current record of each
// principal, the revoked tokens, and a counter that moves with any change
// to them.
type PrincipalStore interface {
	RevocationStore
	// CredentialsVersion grows, in any process sharing the store, whenever
	// a client, API key or user is deleted, its permissions change, an
	// API key's secret or a user's password or session version changes, or
	// a token is revoked.
	CredentialsVersion(ctx context.Context) (int64, error)
	Client(ctx context.Context, id string) (*jqlgate.Client, error)
	APIKey(ctx context.Context, id string) (*jqlgate.APIKey, error)
	User(ctx context.Context, id string) (*jqlgate.User, error)
}

// Store is everything auth keeps.
type Store interface {
	ClientStore
	APIKeyStore
	UserStore
	KeyStore
	RevocationStore
	CredentialsVersion(ctx context.Context) (int64, error)
}
