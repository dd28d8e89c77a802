package mongodb

import "go.mongodb.org/mongo-driver/v2/mongo"

// SetBodyBudget sets the bytes of headers and bodies log indexes keep
// whole, until the returned function restores it.
func SetBodyBudget(n int) func() {
	old := bodyBudget
	bodyBudget = n
	return func() { bodyBudget = old }
}

// SetMaxIndexed sets the most attempts a log index holds, until the
// returned function restores it.
func SetMaxIndexed(n int) func() {
	old := maxIndexed
	maxIndexed = n
	return func() { maxIndexed = old }
}

// LogIndexSizes returns how many attempts and events db's log index holds,
// and the length of its whole-attempt eviction queue.
func LogIndexSizes(db *mongo.Database) (attempts, events, fifo int) {
	x := indexFor(db)
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.atts), len(x.evs), len(x.fifo)
}
