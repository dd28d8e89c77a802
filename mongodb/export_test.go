package mongodb

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
