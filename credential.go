package jqlgate

import "time"

// Client is an OAuth2 client of the built-in authorization server. Its
// secret is kept only as a hash.
type Client struct {
	ID          string    `bson:"_id"`
	Name        string    `bson:"name"`
	SecretHash  []byte    `bson:"secretHash"`
	Permissions []string  `bson:"permissions"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

// APIKey is a long-lived key of the apiKey authentication class. The key
// itself is shown once at creation; only its hash is kept.
type APIKey struct {
	ID          string    `bson:"_id"`
	Name        string    `bson:"name"`
	Hash        []byte    `bson:"hash"`
	Permissions []string  `bson:"permissions"`
	CreatedAt   time.Time `bson:"createdAt"`
}

// User is a system.User that logs in with a username and password to get a
// token of the jwt authentication class.
type User struct {
	ID           string    `bson:"_id"`
	Username     string    `bson:"username"`
	PasswordHash []byte    `bson:"passwordHash"`
	Permissions  []string  `bson:"permissions"`
	CreatedAt    time.Time `bson:"createdAt"`
	// SessionVersion is carried by every token the user gets at login;
	// deleting the user, changing their password or permissions and
	// signing out increment it, which ends every session and token issued
	// before.
	SessionVersion int64 `bson:"sessionVersion,omitempty"`
}

// SigningKey is one key that signs the tokens jqlgate issues. Every serve
// process sharing a store signs and verifies with the same keys.
type SigningKey struct {
	// ID is the key id, the "kid" of the tokens it signs.
	ID        string `bson:"_id"`
	Algorithm string `bson:"alg"`
	// PrivateKey is the PKCS #8 private key, sealed with AES-GCM when
	// Encrypted is true. It is never logged.
	PrivateKey []byte `bson:"privateKey"`
	Encrypted  bool   `bson:"encrypted"`
	// PublicKey is the PKIX public key.
	PublicKey []byte    `bson:"publicKey"`
	CreatedAt time.Time `bson:"createdAt"`
	// NotAfter is zero while the key signs; once a newer key replaces it,
	// it is the time until which its tokens still verify.
	NotAfter time.Time `bson:"notAfter,omitempty"`
}

// UserToken is what a successful system.User login yields: a token of the
// jwt authentication class and who it is for.
type UserToken struct {
	Token     string
	UserID    string
	Username  string
	ExpiresAt time.Time
}
