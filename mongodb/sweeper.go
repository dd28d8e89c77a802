package mongodb

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SweeperOptions configure a Sweeper; zero fields get the defaults.
type SweeperOptions struct {
	// Retention is how long records are kept; it must be positive.
	Retention time.Duration
	// Attempts makes the sweeper delete attempt records too (where the
	// server has no TTL index for them).
	Attempts bool
	// Every is the time between sweeps (default 10 min); the first runs
	// FirstAfter the start (default 1 min).
	Every      time.Duration
	FirstAfter time.Duration
	// Batch bounds the documents one delete removes (default 500); Pause
	// separates the batches (default 200 ms), which keeps the sweep off
	// the hot path's toes.
	Batch int
	Pause time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Sweeper deletes events, and attempt records if asked, older than the
// retention period, in small batches: the _ids of up to Batch old
// documents are read, then deleted by _id, until none is left. It never
// deletes an event accepted at or after the oldest watermark or retry
// floor of any node, so an event whose deliveries are unfinished stays
// however old it is (attempt records are held back the same way).
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
		opts.Batch = 500
	}
	if opts.Pause <= 0 {
		opts.Pause = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Sweeper{store: store, opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs sweeps in the background until Stop.
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
	case errors.Is(err, context.Canceled):
	case err != nil:
		log.Warn("retention sweep", "error", err.Error())
	case res.Events+res.Attempts > 0:
		log.Info("retention sweep deleted old records")
	}
}

// Sweep deletes the events (and attempt records, if asked) older than the
// cutoff: now minus the retention, or the oldest node's watermark or retry
// floor if that is earlier.
func (w *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	cutoff, err := w.cutoff(ctx)
	if err != nil {
		return res, err
	}
	if res.Events, err = w.sweep(ctx, w.store.events, "ts", cutoff, &res.Batches); err != nil {
		return res, err
	}
	if w.opts.Attempts {
		res.Attempts, err = w.sweep(ctx, w.store.attempts, "created_at", cutoff, &res.Batches)
	}
	return res, err
}

// cutoff is the time before which records may go.
func (w *Sweeper) cutoff(ctx context.Context) (time.Time, error) {
	cutoff := w.opts.Now().Add(-w.opts.Retention).UTC()
	nodes, err := w.store.Nodes(ctx)
	if err != nil {
		return cutoff, err
	}
	for _, n := range nodes {
		for _, t := range []time.Time{n.Watermark, n.Floor} {
			if !t.IsZero() && t.Before(cutoff) {
				cutoff = t.UTC()
			}
		}
	}
	return cutoff, nil
}

// sweep deletes coll's documents whose field is before cutoff, a batch at
// a time, and returns how many it deleted.
func (w *Sweeper) sweep(ctx context.Context, coll *mongo.Collection, field string, cutoff time.Time, batches *int) (int64, error) {
	var total int64
	filter := bson.D{{Key: field, Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	opts := options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(w.opts.Batch))
	for {
		ids, err := w.ids(ctx, coll, filter, opts)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		res, err := coll.DeleteMany(Counted(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		if err != nil {
			return total, translate("retention delete", err)
		}
		total += res.DeletedCount
		*batches++
		if len(ids) < w.opts.Batch {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(w.opts.Pause):
		}
	}
}

// ids returns the _ids of up to one batch of coll's documents matching
// filter.
func (w *Sweeper) ids(ctx context.Context, coll *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder) ([]any, error) {
	cur, err := coll.Find(Counted(ctx), filter, opts)
	if err != nil {
		return nil, translate("retention find", err)
	}
	var docs []struct {
		ID any `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("retention find", err)
	}
	ids := make([]any, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}
