package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// EnsureIndexes creates indexes on coll, one command each. Creating an
// index that exists is a no-op, so this is safe at every start.
//
// One command each, not CreateMany: FerretDB v1 (which the tests run this
// adapter on) drops the connection when one createIndexes command carries
// two or more indexes that already exist in a database reopened from its
// files. On MongoDB one command per index costs a round trip each at
// start, and nothing else.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, op string, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(Counted(ctx), m); err != nil {
			return translate(op, err)
		}
	}
	return nil
}
