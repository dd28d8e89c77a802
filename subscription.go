package jqlgate

// SubscriptionQuery selects one owner's subscriptions for a list: every
// non-zero field narrows the selection, Offset and Limit page through it.
// AllOwners (an operator's list) ignores Owner.
type SubscriptionQuery struct {
	Owner     string
	AllOwners bool
	Prefix    string
	Trigger   string
	Enabled   *bool
	Offset    int
	Limit     int
}
