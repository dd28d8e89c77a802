package sqlite

import (
	"context"
	"database/sql"
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
	Now time.Time
	// stmts are the statements prepared in this transaction: the writer's
	// one connection is the transaction's while it runs, so statements are
	// prepared on it once per batch and closed with it.
	stmts map[string]*sql.Stmt
}

func (tx *Tx) stmt(query string) (*sql.Stmt, error) {
	if s := tx.stmts[query]; s != nil {
		return s, nil
	}
	s, err := tx.tx.PrepareContext(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	tx.stmts[query] = s
	return s, nil
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
// commit is durable, or fn or the commit failed. fn's changes are in a
// savepoint of their own: if fn returns an error they are rolled back
// alone and the error is returned (through FormatError); the batch's other
// writes still commit. fn must not keep tx after it returns.
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
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	sqltx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		fail(live, FormatError("begin", err))
		return
	}
	tx := &Tx{tx: sqltx, ctx: ctx, Now: db.now(), stmts: map[string]*sql.Stmt{}}
	errs := make([]error, len(live))
	for i, o := range live {
		errs[i] = db.run(tx, o)
	}
	if err := sqltx.Commit(); err != nil {
		_ = sqltx.Rollback()
		fail(live, FormatError("commit", err))
		return
	}
	db.commits.Add(1)
	for i, o := range live {
		o.done <- errs[i]
	}
}

// run runs one write inside its own savepoint.
func (db *DB) run(tx *Tx, o *op) (err error) {
	if _, err := tx.tx.ExecContext(tx.ctx, `SAVEPOINT w`); err != nil {
		return FormatError("savepoint", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = jqlgate.Internal("write", panicError{p})
		}
		if err != nil {
			_, _ = tx.tx.ExecContext(tx.ctx, `ROLLBACK TO w`)
		}
		_, _ = tx.tx.ExecContext(tx.ctx, `RELEASE w`)
	}()
	return FormatError("write", o.fn(tx))
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic in a store write" }

func fail(ops []*op, err error) {
	for _, o := range ops {
		o.done <- err
	}
}
