-- subscriptions are the webhook subscriptions. key is SubscriptionKey of
-- (owner, prefix, triggers, webhook_url), which makes those one
-- subscription; enabled, disabled_reason and updated_at are columns so
-- that disabling an owner's subscriptions needs no master key; the rest is
-- data, a JSON object with every secret and header value sealed.
CREATE TABLE subscriptions (
	id              TEXT PRIMARY KEY,
	key             TEXT NOT NULL,
	owner           TEXT NOT NULL,
	prefix          TEXT NOT NULL,
	triggers        TEXT NOT NULL, -- JSON array of strings
	webhook_url     TEXT NOT NULL,
	enabled         INTEGER NOT NULL,
	disabled_reason TEXT NOT NULL DEFAULT '',
	trusted_site    TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL, -- Unix nanoseconds
	updated_at      INTEGER NOT NULL, -- Unix nanoseconds
	data            TEXT NOT NULL
);
CREATE UNIQUE INDEX subscriptions_key ON subscriptions (key);
CREATE INDEX subscriptions_owner ON subscriptions (owner, id);
-- Partial: the dispatcher reads every enabled subscription, while an
-- index on a boolean would only mislead the planner away from owner.
CREATE INDEX subscriptions_enabled ON subscriptions (id) WHERE enabled = 1;
CREATE INDEX subscriptions_trusted_site ON subscriptions (trusted_site, id);
