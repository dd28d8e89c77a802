package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jqlgate/jqlgate"
)

// principalsVersion is the meta counter that deleting a principal or
// changing its permissions increments (the dispatcher's).
const principalsVersion = "principals"

// credentialsVersion is the meta counter that every change an
// authenticator must honour increments: those of principalsVersion, and a
// new API key secret, password or session version, and a revoked token.
const credentialsVersion = "credentials"

// Which counters a write increments.
var (
	noCounters        []string
	principalCounters = []string{principalsVersion, credentialsVersion}
	credentialCounter = []string{credentialsVersion}
)

// AuthStore keeps OAuth2 clients, API keys, system users, token signing
// keys and revoked tokens. Deleting a principal or changing its
// permissions increments the principals counter in meta in the same
// transaction (see Version), so every process's dispatcher notices; that
// and every other change authentication must honour increment the
// credentials counter (see CredentialsVersion).
type AuthStore struct {
	db *DB
}

// NewAuthStore returns the auth store in db.
func NewAuthStore(db *DB) *AuthStore { return &AuthStore{db: db} }

// Version returns the principals change counter: it grows with every
// deletion of a client, API key or user and every change of their
// permissions, by any process.
func (s *AuthStore) Version(ctx context.Context) (int64, error) {
	return readVersion(ctx, s.db, principalsVersion, "sqlite.AuthStore.Version")
}

// CredentialsVersion returns the credentials change counter: it grows with
// every change of Version and every new API key secret, password, session
// version or revoked token, by any process.
func (s *AuthStore) CredentialsVersion(ctx context.Context) (int64, error) {
	return readVersion(ctx, s.db, credentialsVersion, "sqlite.AuthStore.CredentialsVersion")
}

// CreateClient stores a new client; an existing id is ECONFLICT.
func (s *AuthStore) CreateClient(ctx context.Context, c *jqlgate.Client) error {
	perms, err := permissionsText(c.Permissions)
	if err != nil {
		return err
	}
	return s.write(ctx, "sqlite.AuthStore.CreateClient", `INSERT INTO auth_clients (id, name, secret_hash, permissions, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?)`, noCounters, c.ID, c.Name, c.SecretHash, perms, nanos(c.CreatedAt), nanos(c.UpdatedAt))
}

const clientColumns = `id, name, secret_hash, permissions, created_at, updated_at`

// Client returns the client with id, or ENOTFOUND.
func (s *AuthStore) Client(ctx context.Context, id string) (*jqlgate.Client, error) {
	c, err := scanClient(s.db.QueryRow(ctx, `SELECT `+clientColumns+` FROM auth_clients WHERE id = ?`, id))
	return c, FormatError("sqlite.AuthStore.Client", err)
}

// Clients returns every client, oldest first.
func (s *AuthStore) Clients(ctx context.Context) ([]*jqlgate.Client, error) {
	return authList(ctx, s.db, "sqlite.AuthStore.Clients", `SELECT `+clientColumns+` FROM auth_clients ORDER BY created_at, id`, scanClient)
}

func scanClient(sc storeScanner) (*jqlgate.Client, error) {
	var c jqlgate.Client
	var perms string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &c.SecretHash, &perms, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &c, parsePermissions(perms, &c.Permissions)
}

// DeleteClient removes a client, or reports ENOTFOUND.
func (s *AuthStore) DeleteClient(ctx context.Context, id string) error {
	return s.write(ctx, "sqlite.AuthStore.DeleteClient", `DELETE FROM auth_clients WHERE id = ?`, principalCounters, id)
}

// SetClientPermissions replaces a client's permissions; its tokens and
// subscriptions follow the new permissions (the counters tell every
// process).
func (s *AuthStore) SetClientPermissions(ctx context.Context, id string, perms []string) error {
	text, err := permissionsText(perms)
	if err != nil {
		return err
	}
	return s.writeNow(ctx, "sqlite.AuthStore.SetClientPermissions",
		`UPDATE auth_clients SET permissions = ?, updated_at = ? WHERE id = ?`, principalCounters, text, id)
}

