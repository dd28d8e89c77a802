-- attempts are the records of delivery attempts, insert-only. A rowid
-- table, because a row carries request and response bodies: its
-- secondary indexes then hold a small rowid, not the text id.
CREATE TABLE attempts (
	id               TEXT NOT NULL UNIQUE,
	delivery_id      TEXT NOT NULL,
	event_id         TEXT NOT NULL,
	event            TEXT NOT NULL DEFAULT '',
	trig             TEXT NOT NULL DEFAULT '',
	entity_id        TEXT NOT NULL DEFAULT '',
	subscription_id  TEXT NOT NULL,
	attempt          INTEGER NOT NULL,
	status           TEXT NOT NULL,
	url              TEXT NOT NULL DEFAULT '',
	request_headers  TEXT,             -- JSON object without the derivable headers, or NULL
	rh_derived       INTEGER NOT NULL DEFAULT 0, -- bits of the derivable headers left out
	request_body     TEXT NOT NULL DEFAULT '',
	response_code    INTEGER NOT NULL DEFAULT 0,
	response_headers TEXT,             -- JSON object, or NULL
	response_body    TEXT NOT NULL DEFAULT '',
	error            TEXT NOT NULL DEFAULT '',
	duration         INTEGER NOT NULL DEFAULT 0, -- nanoseconds
	next_attempt_at  INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds, 0 for none
	created_at       INTEGER NOT NULL,           -- Unix nanoseconds
	node             TEXT NOT NULL,
	test             INTEGER NOT NULL DEFAULT 0
);
-- Recovery: one node's attempts from its watermark on.
CREATE INDEX attempts_node_created ON attempts (node, created_at);
-- A delivery's attempts, latest first (LatestAttempts, fillBodies).
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt);
-- Retries parked in the store, by when they fall due.
CREATE INDEX attempts_due ON attempts (node, next_attempt_at) WHERE status = 'Resent';
-- The logs, newest first: one subscription's, and every subscription's
-- (also retention's, by created_at). Status, event and subscription are
-- in the index so that those filters are checked without reading rows.
CREATE INDEX attempts_sub_log ON attempts (subscription_id, created_at, id, status, event);
CREATE INDEX attempts_log ON attempts (created_at, id, status, event, subscription_id);
-- A subscription's log of some statuses: a rare status (Failed) would
-- otherwise be looked for through the whole range of a subscription that
-- has none.
CREATE INDEX attempts_sub_status ON attempts (subscription_id, status, created_at, id);
-- One event's attempts (the log's eventId filter, and the queue's check
-- for a delivery with attempts).
CREATE INDEX attempts_event ON attempts (event_id, subscription_id);
-- One record's attempts, newest first.
CREATE INDEX attempts_entity ON attempts (entity_id, created_at, id) WHERE entity_id <> '';

