package jqlgate

// SubscriptionQuery selects one owner's subscriptions for a list: every
// non-zero field narrows the selection, Offset and Limit page through it.
type SubscriptionQuery struct {
	Owner   string
	Prefix  string
	Trigger string
	Enabled *bool
	Offset  int
	Limit   int
}
