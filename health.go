package jqlgate

import (
	"strconv"
	"time"
)

// HealthSample is how many of a webhook's latest attempts its health
// judges the recent success rate and failure streak by.
const HealthSample = 100

// WebhookHealth is how a webhook's deliveries have gone, from the outcomes
// of its attempts (test sends left out): when one last succeeded, when one
// last failed and why, how many in a row have failed since the last
// success (at most HealthSample counted), and the share of its latest
// attempts that succeeded.
type WebhookHealth struct {
	SubscriptionID string    `json:"subscriptionId"`
	LastSuccessAt  time.Time `json:"lastSuccessAt,omitzero"`
	LastFailureAt  time.Time `json:"lastFailureAt,omitzero"`
	// LastFailure says why the last failed attempt failed: its HTTP status
	// or its error.
	LastFailure   string `json:"lastFailure,omitempty"`
	LastFailureOf string `json:"lastFailureStatus,omitempty"`
	// FailuresInRow counts the attempts since the last success, newest
	// first, up to HealthSample (FailuresCapped then).
	FailuresInRow  int  `json:"failuresInRow"`
	FailuresCapped bool `json:"failuresCapped,omitempty"`
	// Recent and RecentDone are how many of the latest HealthSample
	// attempts there are, and how many of them succeeded.
	Recent     int `json:"recent"`
	RecentDone int `json:"recentDone"`
}

// NewWebhookHealth works out a webhook's health from its latest successful
// attempt, its latest failed one (Resent or Failed), and its latest
// HealthSample attempts, newest first (any of them nil or empty).
func NewWebhookHealth(subID string, lastDone, lastFailure *Attempt, recent []*Attempt) *WebhookHealth {
	h := &WebhookHealth{SubscriptionID: subID, Recent: len(recent)}
	if lastDone != nil {
		h.LastSuccessAt = lastDone.CreatedAt
	}
	if lastFailure != nil {
		h.LastFailureAt, h.LastFailureOf = lastFailure.CreatedAt, lastFailure.Status
		switch {
		case lastFailure.Error != "":
			h.LastFailure = lastFailure.Error
		case lastFailure.ResponseCode != 0:
			h.LastFailure = "HTTP " + strconv.Itoa(lastFailure.ResponseCode)
		}
	}
	streak := true
	for _, a := range recent {
		if a.Status == StatusDone {
			h.RecentDone++
			streak = false
		} else if streak {
			h.FailuresInRow++
		}
	}
	h.FailuresCapped = streak && len(recent) == HealthSample
	return h
}

// LatestOutcomes returns the newest successful and the newest failed
// (Resent or Failed) attempt of attempts, newest first; nil for none.
func LatestOutcomes(attempts []*Attempt) (done, failure *Attempt) {
	for _, a := range attempts {
		switch a.Status {
		case StatusDone:
			if done == nil {
				done = a
			}
		case StatusResent, StatusFailed:
			if failure == nil {
				failure = a
			}
		}
		if done != nil && failure != nil {
			break
		}
	}
	return done, failure
}
