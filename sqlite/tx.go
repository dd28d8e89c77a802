package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Tx is one write inside a group commit: the batch's transaction, seen
// through a savepoint of the write's own. Now is the batch's clock, the same
// for every row the batch writes.
type Tx struct {
	tx  *sql.Tx
	ctx context.Context
	db  *DB
	Now time.Time
	// stmts are this transaction's statements, by query.
	stmts map[string]*sql.Stmt
}

// stmt returns the transaction's statement for query. Statements are
// prepared once per process on the writer's connection and reused by every
// transaction (SQLite compiles a statement, with the triggers its table
// fires, once): a query the writer has not seen is prepared for this
// transaction alone, and for good once the batch has committed and the
// connection is free (see DB.prepareSeen).
func (tx *Tx) stmt(query string) (*sql.Stmt, error) {
	if s := tx.stmts[query]; s != nil {
		return s, nil
	}
	var s *sql.Stmt
	if parent := tx.db.wstmts[query]; parent != nil {
		s = tx.tx.StmtContext(tx.ctx, parent)
	} else {
		var err error
		if s, err = tx.tx.PrepareContext(tx.ctx, query); err != nil {
			return nil, err
		}
		tx.db.unprepared[query] = true
	}
	tx.stmts[query] = s
	return s, nil
}

// maxWriteStmts bounds the writer's prepared statements.
const maxWriteStmts = 512

// prepareSeen prepares, on the writer's idle connection, the queries the
// last batch had to prepare for itself. Only the writer goroutine calls it.
func (db *DB) prepareSeen() {
	for q := range db.unprepared {
		delete(db.unprepared, q)
		if len(db.wstmts) >= maxWriteStmts {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		st, err := db.write.PrepareContext(ctx, q)
		cancel()
		if err == nil {
			db.wstmts[q] = st
		}
	}
}

// Exec runs a statement (prepared once per process) in the transaction.
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	st, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(tx.ctx, args...)
}

// Query runs a read inside the transaction, so it sees the batch's own
// writes.
func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	st, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(tx.ctx, args...)
}

// QueryRow runs a one-row read inside the transaction.
func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	st, err := tx.stmt(query)
	if err != nil {
		return tx.tx.QueryRowContext(tx.ctx, query, args...)
	}
	return st.QueryRowContext(tx.ctx, args...)
}

// ExecRaw runs a statement that is not worth preparing (schema changes).
func (tx *Tx) ExecRaw(query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(tx.ctx, query, args...)
}

// Context is the batch's context.
func (tx *Tx) Context() context.Context { return tx.ctx }

// op states: queued until the writer takes it, then started; a caller
// whose context ends while it is still queued marks it cancelled, and the
// writer skips it.
const (
	opQueued int32 = iota
	opStarted
	opCancelled
)

type op struct {
	fn    func(*Tx) error
	state atomic.Int32
	done  chan error
}

// errClosed answers writes after Close.
var errClosed = &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The server is shutting down.", RetryAfter: time.Second}

// batchTimeout bounds one group commit.
const batchTimeout = 30 * time.Second

// Write runs fn in the writer's next group commit and returns once that
// commit is durable, or fn or the commit failed. If fn returns an error its
// changes are rolled back alone and the error is returned (through
// FormatError); the batch's other writes still commit. fn may run more than
// once (when another write of its batch fails, the batch runs again with a
// savepoint per write), so it must depend only on tx and have no effect
// outside it, but for assigning its results and a jqlgate.Outbox's Fan.
// fn must not keep tx after it returns.
//
// A caller whose ctx ends before the writer reaches its write gets the
// context's error and the write never happens; once the writer has begun
// it, Write waits for the outcome whatever ctx does, so a caller never
// mistakes a write that happened for one that did not.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return FormatError("write", err)
	}
	jqlgate.CountQuery(ctx)
	o := &op{fn: fn, done: make(chan error, 1)}
	db.gate.RLock()
	if db.closed {
		db.gate.RUnlock()
		return errClosed
	}
	db.ops <- o
	db.gate.RUnlock()
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opCancelled) {
			return FormatError("write", ctx.Err())
		}
		return <-o.done
	}
}

