package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnsureIndexes creates indexes on coll, one command each. Creating an
// index that exists is a no-op, so this is safe at every start.
//
// One command each, not CreateMany: the embedded store (FerretDB v1.24)
// drops the connection when one createIndexes command carries two or more
// indexes that already exist in a store reopened from its files, which
// made every restart fail.
//
// On the embedded store only the indexes that change what a write does
// are kept: unique ones (they refuse duplicates) and TTL ones (the server
// refuses them, which tells retention to sweep instead). Its SQLite
// backend answers every query by reading the collection, whatever the
// indexes (it pushes down nothing but an _id match), so any other index is
// work on every insert (a json_extract and a B-tree insert per document)
// that no read ever uses; those are not created there, and ones an older
// version created are dropped.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, op string, models ...mongo.IndexModel) error {
	embedded := isEmbedded(coll.Database().Client())
	for _, m := range models {
		if embedded && !constrains(m) {
			continue
		}
		if _, err := coll.Indexes().CreateOne(Counted(ctx), m); err != nil {
			return translate(op, err)
		}
	}
	if embedded {
		return dropReadOnlyIndexes(ctx, coll, op)
	}
	return nil
}

// isEmbedded reports whether client talks to the in-process store.
func isEmbedded(client *mongo.Client) bool {
	_, ok := embeddedClients.Load(client)
	return ok
}

// constrains reports whether index m changes what a write does: unique
// or TTL.
func constrains(m mongo.IndexModel) bool {
	if m.Options == nil {
		return false
	}
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		if err := set(&o); err != nil {
			return true // keep what can't be read
		}
	}
	return o.Unique != nil && *o.Unique || o.ExpireAfterSeconds != nil
}

// dropReadOnlyIndexes drops coll's indexes that neither refuse duplicates
// nor expire documents (see EnsureIndexes), left by an older version.
func dropReadOnlyIndexes(ctx context.Context, coll *mongo.Collection, op string) error {
	specs, err := coll.Indexes().ListSpecifications(Counted(ctx))
	if err != nil {
		return translate(op, err)
	}
	for _, s := range specs {
		if s.Name == "_id_" || s.Unique != nil && *s.Unique || s.ExpireAfterSeconds != nil {
			continue
		}
		if err := coll.Indexes().DropOne(Counted(ctx), s.Name); err != nil && !missingIndex(err) {
			return translate(op, err)
		}
	}
	return nil
}
