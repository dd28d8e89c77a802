package sqlite

import (
	"context"
	"slices"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// EnsureIndexes creates the table of a collection and its indexes
// (idempotent). An index is over (kind, value) of each of its fields,
// ended by id unless it is unique, so that ordering by its fields walks it
// with ties broken by id; a unique one refuses a second record with the
// same values (ECONFLICT), two without the field included, as MongoDB's
// does. An index with Search is the collection's search index over its
// fields: an FTS5 trigram table, kept in step with the table by each
// write in its own transaction (see changeFn), and rebuilt when its fields
// change.
func (s *RecordStore) EnsureIndexes(ctx context.Context, coll string, indexes []jqlgate.Index) error {
	if len(indexes) == 0 {
		return nil
	}
	if err := checkColl(coll); err != nil {
		return err
	}
	var stmts []string
	var search []string
	for _, ix := range indexes {
		for _, f := range ix.Fields {
			if err := checkField(f); err != nil {
				return err
			}
		}
		if ix.Search {
			for _, f := range ix.Fields {
				if !slices.Contains(search, f) && f != "id" {
					search = append(search, f)
				}
			}
			continue
		}
		if st := indexSQL(coll, ix); st != "" {
			stmts = append(stmts, st)
		}
	}
	defer s.forget(coll)
	return s.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecRaw(createTableSQL(coll)); err != nil {
			return err
		}
		for _, st := range stmts {
			if _, err := tx.ExecRaw(st); err != nil {
				return err
			}
		}
		if len(search) > 0 {
			return ensureSearch(tx, coll, search)
		}
		return nil
	})
}

// indexSQL creates ix, or is "" for an index on id alone (the id column
// is unique already).
func indexSQL(coll string, ix jqlgate.Index) string {
	if len(ix.Fields) == 0 || len(ix.Fields) == 1 && ix.Fields[0] == "id" {
		return ""
	}
	var cols []string
	hasID := false
	for _, f := range ix.Fields {
		cols = append(cols, keyExprs(f)...)
		hasID = hasID || f == "id"
	}
	kind, unique := "i", ""
	if ix.Unique {
		kind, unique = "u", "UNIQUE "
	} else if !hasID {
		cols = append(cols, "id")
	}
	name := quote(coll + "__" + kind + "__" + strings.Join(ix.Fields, "__"))
	return "CREATE " + unique + "INDEX IF NOT EXISTS " + name + " ON " + quote(coll) + " (" + strings.Join(cols, ", ") + ")"
}

// ensureSearch makes coll's search table hold fields, creating it and its
// triggers, or rebuilding them when they hold other fields.
func ensureSearch(tx *Tx, coll string, fields []string) error {
	fts := coll + "__fts"
	rows, err := tx.Query(`SELECT name FROM pragma_table_info(?)`, fts)
	if err != nil {
		return err
	}
	var have []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have = append(have, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Search tables were once kept by triggers; a store made then loses
	// them (the writes keep the table now).
	for _, trg := range []string{"_ai", "_ad", "_au"} {
		if _, err := tx.ExecRaw(`DROP TRIGGER IF EXISTS ` + quote(fts+trg)); err != nil {
			return err
		}
	}
	if slices.Equal(have, fields) {
		return nil
	}
	for _, st := range []string{
		`DROP TRIGGER IF EXISTS ` + quote(fts+"_ai"),
		`DROP TRIGGER IF EXISTS ` + quote(fts+"_ad"),
		`DROP TRIGGER IF EXISTS ` + quote(fts+"_au"),
		`DROP TABLE IF EXISTS ` + quote(fts),
	} {
		if _, err := tx.ExecRaw(st); err != nil {
			return err
		}
	}
	cols := make([]string, len(fields))
	docVals := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = quote(f)
		docVals[i] = searchable("doc", f)
	}
	colList := strings.Join(cols, ", ")
	for _, st := range []string{
		`CREATE VIRTUAL TABLE ` + quote(fts) + ` USING fts5(` + colList +
			`, content='', contentless_delete=1, tokenize='trigram case_sensitive 0')`,
		`INSERT INTO ` + quote(fts) + ` (rowid, ` + colList + `) SELECT rowid, ` + strings.Join(docVals, ", ") + ` FROM ` + quote(coll),
	} {
		if _, err := tx.ExecRaw(st); err != nil {
			return err
		}
	}
	return nil
}
