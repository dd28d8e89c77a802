package console

import (
	"strings"
)

// webhook is a subscription as listWebhooks and getWebhook show it. Fields
// a server does not send stay empty.
type webhook struct {
	ID              string            `json:"id"`
	Owner           string            `json:"owner"`
	Prefix          string            `json:"prefix"`
	Trigger         string            `json:"trigger"`
	Triggers        []string          `json:"triggers"`
	WebhookURL      string            `json:"webhookUrl"`
	Method          string            `json:"method"`
	ContentType     string            `json:"contentType"`
	IncludeEntity   bool              `json:"includeEntity"`
	Enabled         bool              `json:"enabled"`
	DisabledReason  string            `json:"disabledReason"`
	Headers         map[string]string `json:"headers"`
	BasicAuth       *basicAuthView    `json:"basicAuth"`
	OAuth2          *oauth2View       `json:"oauth2"`
	TrustedSite     string            `json:"trustedSite"`
	SignatureScheme string            `json:"signatureScheme"`
	BodySignature   *struct {
		Header    string `json:"header"`
		Algorithm string `json:"algorithm"`
	} `json:"bodySignature"`
	// Warnings say why a webhook just saved will not deliver yet.
	Warnings    []string       `json:"warnings"`
	Metadata    map[string]any `json:"metadata"`
	Filter      map[string]any `json:"filter"`
	RetryPolicy struct {
		Preset   string    `json:"preset"`
		Schedule []float64 `json:"schedule"`
	} `json:"retryPolicy"`
	TimeoutSeconds     int     `json:"timeoutSeconds"`
	MaxInFlight        int     `json:"maxInFlight"`
	RateLimitPerSecond float64 `json:"rateLimitPerSecond"`
	Ordered            bool    `json:"ordered"`
	CreatedAt          string  `json:"createdAt"`
	UpdatedAt          string  `json:"updatedAt"`

	// Health comes with the list (listWebhooks health: true).
	Health *health `json:"health"`
}

// Scheme names the signature scheme (v1 unless the server says v1a).
func (w webhook) Scheme() string {
	if w.SignatureScheme == "" {
		return "v1"
	}
	return w.SignatureScheme
}

// Events lists what the webhook is triggered by.
func (w webhook) Events() []string {
	if len(w.Triggers) > 0 {
		return w.Triggers
	}
	if w.Trigger != "" {
		return []string{w.Trigger}
	}
	return nil
}

// health is how a webhook's deliveries have gone (jqlgate.WebhookHealth
// as listWebhooks answers it).
type health struct {
	LastSuccessAt     string `json:"lastSuccessAt"`
	LastFailureAt     string `json:"lastFailureAt"`
	LastFailure       string `json:"lastFailure"`
	LastFailureStatus string `json:"lastFailureStatus"`
	// FailuresInRow counts the attempts since the last success, up to the
	// sample's size (FailuresCapped then).
	FailuresInRow  int  `json:"failuresInRow"`
	FailuresCapped bool `json:"failuresCapped"`
	Recent         int  `json:"recent"`
	RecentDone     int  `json:"recentDone"`
}

// LastAt is when the webhook's latest attempt was made, "" if none was.
func (h *health) LastAt() string {
	if h.LastFailureAt > h.LastSuccessAt {
		return h.LastFailureAt
	}
	return h.LastSuccessAt
}

// attempt is one row of getWebhookLogs.
type attempt struct {
	ID              string  `json:"id"`
	DeliveryID      string  `json:"deliveryId"`
	EventID         string  `json:"eventId"`
	Event           string  `json:"event"`
	Trigger         string  `json:"trigger"`
	EntityID        string  `json:"entityId"`
	EntityURL       string  `json:"entityUrl"`
	SubscriptionID  string  `json:"subscriptionId"`
	WebhookURL      string  `json:"webhookUrl"`
	TrustedSiteName string  `json:"trustedSiteName"`
	Owner           string  `json:"owner"`
	Attempt         int     `json:"attempt"`
	Retries         int     `json:"retries"`
	Status          string  `json:"status"`
	Test            bool    `json:"test"`
	ResponseCode    int     `json:"responseCode"`
	StatusCode      int     `json:"statusCode"`
	DurationMs      float64 `json:"durationMs"`
	Error           string  `json:"error"`
	NextAttemptAt   string  `json:"nextAttemptAt"`
	CreatedAt       string  `json:"createdAt"`
	Request         *struct {
		URL           string         `json:"url"`
		Headers       map[string]any `json:"headers"`
		Body          string         `json:"body"`
		BodyTruncated bool           `json:"bodyTruncated"`
	} `json:"request"`
	Response *struct {
		Code          int            `json:"code"`
		Headers       map[string]any `json:"headers"`
		Body          string         `json:"body"`
		BodyTruncated bool           `json:"bodyTruncated"`
	} `json:"response"`

	// Latest is set on the delivery's newest attempt: only there may it be
	// retried.
	Latest bool `json:"-"`
}

