package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/jqlgate/jqlgate"
)

// RecordStore keeps the records of model namespaces, one table per
// collection: the id in a column, every other field in one JSON document,
// an index on (kind, value) of each indexed field (see recordquery.go) and
// a trigram full-text index over the searchable ones. Records go in and
// come out as maps keyed by field name, with the id under "id", in the
// same plain Go values as mongodb.RecordStore's. Tables are created by
// EnsureIndexes or by the first write.
type RecordStore struct {
	db *DB

	mu    sync.Mutex
	colls map[string]*collection
	// gen counts forgets, so that metadata read before EnsureIndexes
	// changed the schema is not kept after it.
	gen uint64
}

// collection is what queries need to know of a collection's table.
type collection struct {
	name    string
	table   string          // quoted
	fts     string          // quoted search table, "" when there is none
	ftsCol  map[string]bool // fields the search table holds
	ftsCols []string        // the same, in the search table's order
	unique  map[string]bool // fields with a unique index of their own
}

// bare is the collection of a table made in this write: no index yet, no
// search table.
func bare(coll string) *collection {
	return &collection{name: coll, table: quote(coll), ftsCol: map[string]bool{}, unique: map[string]bool{}}
}

// NewRecordStore returns the record store on db.
func NewRecordStore(db *DB) *RecordStore {
	return &RecordStore{db: db, colls: map[string]*collection{}}
}

// collRE is what a collection name may be; "__" is kept for the names of
// a collection's indexes and search table.
var collRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,127}$`)

func checkColl(coll string) error {
	if !collRE.MatchString(coll) || strings.Contains(coll, "__") || strings.HasPrefix(strings.ToLower(coll), "sqlite_") {
		return jqlgate.Invalid("", "%q is not a valid collection name.", truncateName(coll))
	}
	return nil
}

func quote(name string) string { return `"` + name + `"` }

// createTableSQL creates coll's table if there is none, with its row
// counter in record_counts (counted once, for a table made before counters
// existed), which every insert and delete moves in its own transaction
// (see changeFn). coll has passed checkColl, so it is safe as a literal.
func createTableSQL(coll string) string {
	t, lit := quote(coll), "'"+coll+"'"
	return `CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
INSERT OR IGNORE INTO record_counts (coll, n) VALUES (` + lit + `, (SELECT count(*) FROM ` + t + `));
DROP TRIGGER IF EXISTS ` + quote(coll+"__count_ai") + `;
DROP TRIGGER IF EXISTS ` + quote(coll+"__count_ad")
}

// countRecords moves coll's record counter by delta.
func countRecords(tx *Tx, coll string, delta int) error {
	_, err := tx.Exec(`UPDATE record_counts SET n = n + ? WHERE coll = ?`, delta, coll)
	return err
}

// meta returns what is known of coll's table, or nil when it does not
// exist yet. It is read from the schema once and kept until EnsureIndexes
// changes it; a missing table is not kept, so a table another store
// created is seen.
func (s *RecordStore) meta(ctx context.Context, coll string) (*collection, error) {
	if err := checkColl(coll); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c, gen := s.colls[coll], s.gen
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	rows, err := s.db.Query(ctx, `SELECT type, name FROM sqlite_master WHERE tbl_name IN (?, ?)`, coll, coll+"__fts")
	if err != nil {
		return nil, FormatError("record meta", err)
	}
	defer rows.Close()
	c = &collection{name: coll, table: quote(coll), ftsCol: map[string]bool{}, unique: map[string]bool{}}
	exists := false
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			return nil, FormatError("record meta", err)
		}
		switch {
		case typ == "table" && name == coll:
			exists = true
		case typ == "table" && name == coll+"__fts":
			c.fts = quote(name)
		case typ == "index":
			if f, ok := strings.CutPrefix(name, coll+"__u__"); ok && !strings.Contains(f, "__") {
				c.unique[f] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, FormatError("record meta", err)
	}
	if !exists {
		return nil, nil
	}
	if c.fts != "" {
		cols, err := s.ftsColumns(ctx, coll)
		if err != nil {
			return nil, err
		}
		for _, f := range cols {
			c.ftsCol[f] = true
		}
		c.ftsCols = cols
	}
	s.mu.Lock()
	if s.gen == gen {
		s.colls[coll] = c
	}
	s.mu.Unlock()
	return c, nil
}

func (s *RecordStore) ftsColumns(ctx context.Context, coll string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT name FROM pragma_table_info(?)`, coll+"__fts")
	if err != nil {
		return nil, FormatError("record meta", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, FormatError("record meta", err)
		}
		cols = append(cols, name)
	}
	return cols, FormatError("record meta", rows.Err())
}

