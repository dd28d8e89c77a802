package mongodb

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/jqlgate/jqlgate"
)

// BatcherOptions tune a Batcher. Zero values take the defaults.
type BatcherOptions struct {
	// MaxBatch is the most documents one InsertMany carries (default 256).
	MaxBatch int
	// MaxWait is how long a flush waits for more documents once it has
	// one (default 1 ms): the price of group commit in latency.
	MaxWait time.Duration
	// Flushers is how many InsertMany calls may be in flight at once
	// (default 2).
	Flushers int
	// Timeout bounds one InsertMany (default 30 s).
	Timeout time.Duration
}

// Batcher is group commit for one collection: many concurrent callers of
// Insert share one unordered InsertMany, and each learns the fate of its own
// documents. A caller returns only once its documents are durable (with the
// client's majority, journaled write concern) or have failed.
type Batcher struct {
	coll *mongo.Collection
	opts BatcherOptions
	reqs chan *insertReq

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

type insertReq struct {
	docs []any
	done chan error
}

// NewBatcher starts a batcher for coll. Call Close to stop it.
func NewBatcher(coll *mongo.Collection, opts BatcherOptions) *Batcher {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = time.Millisecond
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	b := &Batcher{coll: coll, opts: opts, reqs: make(chan *insertReq, opts.MaxBatch*4)}
	for range opts.Flushers {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// errBatcherClosed answers inserts after Close.
var errBatcherClosed = &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The server is shutting down.", RetryAfter: time.Second}

// Insert stores one document and returns when it is durable. A duplicate
// key fails only this document, as ECONFLICT.
func (b *Batcher) Insert(ctx context.Context, doc any) error {
	return b.InsertMany(ctx, []any{doc})
}

// InsertMany stores docs in one group commit and returns the first error of
// any of them. Once the documents are queued it waits for their outcome even
// if ctx ends, so a caller never mistakes a write that happened for one that
// did not.
func (b *Batcher) InsertMany(ctx context.Context, docs []any) error {
	if len(docs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return translate("batch insert", err)
	}
	jqlgate.CountQuery(ctx)
	req := &insertReq{docs: docs, done: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errBatcherClosed
	}
	b.reqs <- req
	b.mu.RUnlock()
	return <-req.done
}

// Close stops taking documents, flushes those queued and waits for every
// flush to finish.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.reqs)
	}
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Batcher) loop() {
	defer b.wg.Done()
	for first := range b.reqs {
		b.flush(b.gather(first))
	}
}

// gather collects requests after first until MaxBatch documents are queued,
// MaxWait has passed, or the batcher is closed.
func (b *Batcher) gather(first *insertReq) []*insertReq {
	batch := []*insertReq{first}
	n := len(first.docs)
	timer := time.NewTimer(b.opts.MaxWait)
	defer timer.Stop()
	for n < b.opts.MaxBatch {
		select {
		case r, ok := <-b.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			n += len(r.docs)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// flush writes a batch with one unordered InsertMany and hands each request
// the errors of its own documents.
func (b *Batcher) flush(batch []*insertReq) {
	var docs []any
	for _, r := range batch {
		docs = append(docs, r.docs...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
	defer cancel()
	_, err := b.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	failed := map[int]error{}
	var bwe mongo.BulkWriteException
	switch {
	case err == nil:
	case errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0:
		for _, we := range bwe.WriteErrors {
			failed[we.Index] = translate("batch insert", mongo.WriteException{WriteErrors: []mongo.WriteError{we.WriteError}})
		}
	default:
		// The whole batch's fate is unknown or failed: fail every caller.
		terr := translate("batch insert", err)
		for _, r := range batch {
			r.done <- terr
		}
		return
	}
	i := 0
	for _, r := range batch {
		var rerr error
		for range r.docs {
			if e, ok := failed[i]; ok && rerr == nil {
				rerr = e
			}
			i++
		}
		r.done <- rerr
	}
}
