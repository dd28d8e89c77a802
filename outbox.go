package jqlgate

// Outbox carries the events of one record write into the write's own
// transaction (a transactional outbox), so that after a crash at any
// instant either the record change and its events are both stored or
// neither is.
//
// The model handler sets Events; the dispatcher sets Fan and Done. A store
// that writes records transactionally calls, inside the transaction, Events
// with the record as it was and as it is (nil before for a create, nil
// after for a delete), then Fan with those events, and stores the fanouts
// Fan returns beside the record. Once the transaction has committed or
// failed it calls Done exactly once with the fanouts it stored (nil if Fan
// was not reached) and the outcome. A store that runs its transaction
// again may call Events and Fan again: Fan returns what it returned the
// first time.
type Outbox struct {
	Events func(before, after map[string]any) []*Event
	Fan    func(events []*Event) []*Fanout
	Done   func(fans []*Fanout, err error)
}
