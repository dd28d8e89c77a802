package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/sqlite"
)

// MustOpenDB opens a fresh database in t's temp dir, closed when t ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(tb.TempDir(), sqlite.FileName)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

func TestWriteGroupCommitIsolatesFailures(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *sqlite.Tx) error {
		_, err := tx.ExecRaw(`CREATE TABLE t (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx *sqlite.Tx) error {
				// Every write inserts a row of its own, then half of them
				// collide on a shared key: their own row must go too.
				if _, err := tx.Exec(`INSERT INTO t (k) VALUES (?)`, "own-"+string(rune('A'+i))); err != nil {
					return err
				}
				if i%2 == 1 {
					_, err := tx.Exec(`INSERT INTO t (k) VALUES ('shared')`)
					return err
				}
				return nil
			})
		}()
	}
	wg.Wait()
	conflicts := 0
	for _, err := range errs {
		if jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
			conflicts++
		} else if err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if conflicts != 24 {
		t.Errorf("conflicts = %d, want 24 (25 writers tried the shared key, one won)", conflicts)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 25+1+1 {
		t.Errorf("rows = %d, want 27: 25 even writers' own rows, the shared key and its winner's own row", n)
	}
}

func TestWriteAfterClose(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), sqlite.FileName)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = db.Write(context.Background(), func(*sqlite.Tx) error { return nil })
	if jqlgate.ErrorCode(err) != jqlgate.EUNAVAILABLE {
		t.Errorf("write after close = %v, want EUNAVAILABLE", err)
	}
}

func TestWriteErrorRollsBackAlone(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	_ = db.Write(ctx, func(tx *sqlite.Tx) error { _, err := tx.ExecRaw(`CREATE TABLE t (k TEXT PRIMARY KEY)`); return err })
	boom := errors.New("boom")
	err := db.Write(ctx, func(tx *sqlite.Tx) error {
		if _, err := tx.Exec(`INSERT INTO t (k) VALUES ('x')`); err != nil {
			return err
		}
		return boom
	})
	if jqlgate.ErrorCode(err) != jqlgate.EINTERNAL {
		t.Fatalf("err = %v, want the write's own error as EINTERNAL", err)
	}
	var n int
	_ = db.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n)
	if n != 0 {
		t.Errorf("rows = %d after a failed write, want 0", n)
	}
}

func TestDatabaseFilesAreTheOwnersAlone(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, sqlite.FileName)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	if err := db.Write(context.Background(), func(tx *sqlite.Tx) error {
		_, err := tx.ExecRaw(`CREATE TABLE t (k TEXT)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", name, mode)
		}
	}
}