// Retryable reports whether the row offers Retry: the newest attempt of a
// delivery that did not succeed.
func (a attempt) Retryable() bool { return a.Latest && a.DeliveryID != "" && failing(a.Status) }

// EntityLink is where the record the event is about is shown: the
// console's record page, else the server's entityUrl.
func (a attempt) EntityLink() string {
	if u := recordURL(a.Event, a.Entity()); u != "" {
		return u
	}
	return a.EntityURL
}

// Code is the receiver's status code, wherever the server put it.
func (a attempt) Code() int {
	switch {
	case a.ResponseCode != 0:
		return a.ResponseCode
	case a.StatusCode != 0:
		return a.StatusCode
	case a.Response != nil:
		return a.Response.Code
	}
	return 0
}

// Entity is the id of the record the event is about: the server's
// entityId, else the X-Webhook-Entity-Id header it sent.
func (a attempt) Entity() string {
	if a.EntityID != "" {
		return a.EntityID
	}
	if a.Request != nil {
		if v, ok := a.Request.Headers["X-Webhook-Entity-Id"].(string); ok {
			return v
		}
	}
	return ""
}

// Target names where the delivery goes: the trusted site or the URL.
func (a attempt) Target() string {
	switch {
	case a.TrustedSiteName != "":
		return a.TrustedSiteName
	case a.WebhookURL != "":
		return a.WebhookURL
	case a.Request != nil:
		return a.Request.URL
	}
	return ""
}

// queued is one row of getWebhookQueue.
type queued struct {
	DeliveryID       string `json:"deliveryId"`
	EventID          string `json:"eventId"`
	Event            string `json:"event"`
	EntityID         string `json:"entityId"`
	EntityURL        string `json:"entityUrl"`
	SubscriptionID   string `json:"subscriptionId"`
	WebhookURL       string `json:"webhookUrl"`
	TrustedSiteName  string `json:"trustedSiteName"`
	Owner            string `json:"owner"`
	Status           string `json:"status"`
	Attempts         int    `json:"attempts"`
	Retries          int    `json:"retries"`
	AcceptedAt       string `json:"acceptedAt"`
	CreatedAt        string `json:"createdAt"`
	NextAttemptAt    string `json:"nextAttemptAt"`
	LastAttemptAt    string `json:"lastAttemptAt"`
	LastResponseCode int    `json:"lastResponseCode"`
	ResponseCode     int    `json:"responseCode"`
	LastError        string `json:"lastError"`
}

// Since is when the delivery was accepted.
func (d queued) Since() string {
	if d.AcceptedAt != "" {
		return d.AcceptedAt
	}
	return d.CreatedAt
}

// EntityLink is where the record the event is about is shown.
func (d queued) EntityLink() string {
	if u := recordURL(d.Event, d.EntityID); u != "" {
		return u
	}
	return d.EntityURL
}

// Target names where the delivery goes: the trusted site or the URL.
func (d queued) Target() string {
	if d.TrustedSiteName != "" {
		return d.TrustedSiteName
	}
	return d.WebhookURL
}

// Code is the last status code the receiver answered.
func (d queued) Code() int {
	if d.LastResponseCode != 0 {
		return d.LastResponseCode
	}
	return d.ResponseCode
}

// eventType is one entry of listEvents.
type eventType struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Example     any    `json:"example"`
}

// trustedSite is one system.TrustedSite.
type trustedSite struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	BaseURL     string         `json:"baseUrl"`
	Owner       string         `json:"owner"`
	BasicAuth   *basicAuthView `json:"basicAuth"`
	OAuth2      *oauth2View    `json:"oauth2"`
	AuthType    string         `json:"authType"`
	HeaderNames []string       `json:"headerNames"`
	CreatedAt   string         `json:"createdAt"`
	// Subscriptions are the webhooks using the site (getTrustedSite).
	Subscriptions []struct {
		ID         string `json:"id"`
		WebhookURL string `json:"webhookUrl"`
	} `json:"subscriptions"`
}

// Auth names the site's kind of authentication.
func (s trustedSite) Auth() string {
	switch {
	case s.AuthType != "":
		return s.AuthType
	case s.BasicAuth != nil:
		return "basic"
	case s.OAuth2 != nil:
		return "oauth2"
	case len(s.HeaderNames) > 0:
		return "headers"
	}
	return "none"
}

// failing reports whether a status is a failure (for CSS).
func failing(status string) bool {
	return status == "Failed" || status == "Resent"
}

// statusClass is the CSS class of a delivery status.
func statusClass(s string) string { return "st-" + strings.ToLower(s) }

// basicAuthView and oauth2View are the non-secret parts of a receiver's
// credentials, as subscriptions and trusted sites answer them.
type basicAuthView struct {
	Username string `json:"username"`
}

type oauth2View struct {
	TokenURL string   `json:"tokenUrl"`
	ClientID string   `json:"clientId"`
	Scopes   []string `json:"scopes"`
	Audience string   `json:"audience"`
}
