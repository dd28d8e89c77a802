// Package sqlite is jqlgate's embedded store, the default when no MongoDB
// is configured: one SQLite database file in the data dir, through
// modernc.org/sqlite (pure Go), in WAL mode with synchronous=FULL by
// default. It has real tables and indexes, so reads stay O(log N) as the
// store grows, and transactions, so a record and the event it emits are
// one atomic write.
//
// Every write goes through one writer goroutine that gathers the writes
// queued meanwhile into one transaction (group commit); a write that fails
// fails alone (see DB.Write). Reads run in parallel on a pool of read-only
// connections.
//
// It imports only the root package.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jqlgate/jqlgate"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// FileName is the database file's name inside the data dir.
const FileName = "jqlgate.db"

// Config says where the database is and how it syncs.
type Config struct {
	// Path of the database file; ":memory:" is not supported (readers and
	// the writer are separate connections).
	Path string
	// Sync is SQLite's synchronous setting: "full" (the default) syncs
	// every commit to disk, so an acknowledged write survives a power cut;
	// "normal" survives a crash of the process but may lose the last
	// commits on power loss.
	Sync string
	// Readers is how many read connections run at once (default 4).
	Readers int
	// MaxBatch is the most writes one group commit carries (default 512).
	MaxBatch int
	Logger   *slog.Logger
}

// DB is an open embedded store.
type DB struct {
	path   string
	logger *slog.Logger
	write  *sql.DB
	read   *sql.DB

	maxBatch int
	ops      chan *op
	// gate keeps Write from sending on ops after Close closed it.
	gate   sync.RWMutex
	closed bool
	done   chan struct{}

	stmtMu sync.Mutex
	rstmts map[string]*sql.Stmt
	// wstmts are the writer's statements and unprepared the queries it
	// has yet to prepare (see Tx.stmt); only the writer goroutine uses
	// them, and Close once the writer has stopped.
	wstmts     map[string]*sql.Stmt
	unprepared map[string]bool

	// Now is the clock of every transaction; time.Now when nil.
	Now func() time.Time
}

// Open opens (creating if needed) the database at cfg.Path, applies the
// migrations not yet applied, and starts the writer.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Path == "" || cfg.Path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required")
	}
	switch cfg.Sync {
	case "":
		cfg.Sync = "full"
	case "full", "normal":
	default:
		return nil, fmt.Errorf("sqlite: synchronous %q is not full or normal", cfg.Sync)
	}
	if cfg.Readers <= 0 {
		cfg.Readers = 4
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// SQLite would create the file 0644; made first, it is the owner's
	// alone, and SQLite gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db := &DB{path: cfg.Path, logger: cfg.Logger, maxBatch: cfg.MaxBatch, ops: make(chan *op, cfg.MaxBatch*4),
		done: make(chan struct{}), rstmts: map[string]*sql.Stmt{},
		wstmts: map[string]*sql.Stmt{}, unprepared: map[string]bool{}}
	var err error
	if db.write, err = sql.Open("sqlite", dsn(cfg.Path, cfg.Sync, false)); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		_ = db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	if err := db.migrate(ctx); err != nil {
		_ = db.write.Close()
		return nil, err
	}
	// Planner statistics: optimize analyzes the tables whose statistics
	// are missing or stale (bounded work, 0x10002 as SQLite advises when a
	// connection opens), so an indexed filter and an indexed ordering are
	// weighed on real numbers.
	if _, err := db.write.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		cfg.Logger.Warn("embedded store: PRAGMA optimize", "error", err.Error())
	}
	if db.read, err = sql.Open("sqlite", dsn(cfg.Path, cfg.Sync, true)); err != nil {
		_ = db.write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.read.SetMaxOpenConns(cfg.Readers)
	db.read.SetMaxIdleConns(cfg.Readers)
	db.read.SetConnMaxIdleTime(0)
	db.read.SetConnMaxLifetime(0)
	go db.writer()
	return db, nil
}

// dsn is modernc.org/sqlite's connection string for path: WAL, the sync
// level, a busy timeout (the writer is alone, but a checkpoint or a second
// process may briefly hold a lock), foreign keys, and immediate
// transactions for the writer so it never has to upgrade a read lock.
func dsn(path, sync string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "cache_size(-16000)")
	q.Add("_pragma", "temp_store(memory)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_size_limit(67108864)")
		// PRAGMA optimize runs ANALYZE where statistics are stale; bounded,
		// it samples each index instead of reading it whole (seconds at a
		// million records).
		q.Add("_pragma", "analysis_limit(1000)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// migrate applies, in name order, each embedded migration not yet recorded
// in the migrations table, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n != 0 {
		return nil
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name) VALUES (?)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers a read.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return FormatError("ping", db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one))
}

// Close stops taking writes, commits those queued, checkpoints the WAL
// into the database file and closes every connection.
func (db *DB) Close(ctx context.Context) error {
	db.gate.Lock()
	if !db.closed {
		db.closed = true
		close(db.ops)
	}
	db.gate.Unlock()
	select {
	case <-db.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	db.stmtMu.Lock()
	for _, s := range db.wstmts {
		_ = s.Close()
	}
	for _, s := range db.rstmts {
		_ = s.Close()
	}
	db.rstmts = map[string]*sql.Stmt{}
	db.stmtMu.Unlock()
	rerr := db.read.Close()
	_, _ = db.write.ExecContext(ctx, `PRAGMA optimize`)
	// A truncating checkpoint leaves no WAL behind, so the next start
	// has nothing to replay.
	_, _ = db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	werr := db.write.Close()
	return errors.Join(rerr, werr)
}

func (db *DB) now() time.Time {
	if db.Now != nil {
		return db.Now().UTC()
	}
	return time.Now().UTC()
}

// Query runs a read on the reader pool, with the statement prepared once.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	jqlgate.CountQuery(ctx)
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRow runs a one-row read on the reader pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	jqlgate.CountQuery(ctx)
	st, err := db.readStmt(ctx, query)
	if err != nil {
		// Let the error surface at Scan, as database/sql does.
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if s := db.rstmts[query]; s != nil {
		return s, nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.rstmts[query] = s
	return s, nil
}

// FormatError turns SQLite's errors into jqlgate's: a UNIQUE or primary
// key violation is ECONFLICT, no row ENOTFOUND, a busy or closed database
// or an ended context EUNAVAILABLE, anything else EINTERNAL. A jqlgate
// error passes through.
func FormatError(op string, err error) error {
	if err == nil {
		return nil
	}
	var je *jqlgate.Error
	if errors.As(err, &je) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &jqlgate.Error{Code: jqlgate.ECONFLICT, Message: "A record with the same unique value already exists.", Op: op, Err: err}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			return unavailable(op, err)
		}
		if se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_IOERR {
			return unavailable(op, err)
		}
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Resource not found.", Op: op, Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The request timed out.", Op: op, Err: err, RetryAfter: time.Second}
	case errors.Is(err, sql.ErrConnDone), strings.Contains(err.Error(), "database is closed"):
		return unavailable(op, err)
	}
	return jqlgate.Internal(op, err)
}

func unavailable(op string, err error) error {
	return &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The store is unavailable; try again shortly.", Op: op, Err: err, RetryAfter: time.Second}
}

// IsConflict reports whether err is a uniqueness violation.
func IsConflict(err error) bool { return jqlgate.ErrorCode(FormatError("", err)) == jqlgate.ECONFLICT }
