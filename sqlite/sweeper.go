package sqlite

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// SweeperOptions configure a Sweeper; zero fields get the defaults.
type SweeperOptions struct {
	// Retention is how long records are kept; it must be positive.
	Retention time.Duration
	// Every is the time between sweeps (default 10 min); the first runs
	// FirstAfter the start (default 1 min).
	Every      time.Duration
	FirstAfter time.Duration
	// Batch bounds the rows one write deletes (default 1,000); Pause
	// separates the writes (default 100 ms), so a long sweep holds the
	// writer for a few milliseconds at a time and the hot path's commits
	// go between.
	Batch int
	Pause time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Sweeper deletes the events and attempt records older than the retention
// period, a batch per write, walking the events' accepted index and the
// attempts' created_at index from their oldest entry, so it reads only
// what is due. It never deletes what is at or after the oldest watermark
// or retry floor of any node, so an event whose deliveries are unfinished
// stays however old it is (attempt records are held back the same way).
// SQLite has no TTL index: attempt records always go here.
type Sweeper struct {
	store *DeliveryStore
	opts  SweeperOptions
	stop  chan struct{}
	done  chan struct{}
}

// SweepResult counts what one sweep deleted, and in how many batches.
type SweepResult struct {
	Attempts, Events int64
	Batches          int
}

// NewSweeper returns a sweeper over store; call Start to run it.
func NewSweeper(store *DeliveryStore, opts SweeperOptions) *Sweeper {
	if opts.Every <= 0 {
		opts.Every = 10 * time.Minute
	}
	if opts.FirstAfter <= 0 {
		opts.FirstAfter = time.Minute
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.Pause <= 0 {
		opts.Pause = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Sweeper{store: store, opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs sweeps in the background until Stop. Between sweeps it only
// waits on its timer.
func (w *Sweeper) Start() {
	go w.loop()
}

// Stop ends the background sweeps, waiting for the current batch.
func (w *Sweeper) Stop(ctx context.Context) error {
	close(w.stop)
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Sweeper) loop() {
	defer close(w.done)
	timer := time.NewTimer(w.opts.FirstAfter)
	defer timer.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-timer.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-w.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		res, err := w.Sweep(ctx)
		cancel()
		w.report(res, err)
		timer.Reset(w.opts.Every)
	}
}

func (w *Sweeper) report(res SweepResult, err error) {
	log := w.opts.Logger.With("component", "retention", "events", res.Events, "attempts", res.Attempts)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(FormatError("", err), errClosed):
	case err != nil:
		log.Warn("retention sweep", "error", err.Error())
	case res.Events+res.Attempts > 0:
		log.Info("retention sweep deleted old records")
	}
}

// Sweep deletes the events and attempt records older than the cutoff: now
// minus the retention, or the oldest node's watermark or retry floor if
// that is earlier.
func (w *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	if w.opts.Retention <= 0 {
		return res, nil // keep forever; never "older than now"
	}
	cutoff, err := w.cutoff(ctx)
	if err != nil {
		return res, err
	}
	// Events first: an attempt of a Resent delivery takes the delivery's
	// pending row along only once its event is gone (see migration 011).
	if res.Events, err = w.sweep(ctx, sweepEvents, cutoff, &res.Batches); err != nil {
		return res, err
	}
	res.Attempts, err = w.sweep(ctx, sweepAttempts, cutoff, &res.Batches)
	return res, err
}

// The deletes of one batch, oldest first through the time index.
const (
	sweepEvents   = `DELETE FROM events WHERE id IN (SELECT id FROM events INDEXED BY events_accepted WHERE accepted < ? ORDER BY accepted LIMIT ?)`
	sweepAttempts = `DELETE FROM attempts WHERE rowid IN (SELECT rowid FROM attempts INDEXED BY attempts_log WHERE created_at < ? ORDER BY created_at LIMIT ?)`
)

// cutoff is the time before which records may go.
func (w *Sweeper) cutoff(ctx context.Context) (int64, error) {
	cutoff := w.opts.Now().Add(-w.opts.Retention).UTC()
	nodes, err := w.store.Nodes(ctx)
	if err != nil {
		return 0, err
	}
	for _, n := range nodes {
		for _, t := range []time.Time{n.Watermark, n.Floor} {
			if !t.IsZero() && t.Before(cutoff) {
				cutoff = t
			}
		}
	}
	return cutoff.UnixNano(), nil
}

// sweep runs del (with cutoff and the batch size) one write at a time
// until a write deletes less than a batch, and returns how many rows it
// deleted.
func (w *Sweeper) sweep(ctx context.Context, del string, cutoff int64, batches *int) (int64, error) {
	var total int64
	for {
		var n int64
		err := w.store.db.Write(ctx, func(tx *Tx) error {
			res, err := tx.Exec(del, cutoff, w.opts.Batch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, FormatError("retention delete", err)
		}
		if n == 0 {
			return total, nil
		}
		total += n
		*batches++
		if n < int64(w.opts.Batch) {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(w.opts.Pause):
		}
	}
}
