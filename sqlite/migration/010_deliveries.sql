-- events are the accepted events with the subscriptions they fan out to;
-- recovery reads one node's events from its watermark on, the log views
-- join attempts to them, and retention deletes the old ones by accepted.
CREATE TABLE events (
	id        TEXT PRIMARY KEY,
	type      TEXT NOT NULL,
	entity_id TEXT NOT NULL DEFAULT '',
	node      TEXT NOT NULL,
	accepted  INTEGER NOT NULL, -- Unix nanoseconds
	seq       INTEGER NOT NULL DEFAULT 0,
	timestamp INTEGER NOT NULL, -- Unix nanoseconds
	targets   TEXT NOT NULL,    -- JSON array of subscription ids
	changed   TEXT,             -- JSON array of field names, or NULL
	data      TEXT              -- JSON object, or NULL
) WITHOUT ROWID;
CREATE INDEX events_node_accepted ON events (node, accepted, seq);
CREATE INDEX events_accepted ON events (accepted);