func (s *RecordStore) forget(coll string) {
	s.mu.Lock()
	delete(s.colls, coll)
	s.gen++
	s.mu.Unlock()
}

func notFound(op string) error {
	return &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Resource not found.", Op: op}
}

// Get returns the record with id, or ENOTFOUND.
func (s *RecordStore) Get(ctx context.Context, coll, id string) (map[string]any, error) {
	c, err := s.meta(ctx, coll)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, notFound("record get")
	}
	var doc string
	if err := s.db.QueryRow(ctx, `SELECT doc FROM `+c.table+` WHERE id = ?`, id).Scan(&doc); err != nil {
		return nil, FormatError("record get", err)
	}
	return decodeDoc(id, doc)
}

// Find returns the records q selects, in q's order; by id when q has none,
// as on MongoDB.
//
// The page is chosen by rowid first and only its rows are then read, so
// skipping to a deep offset along an index reads the index, not the
// documents it skips.
func (s *RecordStore) Find(ctx context.Context, coll string, q *jqlgate.Query) ([]map[string]any, error) {
	c, err := s.meta(ctx, coll)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return []map[string]any{}, nil
	}
	query, args, ids, err := c.findSQL(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, FormatError("record find", err)
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		var id, doc string
		if ids {
			err = rows.Scan(&id)
		} else {
			err = rows.Scan(&id, &doc)
		}
		if err != nil {
			return nil, FormatError("record find", err)
		}
		if ids {
			out = append(out, map[string]any{"id": id})
			continue
		}
		rec, err := decodeDoc(id, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, project(rec, q.Fields))
	}
	return out, FormatError("record find", rows.Err())
}

// findSQL is the query that answers Find; ids says it reads only ids.
func (c *collection) findSQL(q *jqlgate.Query) (query string, args []any, ids bool, err error) {
	where, args, err := c.where(q)
	if err != nil {
		return "", nil, false, err
	}
	order, err := c.orderBy(q.Ordering)
	if err != nil {
		return "", nil, false, err
	}
	for _, f := range q.Fields {
		if err := checkField(f); err != nil {
			return "", nil, false, err
		}
	}
	lim, largs := limitOffset(q)
	args = append(args, largs...)
	if idOnly(q.Fields) {
		return `SELECT id FROM ` + c.table + where + order + lim, args, true, nil
	}
	return `SELECT t.id, t.doc FROM (SELECT rowid AS r FROM ` + c.table + where + order + lim +
		`) AS p CROSS JOIN ` + c.table + ` AS t ON t.rowid = p.r`, args, false, nil
}

// query runs a read whose text depends on a client's query. It is not
// kept prepared: the shapes of queries are unbounded, the cost of
// preparing one is small beside running it.
func (s *RecordStore) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	jqlgate.CountQuery(ctx)
	return s.db.read.QueryContext(ctx, query, args...)
}

// Count returns how many records q's conditions select, ignoring its
// limit and offset. With no conditions SQLite counts the entries of the
// smallest index, without reading any document.
func (s *RecordStore) Count(ctx context.Context, coll string, q *jqlgate.Query) (int, error) {
	c, err := s.meta(ctx, coll)
	if err != nil || c == nil {
		return 0, err
	}
	where, args, err := c.where(q)
	if err != nil {
		return 0, err
	}
	var n int
	var row *sql.Row
	if where == "" {
		row = s.db.QueryRow(ctx, `SELECT coalesce((SELECT n FROM record_counts WHERE coll = ?), 0)`, coll)
	} else {
		jqlgate.CountQuery(ctx)
		row = s.db.read.QueryRowContext(ctx, `SELECT count(*) FROM `+c.table+where, args...)
	}
	if err := row.Scan(&n); err != nil {
		return 0, FormatError("record count", err)
	}
	return n, nil
}

