package jqlgate

import "time"

// Subscription is one webhook: a receiver URL subscribed to one or more
// triggers by the principal that owns it.
type Subscription struct {
	ID     string `json:"id"`
	Owner  string `json:"-"`
	Prefix string `json:"prefix"`
	// Trigger is the first of Triggers, as Antly's clients read it.
	Trigger string `json:"trigger"`
	// Triggers are every trigger the subscription receives events of
	// (see TriggerList for subscriptions that only set Trigger).
	Triggers   []string `json:"triggers"`
	WebhookURL string   `json:"webhookUrl"`

	Method         string            `json:"method"`      // POST or GET
	ContentType    string            `json:"contentType"` // application/json or application/x-www-form-urlencoded
	IncludeEntity  bool              `json:"includeEntity"`
	Enabled        bool              `json:"enabled"`
	DisabledReason string            `json:"disabledReason,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	// SecretHeaders are custom headers (canonical names) the owner marked
	// secret, besides CredentialHeaders; see IsSecretHeader.
	SecretHeaders []string        `json:"secretHeaders,omitempty"`
	BasicAuth     *BasicAuth      `json:"basicAuth,omitempty"`
	OAuth2        *ReceiverOAuth2 `json:"oauth2,omitempty"`
	Metadata      map[string]any  `json:"metadata,omitempty"`
	RetryPolicy   RetryPolicy     `json:"retryPolicy"`

	TimeoutSeconds     int            `json:"timeoutSeconds"`
	MaxInFlight        int            `json:"maxInFlight"`
	RateLimitPerSecond float64        `json:"rateLimitPerSecond,omitempty"`
	Filter             map[string]any `json:"filter,omitempty"`
	Ordered            bool           `json:"ordered"`
	// PublicOnly is set when the principal that last set the subscription's
	// URLs lacked PermPrivateTargets: its deliveries may reach public
	// addresses only, even if the address policy allows more (so a name
	// that resolves to a private address later is still refused).
	PublicOnly bool `json:"-"`

	// TrustedSite is the id of the owner's trusted site whose credentials
	// authenticate this subscription's requests ("" for none).
	TrustedSite string `json:"trustedSite,omitempty"`

	// SignatureScheme is how webhook-signature is made: SchemeV1 (HMAC,
	// "whsec_" secrets, the default) or SchemeV1a (Ed25519, "whsk_" keys).
	SignatureScheme string `json:"signatureScheme"`
	// BodySignature, when set, adds a plain HMAC of the body in one more
	// header for receivers that check one (GitHub, Etlworks style).
	BodySignature *BodySignature `json:"bodySignature,omitempty"`

	// Secrets are the signing secrets ("whsec_…", or "whsk_…" signing
	// keys for SchemeV1a), newest first. During a rotation the old one
	// stays until it expires, and both sign.
	Secrets []Secret `json:"-"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Secret is one signing secret of a subscription.
type Secret struct {
	Value     string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is zero for the current secret.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// ActiveSecrets returns the secrets that sign a request sent at now.
func (s *Subscription) ActiveSecrets(now time.Time) []string {
	var out []string
	for _, sec := range s.Secrets {
		if sec.ExpiresAt.IsZero() || now.Before(sec.ExpiresAt) {
			out = append(out, sec.Value)
		}
	}
	return out
}

// BodySignature is a plain body HMAC header: Header: "<Algorithm>=<hex
// HMAC of the body>", keyed with the subscription's current secret as
// text ("whsec_…"), as GitHub-style receivers take it.
type BodySignature struct {
	Header    string `json:"header"`
	Algorithm string `json:"algorithm"` // sha256, or sha1 only when asked for
}

// BasicAuth is HTTP basic authentication towards a receiver.
type BasicAuth struct {
	Username string `json:"username"`
	Password string `json:"-"`
}

// ReceiverOAuth2 describes how to get a client-credentials token for a
// receiver that sits behind OAuth2.
type ReceiverOAuth2 struct {
	TokenURL     string   `json:"tokenUrl"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"-"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

// RetryPolicy is when to try a failed delivery again: Schedule[i] is the
// wait before retry i+1. A delivery is Failed after len(Schedule) retries.
type RetryPolicy struct {
	Preset   string          `json:"preset,omitempty"`
	Schedule []time.Duration `json:"-"`
}

// DefaultRetrySchedule is DESIGN.md's schedule after the first attempt:
// 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// AntavoRetrySchedule is Antavo's preset: 5 attempts, 10 s apart.
var AntavoRetrySchedule = []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}

// Event is something that happened, such as "profile.Customer:create".
type Event struct {
	ID        string         `json:"id"`
	Type      string         `json:"event"`
	EntityID  string         `json:"-"`
	Data      map[string]any `json:"data"`
	Changed   []string       `json:"-"`
	Timestamp time.Time      `json:"timestamp"`
}

// Delivery statuses, as Antavo names them.
const (
	StatusQueued = "Queued" // waiting for its first attempt
	StatusResent = "Resent" // an attempt failed; another is scheduled
	StatusFailed = "Failed" // every attempt failed, or the delivery was given up
	StatusDone   = "Done"   // the receiver answered 2xx
)

// Attempt is the record of one try at delivering one event to one
// subscription. Attempts are only ever inserted, never updated.
type Attempt struct {
	ID         string `json:"id"`
	DeliveryID string `json:"deliveryId"`
	EventID    string `json:"eventId"`
	Event      string `json:"event"`
	// Trigger is the subscription's trigger that matched the event (its
	// most specific one, when several did).
	Trigger string `json:"trigger,omitempty"`
	// EntityID is the record the event is about, if any.
	EntityID        string            `json:"entityId,omitempty"`
	SubscriptionID  string            `json:"subscriptionId"`
	Attempt         int               `json:"attempt"`
	Status          string            `json:"status"`
	URL             string            `json:"url"`
	RequestHeaders  map[string]string `json:"requestHeaders,omitempty"`
	RequestBody     string            `json:"requestBody,omitempty"`
	ResponseCode    int               `json:"responseCode"`
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
	ResponseBody    string            `json:"responseBody,omitempty"`
	Error           string            `json:"error,omitempty"`
	Duration        time.Duration     `json:"-"`
	NextAttemptAt   time.Time         `json:"nextAttemptAt,omitzero"`
	CreatedAt       time.Time         `json:"createdAt"`
	// Node is the dispatcher node that owns the event (see Fanout.Node).
	Node string `json:"-"`
	// Test marks an attempt at an example event sent by testWebhook.
	Test bool `json:"test,omitempty"`
	// Outcome classes the attempt's result for metrics and logs: 2xx,
	// 3xx, 4xx, 5xx, timeout, refused or error (another transport or
	// request error); empty for a delivery finished without an attempt
	// (its subscription was removed). It is not stored.
	Outcome string `json:"-"`
}

// Values of Attempt.Outcome.
const (
	Outcome2xx     = "2xx"
	Outcome3xx     = "3xx"
	Outcome4xx     = "4xx"
	Outcome5xx     = "5xx"
	OutcomeTimeout = "timeout" // no answer within the attempt's timeout
	OutcomeRefused = "refused" // the receiver refused the connection
	OutcomeError   = "error"   // any other transport or request error
)
