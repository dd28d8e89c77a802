package auth

import (
	"context"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/jqlgate/jqlgate"
)

// ClientCredentials are a new client's id and its secret, shown once.
type ClientCredentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// CreateClient stores a new client with the permissions in scope.
func CreateClient(ctx context.Context, s ClientStore, name, scope string) (*ClientCredentials, error) {
	perms, err := ParseScope(scope)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, jqlgate.Invalid("name", "a client needs a name")
	}
	id := jqlgate.NewID("cl")
	secret := NewSecret()
	now := time.Now().UTC()
	c := &jqlgate.Client{ID: id, Name: name, SecretHash: HashSecret(id, secret), Permissions: perms, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateClient(ctx, c); err != nil {
		return nil, err
	}
	return &ClientCredentials{ClientID: id, ClientSecret: secret}, nil
}

// RotateClientSecret gives a client a new secret; the old one stops
// working at once. Tokens already issued stay valid until they expire or
// are revoked (Server's /oauth2/revoke).
func RotateClientSecret(ctx context.Context, s ClientStore, id string) (*ClientCredentials, error) {
	if _, err := s.Client(ctx, id); err != nil {
		return nil, err
	}
	secret := NewSecret()
	if err := s.SetClientSecret(ctx, id, HashSecret(id, secret)); err != nil {
		return nil, err
	}
	return &ClientCredentials{ClientID: id, ClientSecret: secret}, nil
}

// Ensured is what EnsureClient did.
type Ensured int

const (
	// EnsureUnchanged: the client existed with this secret.
	EnsureUnchanged Ensured = iota
	// EnsureCreated: there was no such client; it was created.
	EnsureCreated
	// EnsureSecretUpdated: the client existed with another secret, which
	// was replaced (the configuration is the source of truth).
	EnsureSecretUpdated
)

// EnsureClient makes sure the client id exists with secret: it creates an
// all-permission client unless one with that id exists, and replaces the
// stored secret when it differs. Its permissions are left alone.
func EnsureClient(ctx context.Context, s ClientStore, id, secret string) (Ensured, error) {
	if len(secret) < 16 {
		return EnsureUnchanged, jqlgate.Invalid("client_secret", "the bootstrap client secret must have at least 16 characters")
	}
	c, err := s.Client(ctx, id)
	if err == nil {
		if CheckSecret(id, secret, c.SecretHash) {
			return EnsureUnchanged, nil
		}
		if err := s.SetClientSecret(ctx, id, HashSecret(id, secret)); err != nil {
			return EnsureUnchanged, err
		}
		return EnsureSecretUpdated, nil
	}
	if jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		return EnsureUnchanged, err
	}
	now := time.Now().UTC()
	c = &jqlgate.Client{ID: id, Name: "bootstrap", SecretHash: HashSecret(id, secret), Permissions: []string{"*"}, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateClient(ctx, c); err != nil && jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
		return EnsureUnchanged, err
	}
	return EnsureCreated, nil
}

// CreateAPIKey stores a new API key and returns the key, shown once.
func CreateAPIKey(ctx context.Context, s APIKeyStore, name, scope string) (string, *jqlgate.APIKey, error) {
	perms, err := ParseScope(scope)
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		return "", nil, jqlgate.Invalid("name", "an API key needs a name")
	}
	id := jqlgate.NewID("ak")
	secret := NewSecret()
	k := &jqlgate.APIKey{ID: id, Name: name, Hash: HashSecret(id, secret), Permissions: perms, CreatedAt: time.Now().UTC()}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return FormatAPIKey(id, secret), k, nil
}

// APIKeyRotator is the part of the store RotateAPIKey needs.
type APIKeyRotator interface {
	APIKey(ctx context.Context, id string) (*jqlgate.APIKey, error)
	SetAPIKeyHash(ctx context.Context, id string, hash []byte) error
}

// RotateAPIKey gives an API key a new secret and returns the new key,
// shown once; the old key stops working (within a serve process's API key
// cache lifetime).
func RotateAPIKey(ctx context.Context, s APIKeyRotator, id string) (string, *jqlgate.APIKey, error) {
	k, err := s.APIKey(ctx, id)
	if err != nil {
		return "", nil, err
	}
	secret := NewSecret()
	if err := s.SetAPIKeyHash(ctx, id, HashSecret(id, secret)); err != nil {
		return "", nil, err
	}
	return FormatAPIKey(id, secret), k, nil
}

// Users creates system users and logs them in.
type Users struct {
	Store  UserStore
	Tokens *Tokens
	// Cost is the bcrypt cost; bcrypt.DefaultCost when zero.
	Cost int
	// Throttle limits failed logins per account and concurrent password
	// checks (see LoginThrottle); its zero value has the defaults.
	Throttle LoginThrottle
	// Principals, when set, is told of the changes Users makes, so this
	// process honours them at once.
	Principals *Principals

	dummyOnce sync.Once
	dummy     []byte
}

