package storeio

import (
	"time"

	"github.com/jqlgate/jqlgate"
)

// Kinds of line, in the order an export writes them.
const (
	KindHeader       = "header"
	KindClient       = "client"
	KindAPIKey       = "apiKey"
	KindUser         = "user"
	KindSigningKey   = "signingKey"
	KindTrustedSite  = "trustedSite"
	KindSubscription = "subscription"
	KindRecord       = "record"
	KindEvent        = "event"
	KindAttempt      = "attempt"
	KindNode         = "node"
	KindTrailer      = "trailer"
)

// Counts is how many lines of each data kind a file holds.
type Counts map[string]int

type headerLine struct {
	Kind       string    `json:"kind"`
	Format     int       `json:"format"`
	ExportedAt time.Time `json:"exportedAt"`
	Source     string    `json:"source,omitempty"`
}

type trailerLine struct {
	Kind   string `json:"kind"`
	Counts Counts `json:"counts"`
}

type clientLine struct {
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	SecretHash  []byte    `json:"secretHash,omitempty"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

type apiKeyLine struct {
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Hash        []byte    `json:"hash,omitempty"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"createdAt"`
}

type userLine struct {
	Kind         string    `json:"kind"`
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	PasswordHash []byte    `json:"passwordHash,omitempty"`
	Permissions  []string  `json:"permissions"`
	CreatedAt    time.Time `json:"createdAt"`
}

// signingKeyLine carries a key sealed by auth as it is (PrivateKey,
// Encrypted), and an unsealed one sealed for the export (SealedPrivateKey).
type signingKeyLine struct {
	Kind             string    `json:"kind"`
	ID               string    `json:"id"`
	Algorithm        string    `json:"alg"`
	PrivateKey       []byte    `json:"privateKey,omitempty"`
	Encrypted        bool      `json:"encrypted"`
	SealedPrivateKey string    `json:"sealedPrivateKey,omitempty"`
	PublicKey        []byte    `json:"publicKey,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
	NotAfter         time.Time `json:"notAfter,omitzero"`
}

type basicLine struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"` // sealed
}

type oauth2Line struct {
	TokenURL     string   `json:"tokenUrl"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty"` // sealed
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

type secretLine struct {
	Value     string    `json:"value"` // sealed
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

type siteLine struct {
	Kind       string            `json:"kind"`
	ID         string            `json:"id"`
	Owner      string            `json:"owner"`
	Name       string            `json:"name"`
	BaseURL    string            `json:"baseUrl"`
	BasicAuth  *basicLine        `json:"basicAuth,omitempty"`
	OAuth2     *oauth2Line       `json:"oauth2,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"` // values sealed
	PublicOnly bool              `json:"publicOnly,omitempty"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

type subscriptionLine struct {
	Kind               string                 `json:"kind"`
	ID                 string                 `json:"id"`
	Owner              string                 `json:"owner"`
	Prefix             string                 `json:"prefix"`
	Trigger            string                 `json:"trigger"`
	Triggers           []string               `json:"triggers,omitempty"`
	WebhookURL         string                 `json:"webhookUrl"`
	Method             string                 `json:"method,omitempty"`
	ContentType        string                 `json:"contentType,omitempty"`
	IncludeEntity      bool                   `json:"includeEntity,omitempty"`
	Enabled            bool                   `json:"enabled"`
	DisabledReason     string                 `json:"disabledReason,omitempty"`
	Headers            map[string]string      `json:"headers,omitempty"` // values sealed
	SecretHeaders      []string               `json:"secretHeaders,omitempty"`
	BasicAuth          *basicLine             `json:"basicAuth,omitempty"`
	OAuth2             *oauth2Line            `json:"oauth2,omitempty"`
	Metadata           *Value                 `json:"metadata,omitempty"`
	RetryPreset        string                 `json:"retryPreset,omitempty"`
	RetrySchedule      []time.Duration        `json:"retryScheduleNs,omitempty"`
	TimeoutSeconds     int                    `json:"timeoutSeconds,omitempty"`
	MaxInFlight        int                    `json:"maxInFlight,omitempty"`
	RateLimitPerSecond float64                `json:"rateLimitPerSecond,omitempty"`
	Filter             *Value                 `json:"filter,omitempty"`
	Ordered            bool                   `json:"ordered,omitempty"`
	PublicOnly         bool                   `json:"publicOnly,omitempty"`
	TrustedSite        string                 `json:"trustedSite,omitempty"`
	SignatureScheme    string                 `json:"signatureScheme,omitempty"`
	BodySignature      *jqlgate.BodySignature `json:"bodySignature,omitempty"`
	Secrets            []secretLine           `json:"secrets,omitempty"`
	CreatedAt          time.Time              `json:"createdAt"`
	UpdatedAt          time.Time              `json:"updatedAt"`
}

type recordLine struct {
	Kind       string `json:"kind"`
	Collection string `json:"collection"`
	Record     Value  `json:"record"`
}

type eventLine struct {
	Kind      string    `json:"kind"`
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	EntityID  string    `json:"entityId,omitempty"`
	Data      *Value    `json:"data,omitempty"`
	Changed   []string  `json:"changed,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	Targets   []string  `json:"targets"`
	Node      string    `json:"node"`
	Accepted  time.Time `json:"accepted"`
	Seq       int64     `json:"seq,omitempty"`
}

type attemptLine struct {
	Kind            string            `json:"kind"`
	ID              string            `json:"id"`
	DeliveryID      string            `json:"deliveryId"`
	EventID         string            `json:"eventId"`
	Event           string            `json:"event"`
	Trigger         string            `json:"trigger,omitempty"`
	EntityID        string            `json:"entityId,omitempty"`
	SubscriptionID  string            `json:"subscriptionId"`
	Attempt         int               `json:"attempt"`
	Status          string            `json:"status"`
	URL             string            `json:"url"`
	RequestHeaders  map[string]string `json:"requestHeaders,omitempty"`
	RequestBody     string            `json:"requestBody,omitempty"`
	ResponseCode    int               `json:"responseCode,omitempty"`
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
	ResponseBody    string            `json:"responseBody,omitempty"`
	Error           string            `json:"error,omitempty"`
	Duration        time.Duration     `json:"durationNs,omitempty"`
	NextAttemptAt   time.Time         `json:"nextAttemptAt,omitzero"`
	CreatedAt       time.Time         `json:"createdAt"`
	Node            string            `json:"node"`
	Test            bool              `json:"test,omitempty"`
}

type nodeLine struct {
	Kind      string    `json:"kind"`
	Node      string    `json:"node"`
	Owner     string    `json:"owner,omitempty"`
	Epoch     int64     `json:"epoch,omitempty"`
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	Watermark time.Time `json:"watermark,omitzero"`
	Floor     time.Time `json:"floor,omitzero"`
}