// SetClientSecret replaces a client's secret hash.
func (s *AuthStore) SetClientSecret(ctx context.Context, id string, hash []byte) error {
	return s.writeNow(ctx, "sqlite.AuthStore.SetClientSecret",
		`UPDATE auth_clients SET secret_hash = ?, updated_at = ? WHERE id = ?`, noCounters, hash, id)
}

// CreateAPIKey stores a new API key; an existing id is ECONFLICT.
func (s *AuthStore) CreateAPIKey(ctx context.Context, k *jqlgate.APIKey) error {
	perms, err := permissionsText(k.Permissions)
	if err != nil {
		return err
	}
	return s.write(ctx, "sqlite.AuthStore.CreateAPIKey", `INSERT INTO auth_api_keys (id, name, hash, permissions, created_at)
VALUES (?, ?, ?, ?, ?)`, noCounters, k.ID, k.Name, k.Hash, perms, nanos(k.CreatedAt))
}

const apiKeyColumns = `id, name, hash, permissions, created_at`

// APIKey returns the API key with id, or ENOTFOUND.
func (s *AuthStore) APIKey(ctx context.Context, id string) (*jqlgate.APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM auth_api_keys WHERE id = ?`, id))
	return k, FormatError("sqlite.AuthStore.APIKey", err)
}

// APIKeys returns every API key, oldest first.
func (s *AuthStore) APIKeys(ctx context.Context) ([]*jqlgate.APIKey, error) {
	return authList(ctx, s.db, "sqlite.AuthStore.APIKeys", `SELECT `+apiKeyColumns+` FROM auth_api_keys ORDER BY created_at, id`, scanAPIKey)
}

func scanAPIKey(sc storeScanner) (*jqlgate.APIKey, error) {
	var k jqlgate.APIKey
	var perms string
	var created int64
	if err := sc.Scan(&k.ID, &k.Name, &k.Hash, &perms, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = fromNanos(created)
	return &k, parsePermissions(perms, &k.Permissions)
}

// DeleteAPIKey removes an API key, or reports ENOTFOUND.
func (s *AuthStore) DeleteAPIKey(ctx context.Context, id string) error {
	return s.write(ctx, "sqlite.AuthStore.DeleteAPIKey", `DELETE FROM auth_api_keys WHERE id = ?`, principalCounters, id)
}

// SetAPIKeyPermissions replaces an API key's permissions.
func (s *AuthStore) SetAPIKeyPermissions(ctx context.Context, id string, perms []string) error {
	text, err := permissionsText(perms)
	if err != nil {
		return err
	}
	return s.write(ctx, "sqlite.AuthStore.SetAPIKeyPermissions", `UPDATE auth_api_keys SET permissions = ? WHERE id = ?`, principalCounters, text, id)
}

// SetAPIKeyHash replaces an API key's hash (its secret).
func (s *AuthStore) SetAPIKeyHash(ctx context.Context, id string, hash []byte) error {
	return s.write(ctx, "sqlite.AuthStore.SetAPIKeyHash", `UPDATE auth_api_keys SET hash = ? WHERE id = ?`, credentialCounter, hash, id)
}

// CreateUser stores a new user; a taken username (or id) is ECONFLICT.
func (s *AuthStore) CreateUser(ctx context.Context, u *jqlgate.User) error {
	perms, err := permissionsText(u.Permissions)
	if err != nil {
		return err
	}
	return s.write(ctx, "sqlite.AuthStore.CreateUser", `INSERT INTO auth_users (id, username, password_hash, permissions, created_at, session_version)
VALUES (?, ?, ?, ?, ?, ?)`, noCounters, u.ID, u.Username, u.PasswordHash, perms, nanos(u.CreatedAt), u.SessionVersion)
}

const userColumns = `id, username, password_hash, permissions, created_at, session_version`

// User returns the user with id, or ENOTFOUND.
func (s *AuthStore) User(ctx context.Context, id string) (*jqlgate.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM auth_users WHERE id = ?`, id))
	return u, FormatError("sqlite.AuthStore.User", err)
}