// Insert stores a new record and returns once it is durable. A duplicate
// id or unique value is ECONFLICT.
func (s *RecordStore) Insert(ctx context.Context, coll string, rec map[string]any) error {
	_, _, err := s.change(ctx, "record insert", coll, true, nil, insertFn(rec))
	return err
}

// Restore puts back a deleted record (it undoes a delete whose event
// could not be recorded, on a store without the outbox).
func (s *RecordStore) Restore(ctx context.Context, coll string, rec map[string]any) error {
	_, _, err := s.change(ctx, "record restore", coll, true, nil, insertFn(rec))
	return err
}

// Update sets fields of the record with id and returns the record as it
// is after the update; ENOTFOUND when there is none, ECONFLICT when a
// unique value is taken.
func (s *RecordStore) Update(ctx context.Context, coll, id string, set map[string]any) (map[string]any, error) {
	_, after, err := s.change(ctx, "record update", coll, false, nil, updateFn(id, set))
	return after, err
}

// Delete removes the record with id and returns it as it was; ENOTFOUND
// when there is none.
func (s *RecordStore) Delete(ctx context.Context, coll, id string) (map[string]any, error) {
	before, _, err := s.change(ctx, "record delete", coll, false, nil, deleteFn(id))
	return before, err
}

// InsertWithEvents stores rec and the events out yields in one
// transaction (see jqlgate.Outbox).
func (s *RecordStore) InsertWithEvents(ctx context.Context, coll string, rec map[string]any, out *jqlgate.Outbox) error {
	_, _, err := s.change(ctx, "record insert", coll, true, out, insertFn(rec))
	return err
}

// UpdateWithEvents sets fields of the record with id and stores its
// events, in one transaction; it returns the record after.
func (s *RecordStore) UpdateWithEvents(ctx context.Context, coll, id string, set map[string]any, out *jqlgate.Outbox) (map[string]any, error) {
	_, after, err := s.change(ctx, "record update", coll, false, out, updateFn(id, set))
	return after, err
}

// DeleteWithEvents removes the record with id and stores its events, in
// one transaction; it returns the record as it was.
func (s *RecordStore) DeleteWithEvents(ctx context.Context, coll, id string, out *jqlgate.Outbox) (map[string]any, error) {
	before, _, err := s.change(ctx, "record delete", coll, false, out, deleteFn(id))
	return before, err
}

// Close releases nothing: the DB belongs to whoever opened it. It is
// there so the store can stand where mongodb.RecordStore does.
func (s *RecordStore) Close(context.Context) error { return nil }

// changeFn changes one record of c inside a write and returns the record
// before and after (nil for none). It keeps c's counter and search table
// in step itself: as statements of the write, not triggers, because a
// trigger that writes to an FTS5 table opens a statement savepoint, at
// which FTS5 flushes its pending terms to a new segment for every record
// (measured: 40 % slower inserts).
type changeFn func(tx *Tx, c *collection) (before, after map[string]any, err error)

// change runs fn in one write, with out's events when out is not nil, and
// then calls out.Done exactly once: with the fanouts if Fan was reached
// (so the dispatcher can forget them if the write then failed), and the
// write's outcome. create says the write may create the table.
func (s *RecordStore) change(ctx context.Context, op, coll string, create bool, out *jqlgate.Outbox, fn changeFn) (before, after map[string]any, err error) {
	var fans []*jqlgate.Fanout
	if out != nil {
		defer func() { out.Done(fans, err) }()
	}
	c, err := s.meta(ctx, coll)
	if err != nil {
		return nil, nil, err
	}
	if c == nil && !create {
		return nil, nil, notFound(op)
	}
	err = s.db.Write(ctx, func(tx *Tx) error {
		cc := c
		if cc == nil {
			if _, err := tx.ExecRaw(createTableSQL(coll)); err != nil {
				return err
			}
			cc = bare(coll)
		}
		b, a, err := fn(tx, cc)
		if err != nil {
			return err
		}
		if out != nil {
			fans = out.Fan(out.Events(b, a))
			if err := insertFanouts(tx, fans); err != nil {
				return err
			}
		}
		before, after = b, a
		return nil
	})
	if err != nil {
		var je *jqlgate.Error
		if errors.As(err, &je) && je.Op == "write" {
			je.Op = op
		}
		return nil, nil, err
	}
	return before, after, nil
}

