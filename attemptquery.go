package jqlgate

import "time"

// AttemptQuery selects delivery attempts for a log, newest first: those of
// one subscription, of a set of subscriptions (an owner's account-wide
// log), or of every subscription (an operator's). Zero fields do not narrow
// the selection.
type AttemptQuery struct {
	SubscriptionID string
	// SubscriptionIDs, when SubscriptionID is empty and AllSubscriptions
	// false, keeps attempts to one of these subscriptions (none if empty).
	SubscriptionIDs []string
	// AllSubscriptions selects the attempts to every subscription.
	AllSubscriptions bool
	// EntityID keeps attempts at events about this record.
	EntityID string
	// Statuses keeps attempts with one of these statuses.
	Statuses   []string
	Event      string
	EventID    string
	DeliveryID string
	// Since and Until bound the attempt time: Since <= t < Until.
	Since, Until time.Time
	Limit        int
	Offset       int
}

// PendingDelivery is a delivery that has not finished: Queued (no attempt
// yet) or Resent (an attempt failed and another is scheduled).
type PendingDelivery struct {
	DeliveryID string `json:"deliveryId"`
	EventID    string `json:"eventId"`
	Event      string `json:"event"`
	// EntityID is the record the event is about; views show it only to
	// callers who may read it.
	EntityID       string    `json:"-"`
	SubscriptionID string    `json:"subscriptionId"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	Retries        int       `json:"retries"`
	AcceptedAt     time.Time `json:"acceptedAt"`
	// NextAttemptAt is when the next attempt falls due; for a Queued
	// delivery, its acceptance (it is due at once).
	NextAttemptAt    time.Time `json:"nextAttemptAt"`
	LastAttemptAt    time.Time `json:"lastAttemptAt,omitzero"`
	LastResponseCode int       `json:"lastResponseCode,omitempty"`
	LastError        string    `json:"lastError,omitempty"`
}
