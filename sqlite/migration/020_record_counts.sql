-- record_counts holds how many records each model table has, kept by
-- triggers each table gets when it is created (sqlite/record.go), so a
-- retrieve's unfiltered total is one row read, not a walk of a million
-- index entries.
CREATE TABLE record_counts (
	coll TEXT PRIMARY KEY,
	n    INTEGER NOT NULL
) WITHOUT ROWID;
