package jqlgate

import "time"

// AttemptQuery selects the delivery attempts of one subscription for its
// log, newest first. Zero fields do not narrow the selection.
type AttemptQuery struct {
	SubscriptionID string
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
	DeliveryID     string    `json:"deliveryId"`
	EventID        string    `json:"eventId"`
	Event          string    `json:"event"`
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
