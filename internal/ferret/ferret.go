// Package ferret starts FerretDB on SQLite files in a directory, in process,
// listening on loopback only. It is for tests (which run the mongodb adapter
// on it when no real MongoDB is configured) and for the legacy-store export
// command; it is never linked into the server.
package ferret

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Start starts FerretDB on SQLite files in dir (created if missing), with
// synchronous=FULL, listening on a free loopback port only, and returns its
// MongoDB URI and a stop function that waits for it to close its files.
// FerretDB's own log records go to logger, at Error level only.
func Start(ctx context.Context, dir string, logger *slog.Logger) (uri string, stop func(), err error) {
	if logger == nil {
		logger = slog.Default()
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("ferretdb: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("ferretdb: %w", err)
	}
	// FerretDB logs every failed command as a warning (a duplicate key is
	// a failed command); only its errors are worth reading.
	flog := slog.New(logger.Handler()).With("component", "ferretdb")
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/", RawQuery: url.Values{"_pragma": {"synchronous(full)"}}.Encode()}).String(),
		Logger:    slog.New(levelFloor{Handler: flog.Handler(), min: slog.LevelError}),
	})
	if err != nil {
		return "", nil, fmt.Errorf("ferretdb in %s: %w", dir, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	// MongoDBURI blocks until the listener is bound.
	return f.MongoDBURI(), stop, nil
}

// levelFloor drops records below a minimum level. It applies WithAttrs
// and WithGroup only when a record passes: FerretDB calls With on every SQL
// statement with the statement's arguments (whole documents) for a debug
// record that is dropped, and a JSON handler would format those arguments
// up front.
type levelFloor struct {
	slog.Handler
	min slog.Level
	ops []func(slog.Handler) slog.Handler
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) Handle(ctx context.Context, r slog.Record) error {
	out := h.Handler
	for _, op := range h.ops {
		out = op(out)
	}
	return out.Handle(ctx, r)
}

func (h levelFloor) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(next slog.Handler) slog.Handler { return next.WithAttrs(attrs) })
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return h.with(func(next slog.Handler) slog.Handler { return next.WithGroup(name) })
}

func (h levelFloor) with(op func(slog.Handler) slog.Handler) levelFloor {
	return levelFloor{Handler: h.Handler, min: h.min, ops: append(slices.Clip(h.ops), op)}
}
