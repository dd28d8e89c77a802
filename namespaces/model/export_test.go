package model

// SetBounds sets the bounds of reverse accessors and of ordering by an
// aggregation field, and returns a function that puts them back.
func SetBounds(related, aggregateOrdering int) func() {
	r, a := maxRelated, maxAggregateOrdering
	maxRelated, maxAggregateOrdering = related, aggregateOrdering
	return func() { maxRelated, maxAggregateOrdering = r, a }
}