// UserByUsername returns the user with username, or ENOTFOUND.
func (s *AuthStore) UserByUsername(ctx context.Context, username string) (*jqlgate.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM auth_users WHERE username = ?`, username))
	return u, FormatError("sqlite.AuthStore.UserByUsername", err)
}

// Users returns every user, oldest first.
func (s *AuthStore) Users(ctx context.Context) ([]*jqlgate.User, error) {
	return authList(ctx, s.db, "sqlite.AuthStore.Users", `SELECT `+userColumns+` FROM auth_users ORDER BY created_at, id`, scanUser)
}

func scanUser(sc storeScanner) (*jqlgate.User, error) {
	var u jqlgate.User
	var perms string
	var created int64
	if err := sc.Scan(&u.ID, &u.Username, &u.PasswordHash, &perms, &created, &u.SessionVersion); err != nil {
		return nil, err
	}
	u.CreatedAt = fromNanos(created)
	return &u, parsePermissions(perms, &u.Permissions)
}

// DeleteUser removes a user, or reports ENOTFOUND.
func (s *AuthStore) DeleteUser(ctx context.Context, id string) error {
	return s.write(ctx, "sqlite.AuthStore.DeleteUser", `DELETE FROM auth_users WHERE id = ?`, principalCounters, id)
}

// SetUserPermissions replaces a user's permissions and moves their
// session version (signing them out everywhere).
func (s *AuthStore) SetUserPermissions(ctx context.Context, id string, perms []string) error {
	text, err := permissionsText(perms)
	if err != nil {
		return err
	}
	return s.write(ctx, "sqlite.AuthStore.SetUserPermissions",
		`UPDATE auth_users SET permissions = ?, session_version = session_version + 1 WHERE id = ?`, principalCounters, text, id)
}

// SetUserPassword replaces a user's password hash and moves their session
// version (signing them out everywhere).
func (s *AuthStore) SetUserPassword(ctx context.Context, id string, hash []byte) error {
	return s.write(ctx, "sqlite.AuthStore.SetUserPassword",
		`UPDATE auth_users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?`, credentialCounter, hash, id)
}

// EndUserSessions moves a user's session version, so every token the user
// got before stops working; ENOTFOUND when there is no such user.
func (s *AuthStore) EndUserSessions(ctx context.Context, id string) error {
	return s.write(ctx, "sqlite.AuthStore.EndUserSessions",
		`UPDATE auth_users SET session_version = session_version + 1 WHERE id = ?`, credentialCounter, id)
}

// RevokeToken records jti as revoked until expires (again: the later
// expiry stays) and deletes the revocations already expired, in one
// transaction that also increments the credentials counter.
func (s *AuthStore) RevokeToken(ctx context.Context, jti string, expires time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM auth_revoked_tokens WHERE expires_at <= ?`, nanos(tx.Now)); err != nil {
			return FormatError("sqlite.AuthStore.RevokeToken", err)
		}
		_, err := tx.Exec(`INSERT INTO auth_revoked_tokens (jti, expires_at) VALUES (?, ?)
ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`, jti, nanos(expires))
		if err != nil {
			return FormatError("sqlite.AuthStore.RevokeToken", err)
		}
		return FormatError("sqlite.AuthStore.RevokeToken", bumpVersion(tx, credentialsVersion))
	})
}