// Create stores a new user with a bcrypt hash of password.
func (u *Users) Create(ctx context.Context, username, password, scope string) (*jqlgate.User, error) {
	perms, err := ParseScope(scope)
	if err != nil {
		return nil, err
	}
	if !validUsername(username) {
		return nil, jqlgate.Invalid("username", "a username has 1 to 128 letters, digits or . _ @ -")
	}
	if len(password) < 8 || len(password) > 72 {
		return nil, jqlgate.Invalid("password", "a password has 8 to 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), u.cost())
	if err != nil {
		return nil, jqlgate.Internal("auth.Users.Create", err)
	}
	user := &jqlgate.User{ID: jqlgate.NewID("usr"), Username: username, PasswordHash: hash, Permissions: perms, CreatedAt: time.Now().UTC()}
	if err := u.Store.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	return user, nil
}

// PasswordSetter is the part of the store SetPassword needs.
type PasswordSetter interface {
	SetUserPassword(ctx context.Context, id string, hash []byte) error
}

// SetPassword replaces user id's password; s is usually u.Store, which
// also moves the user's session version, ending every session and token
// the user got before.
func (u *Users) SetPassword(ctx context.Context, s PasswordSetter, id, password string) error {
	if len(password) < 8 || len(password) > 72 {
		return jqlgate.Invalid("password", "a password has 8 to 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), u.cost())
	if err != nil {
		return jqlgate.Internal("auth.Users.SetPassword", err)
	}
	if err := s.SetUserPassword(ctx, id, hash); err != nil {
		return err
	}
	u.changed()
	return nil
}

// EndSessions ends every console session and user token user id got
// before (signing out): the store moves the user's session version, which
// every serve process sharing it honours within its Principals poll, this
// one at once.
func (u *Users) EndSessions(ctx context.Context, id string) error {
	if err := u.Store.EndUserSessions(ctx, id); err != nil {
		return err
	}
	u.changed()
	return nil
}

func (u *Users) changed() {
	if u.Principals != nil {
		u.Principals.Changed()
	}
}

func (u *Users) cost() int {
	if u.Cost == 0 {
		return bcrypt.DefaultCost
	}
	return u.Cost
}

// Login checks a username and password and returns a user token. An
// unknown user and a wrong password give the same error, after the same
// bcrypt work, and count alike towards the lock-out of the client's
// address (jqlgate.ClientAddrFromContext) from that username and towards
// the username's ceiling (see LoginThrottle): a locked-out address, or no
// free hashing slot, is an ERATELIMIT error with a RetryAfter.
func (u *Users) Login(ctx context.Context, username, password string) (*jqlgate.UserToken, error) {
	if !validUsername(username) {
		// No user can have this name (Create refuses it), so there is
		// nothing to guess; refusing it here also keeps the throttle from
		// remembering arbitrary strings of up to the body limit.
		return nil, jqlgate.Invalid("username", "a username has 1 to 128 letters, digits or . _ @ -")
	}
	addr := jqlgate.ClientAddrFromContext(ctx)
	if d := u.Throttle.locked(username, addr); d > 0 {
		return nil, lockedOut(d)
	}
	if err := u.Throttle.slow(ctx, username); err != nil {
		return nil, err
	}
	release, err := u.Throttle.acquire(ctx)
	if err != nil {
		return nil, err
	}
	ok, user, err := u.check(ctx, username, addr, password)
	release()
	if err != nil {
		return nil, err
	}
	if !ok {
		u.Throttle.failed(username, addr)
		return nil, &jqlgate.Error{Code: jqlgate.EUNAUTHORIZED, Message: "Invalid username or password."}
	}
	u.Throttle.succeeded(username, addr)
	tok, c, err := u.Tokens.IssueUser(ctx, user)
	if err != nil {
		return nil, err
	}
	return &jqlgate.UserToken{Token: tok, UserID: user.ID, Username: user.Username, ExpiresAt: c.Expiry.Time()}, nil
}

// check compares password with username's hash (a dummy one when there
// is no such user), holding a hashing slot. It re-checks the lock-out: a
// login that waited for its slot may find addr locked out meanwhile.
func (u *Users) check(ctx context.Context, username, addr, password string) (bool, *jqlgate.User, error) {
	if d := u.Throttle.locked(username, addr); d > 0 {
		return false, nil, lockedOut(d)
	}
	user, err := u.Store.UserByUsername(ctx, username)
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		return false, nil, err
	}
	hash := u.dummyHash()
	if user != nil {
		hash = user.PasswordHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || user == nil {
		return false, nil, nil
	}
	return true, user, nil
}

// dummyHash is compared against when the user does not exist, so both
// failures take as long.
func (u *Users) dummyHash() []byte {
	u.dummyOnce.Do(func() {
		u.dummy, _ = bcrypt.GenerateFromPassword([]byte("jqlgate-no-such-user"), u.cost())
	})
	return u.dummy
}

func validUsername(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '@' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}
