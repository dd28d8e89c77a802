// Package mongodb is jqlgate's store: MongoDB through mongo-driver v2, or,
// with no MongoDB URI configured, an embedded MongoDB-compatible store
// (FerretDB on SQLite files in the data dir) started in-process.
//
// The embedded store has no transactions, change streams or TTL indexes, and
// updates scan their collection, so the stores here keep the hot path
// insert-only and batched (see DESIGN.md §3).
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/jqlgate/jqlgate"
)

// Config says where the store is.
type Config struct {
	// URI of a MongoDB deployment. Empty starts the embedded store.
	URI string
	// Database name; "jqlgate" when empty.
	Database string
	// DataDir holds the embedded store's files.
	DataDir string
	// ConnectTimeout bounds how long Open waits for the store.
	ConnectTimeout time.Duration
	// EmbeddedSync is the embedded store's SQLite synchronous setting
	// (its files are in WAL mode): "full" (the default) syncs every commit
	// to disk, so an acknowledged write survives a crash of the machine;
	// "normal" leaves a commit to the operating system, so it survives a
	// crash of the process (kill -9) but the last commits may be lost if the
	// machine loses power.
	EmbeddedSync string
	Logger       *slog.Logger
}

// DB is an open store.
type DB struct {
	Client   *mongo.Client
	Database *mongo.Database
	// Embedded reports whether this is the in-process store.
	Embedded bool
	// URI is the store's address; for the embedded store, its loopback URI.
	URI string

	stopEmbedded func()
}

// Open connects to the store described by cfg, starting the embedded store
// first when cfg.URI is empty. It fails, rather than hangs, when the store
// can't be reached within cfg.ConnectTimeout; the error names the URI with
// any password masked.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Database == "" {
		cfg.Database = "jqlgate"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	db := &DB{}
	uri := cfg.URI
	if uri == "" {
		var err error
		uri, db.stopEmbedded, err = startEmbedded(ctx, cfg.DataDir, cfg.EmbeddedSync, cfg.Logger)
		if err != nil {
			return nil, err
		}
		db.Embedded = true
	}
	client, err := connect(ctx, uri, cfg.ConnectTimeout)
	if err != nil {
		db.stopEmbeddedStore()
		return nil, err
	}
	db.Client = client
	db.URI = uri
	if db.Embedded {
		embeddedClients.Store(client, struct{}{})
		writeGates.Store(client, &sync.Mutex{})
	}
	db.Database = client.Database(cfg.Database)
	return db, nil
}

// ClientOptions are the driver options jqlgate uses for uri: majority,
// journaled writes, and bounded server selection so nothing hangs.
func ClientOptions(uri string, timeout time.Duration) *options.ClientOptions {
	return options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout).
		SetAppName("jqlgate")
}

func connect(ctx context.Context, uri string, timeout time.Duration) (*mongo.Client, error) {
	opts := ClientOptions(uri, timeout)
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("store %s: invalid URI: %w", MaskURI(uri), err)
	}
	wc := writeconcern.Majority()
	j := true
	wc.Journal = &j
	opts.SetWriteConcern(wc)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", MaskURI(uri), err)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("store %s unreachable after %s: %w", MaskURI(uri), timeout, err)
	}
	return client, nil
}

// startEmbedded starts FerretDB on SQLite files in dataDir, listening on a
// free loopback port only, and returns its URI and a stop function that
// waits for it to close its files.
func startEmbedded(ctx context.Context, dataDir, sync string, logger *slog.Logger) (string, func(), error) {
	switch sync {
	case "":
		sync = "full"
	case "full", "normal":
	default:
		return "", nil, fmt.Errorf("embedded store: synchronous %q is not full or normal", sync)
	}
	dir, err := filepath.Abs(filepath.Join(dataDir, "store"))
	if err != nil {
		return "", nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("embedded store: %w", err)
	}
	// FerretDB logs every failed command as a warning (a duplicate key is
	// a failed command); only its errors are worth an operator's time.
	flog := slog.New(logger.Handler()).With("component", "embedded-store")
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/", RawQuery: url.Values{"_pragma": {"synchronous(" + sync + ")"}}.Encode()}).String(),
		Logger:    slog.New(levelFloor{Handler: flog.Handler(), min: slog.LevelError}),
	})
	if err != nil {
		return "", nil, fmt.Errorf("embedded store in %s: %w", dir, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	// MongoDBURI blocks until the listener is bound.
	return f.MongoDBURI(), stop, nil
}

// levelFloor drops records below a minimum level. It applies WithAttrs
// and WithGroup only when a record passes: the embedded store calls With
// on every SQL statement with the statement's arguments (whole documents)
// for a debug record that is dropped, and a JSON handler would format
// those arguments up front.
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

// Ping checks that the store answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.Client.Ping(ctx, nil)
}

// Close disconnects from the store, then stops the embedded store if it
// was started by Open.
func (db *DB) Close(ctx context.Context) error {
	forgetClient(db.Client)
	err := db.Client.Disconnect(ctx)
	writeGates.Delete(db.Client)
	db.stopEmbeddedStore()
	return err
}

func (db *DB) stopEmbeddedStore() {
	if db.stopEmbedded != nil {
		db.stopEmbedded()
		db.stopEmbedded = nil
	}
}

// MaskURI returns uri with any password replaced by "xxxxx".
func MaskURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		// Not a URL we can take apart: hide everything between "//" and "@".
		if i, j := strings.Index(uri, "//"), strings.LastIndex(uri, "@"); i >= 0 && j > i {
			return uri[:i+2] + "xxxxx" + uri[j:]
		}
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// translate maps driver errors to jqlgate errors: no document is ENOTFOUND,
// a unique index violation is ECONFLICT (the embedded store reports one from
// an update as an InternalError saying "UNIQUE constraint failed"), an
// unreachable store is EUNAVAILABLE, anything else EINTERNAL.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Resource not found.", Op: op, Err: err}
	case mongo.IsDuplicateKeyError(err) || strings.Contains(err.Error(), "UNIQUE constraint failed"):
		return &jqlgate.Error{Code: jqlgate.ECONFLICT, Message: "A record with the same unique value already exists.", Op: op, Err: err}
	case isUnavailable(err):
		return &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The store is unavailable; try again shortly.", Op: op, Err: err, RetryAfter: time.Second}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &jqlgate.Error{Code: jqlgate.EUNAVAILABLE, Message: "The request timed out.", Op: op, Err: err, RetryAfter: time.Second}
	}
	return jqlgate.Internal(op, err)
}

func isUnavailable(err error) bool {
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		return false
	}
	return strings.Contains(err.Error(), "server selection")
}

// Translate is translate for other packages' stores built on this one.
func Translate(op string, err error) error { return translate(op, err) }

// Counted marks one store round trip on ctx (see jqlgate.CountQuery) and
// returns ctx, so a call reads store.Find(Counted(ctx), …).
func Counted(ctx context.Context) context.Context {
	jqlgate.CountQuery(ctx)
	return ctx
}