func insertFn(rec map[string]any) changeFn {
	return func(tx *Tx, c *collection) (map[string]any, map[string]any, error) {
		id, ok := rec["id"].(string)
		if !ok || id == "" {
			return nil, nil, jqlgate.Invalid("id", "A record needs a string id.")
		}
		after, doc, err := roundTrip(id, rec)
		if err != nil {
			return nil, nil, err
		}
		res, err := tx.Exec(`INSERT INTO `+c.table+` (id, doc) VALUES (?, ?)`, id, doc)
		if err != nil {
			return nil, nil, err
		}
		rowid, err := res.LastInsertId()
		if err != nil {
			return nil, nil, err
		}
		if err := c.index(tx, rowid, after); err != nil {
			return nil, nil, err
		}
		return nil, after, countRecords(tx, c.name, 1)
	}
}

func getForWrite(tx *Tx, table, id string) (int64, map[string]any, error) {
	var rowid int64
	var doc string
	if err := tx.QueryRow(`SELECT rowid, doc FROM `+table+` WHERE id = ?`, id).Scan(&rowid, &doc); err != nil {
		return 0, nil, err
	}
	rec, err := decodeDoc(id, doc)
	return rowid, rec, err
}

func updateFn(id string, set map[string]any) changeFn {
	return func(tx *Tx, c *collection) (map[string]any, map[string]any, error) {
		if v, ok := set["id"]; ok && v != id {
			return nil, nil, jqlgate.Invalid("id", "A record's id can't change.")
		}
		rowid, before, err := getForWrite(tx, c.table, id)
		if err != nil {
			return nil, nil, err
		}
		merged := make(map[string]any, len(before)+len(set))
		for k, v := range before {
			merged[k] = v
		}
		for k, v := range set {
			merged[k] = v
		}
		after, doc, err := roundTrip(id, merged)
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.Exec(`UPDATE `+c.table+` SET doc = ? WHERE rowid = ?`, doc, rowid); err != nil {
			return nil, nil, err
		}
		if c.searchChanged(before, after) {
			if err := c.unindex(tx, rowid); err != nil {
				return nil, nil, err
			}
			if err := c.index(tx, rowid, after); err != nil {
				return nil, nil, err
			}
		}
		return before, after, nil
	}
}

func deleteFn(id string) changeFn {
	return func(tx *Tx, c *collection) (map[string]any, map[string]any, error) {
		rowid, before, err := getForWrite(tx, c.table, id)
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.Exec(`DELETE FROM `+c.table+` WHERE rowid = ?`, rowid); err != nil {
			return nil, nil, err
		}
		if err := c.unindex(tx, rowid); err != nil {
			return nil, nil, err
		}
		return before, nil, countRecords(tx, c.name, -1)
	}
}

// searchText is what the search table holds of rec's field f: its text,
// or NULL when it is not a string.
func searchText(rec map[string]any, f string) any {
	if s, ok := rec[f].(string); ok {
		return s
	}
	return nil
}

// index adds rec, stored at rowid, to c's search table, if c has one.
func (c *collection) index(tx *Tx, rowid int64, rec map[string]any) error {
	if c.fts == "" {
		return nil
	}
	args := []any{rowid}
	marks := "?"
	for _, f := range c.ftsCols {
		args = append(args, searchText(rec, f))
		marks += ", ?"
	}
	_, err := tx.Exec(`INSERT INTO `+c.fts+` (rowid, `+quoteAll(c.ftsCols)+`) VALUES (`+marks+`)`, args...)
	return err
}

// unindex removes the record at rowid from c's search table.
func (c *collection) unindex(tx *Tx, rowid int64) error {
	if c.fts == "" {
		return nil
	}
	_, err := tx.Exec(`DELETE FROM `+c.fts+` WHERE rowid = ?`, rowid)
	return err
}

// searchChanged reports whether a field of c's search table differs
// between before and after.
func (c *collection) searchChanged(before, after map[string]any) bool {
	for _, f := range c.ftsCols {
		if searchText(before, f) != searchText(after, f) {
			return true
		}
	}
	return false
}

// quoteAll quotes each name and joins them with commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
