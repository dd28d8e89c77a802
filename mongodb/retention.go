package mongodb

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Attempt records and events are kept for a retention period (90 days by
// default). Where the server has TTL indexes (MongoDB), attempt records
// expire through one on created_at. Events are always deleted by the
// Sweeper, because an event must not go while a delivery of it is
// unfinished, which a TTL index cannot know; where the server has no TTL
// indexes (FerretDB, which the tests run on), the Sweeper deletes attempt
// records too.

// ttlIndexName names the TTL index on attempts.created_at.
const ttlIndexName = "created_at_ttl"

// codeNotImplemented is the server's answer to an option it lacks
// (FerretDB's to expireAfterSeconds).
const codeNotImplemented = 238

// Codes of a createIndexes that conflicts with an existing index's options.
var indexConflictCodes = []int{85, 86} // IndexOptionsConflict, IndexKeySpecsConflict

// EnsureRetention makes attempt records expire retention after their
// created_at through a TTL index, or drops that index when retention is 0
// (keep forever). It reports whether the server keeps the TTL index; false
// (with a nil error) where it has none, so the Sweeper must delete attempt
// records itself.
func (s *DeliveryStore) EnsureRetention(ctx context.Context, retention time.Duration) (bool, error) {
	if retention <= 0 {
		err := s.attempts.Indexes().DropOne(Counted(ctx), ttlIndexName)
		if err != nil && !missingIndex(err) {
			return false, translate("drop TTL index", err)
		}
		return false, nil
	}
	secs := int32(max(retention/time.Second, 1))
	model := mongo.IndexModel{Keys: bson.D{{Key: "created_at", Value: 1}},
		Options: options.Index().SetName(ttlIndexName).SetExpireAfterSeconds(secs)}
	err := EnsureIndexes(ctx, s.attempts, "create TTL index", model)
	switch {
	case err == nil:
		return true, nil
	case notImplemented(err):
		return false, nil
	case hasCode(err, indexConflictCodes...):
		return true, s.retune(ctx, secs)
	}
	return false, err
}

// retune changes the TTL index's expiry (the retention was changed since
// it was created).
func (s *DeliveryStore) retune(ctx context.Context, secs int32) error {
	cmd := bson.D{{Key: "collMod", Value: s.attempts.Name()}, {Key: "index", Value: bson.D{
		{Key: "name", Value: ttlIndexName}, {Key: "expireAfterSeconds", Value: secs}}}}
	return translate("change TTL index", s.attempts.Database().RunCommand(Counted(ctx), cmd).Err())
}

func notImplemented(err error) bool {
	return hasCode(err, codeNotImplemented) || strings.Contains(strings.ToLower(err.Error()), "not implemented")
}

// missingIndex reports a drop of an index (or collection) that is not there.
func missingIndex(err error) bool {
	return hasCode(err, 26, 27) || strings.Contains(strings.ToLower(err.Error()), "not found")
}

func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}
