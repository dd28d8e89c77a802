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
}

// KeyStore keeps token signing keys.
type KeyStore interface {
	CreateSigningKey(ctx context.Context, k *jqlgate.SigningKey) error
	SigningKeys(ctx context.Context) ([]*jqlgate.SigningKey, error)
	// RetireSigningKeys sets NotAfter on every key still signing except
	// keep.
	RetireSigningKeys(ctx context.Context, keep string, notAfter time.Time) error
}

// Store is everything auth keeps.
type Store interface {
	ClientStore
	APIKeyStore
	UserStore
	KeyStore
}