// writer is the one goroutine that writes: it takes the first queued
// write, adds every other already queued (up to MaxBatch), and commits them
// in one transaction. What queues while it commits joins the next batch,
// which is how group commit grows batches under load without waiting.
func (db *DB) writer() {
	defer close(db.done)
	for first := range db.ops {
		batch := []*op{first}
	drain:
		for len(batch) < db.maxBatch {
			select {
			case o, ok := <-db.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		db.commit(batch)
		db.prepareSeen()
	}
}

func (db *DB) commit(batch []*op) {
	live := batch[:0:0]
	for _, o := range batch {
		if o.state.CompareAndSwap(opQueued, opStarted) {
			live = append(live, o)
		}
	}
	if len(live) == 0 {
		return
	}
	// First every write runs straight in the one transaction. A savepoint
	// per write costs two statements each and makes FTS5 flush its pending
	// terms at every one of them, so savepoints are kept for the batch in
	// which a write fails: that batch is rolled back and run again with
	// each write in a savepoint of its own, so the failing one fails alone.
	// Writes are functions of the transaction's state, so running one again
	// gives the same result (jqlgate.Outbox's Fan keeps its first answer).
	errs, err := db.runBatch(live, false)
	if errors.Is(err, errRetryIsolated) {
		errs, err = db.runBatch(live, true)
	}
	if err != nil {
		fail(live, err)
		return
	}
	for i, o := range live {
		o.done <- errs[i]
	}
}

// errRetryIsolated says a write of an optimistic batch failed: the batch
// was rolled back and must run again with a savepoint per write.
var errRetryIsolated = errors.New("retry the batch with a savepoint per write")

// runBatch runs ops in one transaction and commits it. isolated puts each
// write in a savepoint of its own, so a failing write is rolled back alone
// and the others commit; otherwise the first failing write rolls the whole
// batch back and runBatch returns errRetryIsolated. It returns each write's
// error, and the transaction's.
func (db *DB) runBatch(ops []*op, isolated bool) ([]error, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	sqltx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, FormatError("begin", err)
	}
	tx := &Tx{tx: sqltx, ctx: ctx, db: db, Now: db.now(), stmts: map[string]*sql.Stmt{}}
	errs := make([]error, len(ops))
	for i, o := range ops {
		if isolated {
			errs[i] = db.runIsolated(tx, o)
			continue
		}
		if errs[i] = db.runOne(tx, o); errs[i] != nil {
			_ = sqltx.Rollback()
			if len(ops) == 1 {
				// Alone in its batch: the rollback is the write's own.
				return errs, nil
			}
			return nil, errRetryIsolated
		}
	}
	if err := sqltx.Commit(); err != nil {
		_ = sqltx.Rollback()
		return nil, FormatError("commit", err)
	}
	return errs, nil
}

// runOne runs one write, a panic in it becoming its error.
func (db *DB) runOne(tx *Tx, o *op) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = jqlgate.Internal("write", panicError{p})
		}
	}()
	return FormatError("write", o.fn(tx))
}

// runIsolated runs one write inside its own savepoint, rolled back if the
// write fails.
func (db *DB) runIsolated(tx *Tx, o *op) error {
	if _, err := tx.tx.ExecContext(tx.ctx, `SAVEPOINT w`); err != nil {
		return FormatError("savepoint", err)
	}
	err := db.runOne(tx, o)
	if err != nil {
		_, _ = tx.tx.ExecContext(tx.ctx, `ROLLBACK TO w`)
	}
	_, _ = tx.tx.ExecContext(tx.ctx, `RELEASE w`)
	return err
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic in a store write" }

func fail(ops []*op, err error) {
	for _, o := range ops {
		o.done <- err
	}
}