// RevokedTokens returns every revoked jti that has not expired at now.
func (s *AuthStore) RevokedTokens(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	const op = "sqlite.AuthStore.RevokedTokens"
	rows, err := s.db.Query(ctx, `SELECT jti, expires_at FROM auth_revoked_tokens WHERE expires_at > ?`, nanos(now))
	if err != nil {
		return nil, FormatError(op, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var jti string
		var exp int64
		if err := rows.Scan(&jti, &exp); err != nil {
			return nil, FormatError(op, err)
		}
		out[jti] = fromNanos(exp)
	}
	return out, FormatError(op, rows.Err())
}

// CreateSigningKey stores a new signing key as given: its private half is
// sealed by the caller when it is (see jqlgate.SigningKey.Encrypted).
func (s *AuthStore) CreateSigningKey(ctx context.Context, k *jqlgate.SigningKey) error {
	return s.write(ctx, "sqlite.AuthStore.CreateSigningKey", `INSERT INTO auth_signing_keys (id, alg, private_key, encrypted, public_key, created_at, not_after)
VALUES (?, ?, ?, ?, ?, ?, ?)`, noCounters, k.ID, k.Algorithm, k.PrivateKey, k.Encrypted, k.PublicKey, nanos(k.CreatedAt), nanos(k.NotAfter))
}

// SigningKeys returns every signing key, oldest first.
func (s *AuthStore) SigningKeys(ctx context.Context) ([]*jqlgate.SigningKey, error) {
	return authList(ctx, s.db, "sqlite.AuthStore.SigningKeys",
		`SELECT id, alg, private_key, encrypted, public_key, created_at, not_after FROM auth_signing_keys ORDER BY created_at, id`,
		func(sc storeScanner) (*jqlgate.SigningKey, error) {
			var k jqlgate.SigningKey
			var created, notAfter int64
			if err := sc.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.Encrypted, &k.PublicKey, &created, &notAfter); err != nil {
				return nil, err
			}
			k.CreatedAt, k.NotAfter = fromNanos(created), fromNanos(notAfter)
			return &k, nil
		})
}

// RetireSigningKeys sets notAfter on every signing key still signing,
// except keep.
func (s *AuthStore) RetireSigningKeys(ctx context.Context, keep string, notAfter time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE auth_signing_keys SET not_after = ? WHERE id != ? AND not_after = 0`, nanos(notAfter), keep)
		return FormatError("sqlite.AuthStore.RetireSigningKeys", err)
	})
}

// write runs one statement that must change a row (no row is ENOTFOUND)
// and bumps the counters in the same transaction.
func (s *AuthStore) write(ctx context.Context, op, query string, counters []string, args ...any) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		return FormatError(op, execOneBumps(tx, counters, query, args...))
	})
}

// writeNow is write with the batch's clock appended to args, for the
// statements that set updated_at before their WHERE id = ?.
func (s *AuthStore) writeNow(ctx context.Context, op, query string, counters []string, set any, id string) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		return FormatError(op, execOneBumps(tx, counters, query, set, nanos(tx.Now), id))
	})
}

// execOneBumps is execOneBump for any number of counters.
func execOneBumps(tx *Tx, counters []string, query string, args ...any) error {
	if err := execOneBump(tx, "", query, args...); err != nil {
		return err
	}
	for _, c := range counters {
		if err := bumpVersion(tx, c); err != nil {
			return err
		}
	}
	return nil
}

func authList[T any](ctx context.Context, db *DB, op, query string, scan func(storeScanner) (*T, error)) ([]*T, error) {
	rows, err := db.Query(ctx, query)
	if err != nil {
		return nil, FormatError(op, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, FormatError(op, err)
		}
		out = append(out, v)
	}
	return out, FormatError(op, rows.Err())
}

// permissionsText is perms as stored: a JSON array, or null for nil, so
// nil and empty read back as they were written.
func permissionsText(perms []string) (string, error) {
	b, err := json.Marshal(perms)
	if err != nil {
		return "", jqlgate.Internal("sqlite.AuthStore.encode", err)
	}
	return string(b), nil
}

func parsePermissions(text string, perms *[]string) error {
	if err := json.Unmarshal([]byte(text), perms); err != nil {
		return jqlgate.Internal("sqlite.AuthStore.decode", err)
	}
	return nil
}
