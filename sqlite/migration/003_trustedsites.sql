-- trusted_sites are the owners' authenticated destinations, a name unique
-- per owner; data is a JSON object with every credential sealed.
CREATE TABLE trusted_sites (
	id         TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	updated_at INTEGER NOT NULL, -- Unix nanoseconds
	data       TEXT NOT NULL
);
CREATE UNIQUE INDEX trusted_sites_owner_name ON trusted_sites (owner, name);
CREATE INDEX trusted_sites_owner ON trusted_sites (owner, id);
