-- nodes holds one checkpoint per dispatcher node: its owner and claim
-- epoch, heartbeat, watermark (recovery reads events and attempts from
-- there) and retry floor (recovery reads Resent attempts due from there).
-- The only rows the dispatcher updates; there are a handful.
CREATE TABLE nodes (
	node      TEXT PRIMARY KEY,
	owner     TEXT NOT NULL DEFAULT '',
	epoch     INTEGER NOT NULL DEFAULT 0,
	heartbeat INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds
	watermark INTEGER NOT NULL DEFAULT 0,
	floor     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
