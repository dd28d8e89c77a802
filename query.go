package jqlgate

// Query selects records of one model namespace: the store-neutral form of a
// retrieve command, after the handler has checked every field against the
// schema and coerced every value to its declared type.
type Query struct {
	// Filter holds conditions every record must meet.
	Filter []Condition
	// Exclude drops records that meet all of its conditions (Django's
	// exclude: the negation of their conjunction).
	Exclude []Condition
	// Search, when not empty, keeps records where any of SearchFields
	// contains it, ignoring case. It is a literal, never a pattern.
	Search       string
	SearchFields []string
	// Ordering sorts the records; the store breaks ties by id.
	Ordering []Order
	Limit    int
	Offset   int
	// Fields, when not empty, are the only top-level fields returned.
	Fields []string
}

// Order is one sort key.
type Order struct {
	Field string
	Desc  bool
}

// Index is a store index over one or more fields of a model namespace.
type Index struct {
	Fields []string
	Unique bool
	// Search makes it the collection's search index over Fields (their
	// case-insensitive substring match, Query.Search), for a store that
	// needs one; a store that answers searches without one skips it.
	Search bool
}
