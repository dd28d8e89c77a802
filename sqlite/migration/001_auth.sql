-- The principals of the built-in authorization server and the keys that
-- sign its tokens: small tables, listed oldest first. A secret is kept
-- only as the hash the caller made; a signing key's private half as the
-- caller gives it (auth seals it with the signing key secret when set).
-- Permissions are a JSON array of strings, or null.
CREATE TABLE auth_clients (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	secret_hash BLOB,
	permissions TEXT NOT NULL,
	created_at  INTEGER NOT NULL, -- Unix nanoseconds
	updated_at  INTEGER NOT NULL  -- Unix nanoseconds
);
CREATE INDEX auth_clients_created ON auth_clients (created_at, id);

CREATE TABLE auth_api_keys (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	hash        BLOB,
	permissions TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);
CREATE INDEX auth_api_keys_created ON auth_api_keys (created_at, id);

CREATE TABLE auth_users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL,
	password_hash BLOB,
	permissions   TEXT NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX auth_users_username ON auth_users (username);
CREATE INDEX auth_users_created ON auth_users (created_at, id);

-- not_after is 0 while a key signs.
CREATE TABLE auth_signing_keys (
	id          TEXT PRIMARY KEY,
	alg         TEXT NOT NULL,
	private_key BLOB,
	encrypted   INTEGER NOT NULL,
	public_key  BLOB,
	created_at  INTEGER NOT NULL,
	not_after   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX auth_signing_keys_created ON auth_signing_keys (created_at, id);
