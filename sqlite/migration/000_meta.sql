-- meta holds the store's counters, such as the subscriptions version that
-- every process polls to notice another's writes.
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
