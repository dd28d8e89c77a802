-- A user's session version is carried by every token the user gets at
-- login; deleting the user, changing their password or permissions and
-- signing out increment it, which ends every session and token issued
-- before.
ALTER TABLE auth_users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;

-- Revoked access tokens (RFC 7009), by jti, kept until the token would
-- have expired anyway; every process re-reads them when the credentials
-- counter in meta moves.
CREATE TABLE auth_revoked_tokens (
	jti        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL -- Unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX auth_revoked_tokens_expires ON auth_revoked_tokens (expires_at);
