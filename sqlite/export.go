package sqlite

import (
	"context"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// This file holds what `jqlgate store export` and `import` need beyond the
// stores' ordinary methods: complete reads in keyset pages by id, so a
// store of any size exports in bounded memory, and batched writes that
// keep every field as it was exported.

// Collections returns the names of the record collections that have a
// table, sorted: every record table has its counter in record_counts.
func (s *RecordStore) Collections(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT coll FROM record_counts ORDER BY coll`)
	if err != nil {
		return nil, FormatError("record collections", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, FormatError("record collections", err)
		}
		out = append(out, name)
	}
	return out, FormatError("record collections", rows.Err())
}

// RecordsAfter returns up to limit records of coll whose id sorts after
// after ("" for the first page), by id.
func (s *RecordStore) RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error) {
	c, err := s.meta(ctx, coll)
	if err != nil || c == nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT id, doc FROM `+c.table+` WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, FormatError("record page", err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, FormatError("record page", err)
		}
		rec, err := decodeDoc(id, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, FormatError("record page", rows.Err())
}

// InsertRecords stores recs in coll in one transaction, creating the
// table if needed; a duplicate id or unique value is ECONFLICT and stores
// none of them.
func (s *RecordStore) InsertRecords(ctx context.Context, coll string, recs []map[string]any) error {
	if err := checkColl(coll); err != nil {
		return err
	}
	c, err := s.meta(ctx, coll)
	if err != nil {
		return err
	}
	if c == nil {
		c = bare(coll)
	}
	err = s.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecRaw(createTableSQL(coll)); err != nil {
			return err
		}
		for _, rec := range recs {
			if _, _, err := insertFn(rec)(tx, c); err != nil {
				if id, _ := rec["id"].(string); id != "" {
					return FormatError("record import "+id, err)
				}
				return err
			}
		}
		return nil
	})
	s.forget(coll)
	return FormatError("record import", err)
}

// EventsAfter returns up to limit stored events whose id sorts after after
// ("" for the first page), by id.
func (s *DeliveryStore) EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error) {
	return s.readEvents(ctx, "event page", `SELECT `+eventCols+` FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// AttemptsAfter returns up to limit attempts whose id sorts after after
// ("" for the first page), by id, test attempts (Test set) among them.
func (s *DeliveryStore) AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error) {
	return readAttempts(ctx, s.db, "attempt page", `SELECT `+attemptCols+` FROM attempts WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// ImportAttempts stores attempts as they are, test attempts marked as
// such, in one transaction; one already stored is ECONFLICT (the others
// are stored).
func (s *DeliveryStore) ImportAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error {
	var plain, test []*jqlgate.Attempt
	for _, a := range attempts {
		if a.Test {
			test = append(test, a)
		} else {
			plain = append(plain, a)
		}
	}
	dup := false
	err := s.db.Write(ctx, func(tx *Tx) error {
		d1, err := insertAttempts(tx, plain, false)
		if err != nil {
			return err
		}
		d2, err := insertAttempts(tx, test, true)
		dup = d1 || d2
		return err
	})
	if err == nil && dup {
		return errDuplicate("import attempts")
	}
	return FormatError("import attempts", err)
}

// PutNodeState stores a node's checkpoint as it is; a node already there
// is ECONFLICT.
func (s *DeliveryStore) PutNodeState(ctx context.Context, st jqlgate.NodeState) error {
	err := s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO nodes (`+nodeCols+`) VALUES (?, ?, ?, ?, ?, ?)`, st.Node, st.Owner, st.Epoch,
			nanos(st.Heartbeat), nanos(st.Watermark), nanos(st.Floor))
		return err
	})
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return errDuplicate("import node " + st.Node)
	}
	return FormatError("import node "+st.Node, err)
}