-- attempt_counts counts the attempts per subscription and status, so that
-- a log's total is a sum of a few counters rather than a count of
-- millions of rows. Triggers keep it exact in every write's transaction.
CREATE TABLE attempt_counts (
	subscription_id TEXT NOT NULL,
	status          TEXT NOT NULL,
	n               INTEGER NOT NULL,
	PRIMARY KEY (subscription_id, status)
) WITHOUT ROWID;
CREATE TRIGGER attempts_count AFTER INSERT ON attempts BEGIN
	INSERT INTO attempt_counts (subscription_id, status, n) VALUES (NEW.subscription_id, NEW.status, 1)
	ON CONFLICT (subscription_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER attempts_uncount AFTER DELETE ON attempts BEGIN
	UPDATE attempt_counts SET n = n - 1 WHERE subscription_id = OLD.subscription_id AND status = OLD.status;
END;

-- pending holds the unfinished deliveries: one row per event and target
-- subscription from the event's insert until an attempt at it is Done or
-- Failed, with its latest attempt. Triggers keep it in the transaction of
-- whatever inserts the event (the delivery store, or a record write's
-- outbox) or the attempt, so the queue reads only these rows, however
-- many events and attempts the store keeps.
CREATE TABLE pending (
	event_id           TEXT NOT NULL,
	subscription_id    TEXT NOT NULL,
	pos                INTEGER NOT NULL DEFAULT 0, -- the subscription's place among the event's targets
	event              TEXT NOT NULL DEFAULT '',
	entity_id          TEXT NOT NULL DEFAULT '',
	accepted           INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds; 0 if the event is not stored
	seq                INTEGER NOT NULL DEFAULT 0,
	delivery_id        TEXT NOT NULL DEFAULT '',   -- '' until an attempt
	status             TEXT NOT NULL DEFAULT 'Queued',
	attempt            INTEGER NOT NULL DEFAULT 0,
	next_attempt_at    INTEGER NOT NULL DEFAULT 0,
	last_attempt_at    INTEGER NOT NULL DEFAULT 0,
	last_response_code INTEGER NOT NULL DEFAULT 0,
	last_error         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (event_id, subscription_id)
) WITHOUT ROWID;
-- The queue's window (accepted since the oldest watermark) and the retries
-- parked beyond it (Resent, due since then), each by its own range.
CREATE INDEX pending_sub ON pending (subscription_id, accepted);
CREATE INDEX pending_accepted ON pending (accepted);
CREATE INDEX pending_sub_parked ON pending (subscription_id, next_attempt_at) WHERE status = 'Resent';
CREATE INDEX pending_parked ON pending (next_attempt_at) WHERE status = 'Resent';

-- An event's targets become pending when the event is stored: insertFanouts
-- (sqlite/event.go) inserts their rows with the event, in its transaction.
-- The one writer stores an event before any attempt at it can be made.

-- An attempt that is its delivery's latest (by attempt number, then time;
-- test attempts aside) finishes the delivery (Done, Failed) or becomes
-- its pending row's latest attempt (Resent, or an adoption's Queued mark).
CREATE TRIGGER attempts_pending AFTER INSERT ON attempts
WHEN NEW.test = 0 AND NOT EXISTS (SELECT 1 FROM attempts b WHERE b.delivery_id = NEW.delivery_id AND b.test = 0
	AND b.rowid <> NEW.rowid AND (b.attempt > NEW.attempt OR (b.attempt = NEW.attempt AND b.created_at > NEW.created_at)))
BEGIN
	DELETE FROM pending WHERE NEW.status IN ('Done', 'Failed') AND event_id = NEW.event_id AND subscription_id = NEW.subscription_id;
	INSERT INTO pending (event_id, subscription_id, event, entity_id, accepted, seq, delivery_id, status, attempt,
		next_attempt_at, last_attempt_at, last_response_code, last_error)
	SELECT NEW.event_id, NEW.subscription_id, NEW.event, NEW.entity_id, coalesce(e.accepted, 0), coalesce(e.seq, 0),
		NEW.delivery_id, NEW.status, NEW.attempt, NEW.next_attempt_at, NEW.created_at, NEW.response_code, NEW.error
	FROM (SELECT 1) LEFT JOIN events e ON e.id = NEW.event_id
	WHERE NEW.status NOT IN ('Done', 'Failed')
	ON CONFLICT (event_id, subscription_id) DO UPDATE SET delivery_id = excluded.delivery_id, status = excluded.status,
		attempt = excluded.attempt, next_attempt_at = excluded.next_attempt_at, last_attempt_at = excluded.last_attempt_at,
		last_response_code = excluded.last_response_code, last_error = excluded.last_error;
END;

-- Retention: a deleted event takes its deliveries that wait for no retry
-- along; a waiting retry goes with its attempt once the event is gone.
CREATE TRIGGER events_unpend AFTER DELETE ON events BEGIN
	DELETE FROM pending WHERE event_id = OLD.id AND status <> 'Resent';
END;
CREATE TRIGGER attempts_unpend AFTER DELETE ON attempts WHEN OLD.test = 0 BEGIN
	DELETE FROM pending WHERE event_id = OLD.event_id AND subscription_id = OLD.subscription_id
		AND delivery_id = OLD.delivery_id AND attempt = OLD.attempt AND last_attempt_at = OLD.created_at
		AND NOT EXISTS (SELECT 1 FROM events WHERE id = OLD.event_id);
END;
