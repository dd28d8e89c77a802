// Package mongodb is jqlgate's production store: MongoDB through
// mongo-driver v2, a replica set shared by every jqlgate process (see
// DESIGN.md §3). The tests also run it on FerretDB v1 (internal/ferret), a
// MongoDB-wire server without TTL indexes or transactions; the two places
// that allow for it (EnsureIndexes, EnsureRetention) say so.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/jqlgate/jqlgate"
)

// Config says where the store is.
type Config struct {
	// URI of a MongoDB deployment; required.
	URI string
	// Database name; "jqlgate" when empty.
	Database string
	// ConnectTimeout bounds how long Open waits for the store.
	ConnectTimeout time.Duration
	// Logger is for the store's own messages; Open logs none.
	Logger *slog.Logger
}

// DB is an open store.
type DB struct {
	Client   *mongo.Client
	Database *mongo.Database
	// URI is the store's address.
	URI string
}

// Open connects to the MongoDB described by cfg. It fails, rather than
// hangs, when the store can't be reached within cfg.ConnectTimeout; the
// error names the URI with any password masked.
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
	if cfg.URI == "" {
		return nil, errors.New("store: no MongoDB URI given")
	}
	client, err := connect(ctx, cfg.URI, cfg.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	return &DB{Client: client, Database: client.Database(cfg.Database), URI: cfg.URI}, nil
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

// Ping checks that the store answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.Client.Ping(ctx, nil)
}

// Close disconnects from the store.
func (db *DB) Close(ctx context.Context) error {
	return db.Client.Disconnect(ctx)
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
// a unique index violation is ECONFLICT, an unreachable store is
// EUNAVAILABLE, anything else EINTERNAL.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Resource not found.", Op: op, Err: err}
	case mongo.IsDuplicateKeyError(err):
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
