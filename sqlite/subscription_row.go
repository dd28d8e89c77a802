package sqlite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jqlgate/jqlgate"
)

// subscriptionRow is a subscription as stored: the columns that queries
// select by or that DisableOwned changes without the master key, and the
// rest, secrets sealed, as one JSON object in data.
type subscriptionRow struct {
	ID, Key, Owner, Prefix, WebhookURL string
	Triggers                           []string
	Enabled                            bool
	DisabledReason, TrustedSite        string
	CreatedAt, UpdatedAt               int64 // Unix nanoseconds
	Data                               subscriptionData
}

// subscriptionData is the data column. Headers map each name to its
// sealed value; metadata and filter are kept as the client's JSON, read
// back with numbers as json.Number.
type subscriptionData struct {
	Method         string             `json:"method,omitempty"`
	ContentType    string             `json:"contentType,omitempty"`
	IncludeEntity  bool               `json:"includeEntity,omitempty"`
	Headers        map[string]string  `json:"headers,omitempty"`
	SecretHeaders  []string           `json:"secretHeaders,omitempty"`
	BasicAuth      *basicAuthData     `json:"basicAuth,omitempty"`
	OAuth2         *oauth2Data        `json:"oauth2,omitempty"`
	Metadata       json.RawMessage    `json:"metadata,omitempty"`
	RetryPreset    string             `json:"retryPreset,omitempty"`
	RetryMillis    []int64            `json:"retryScheduleMs,omitempty"`
	TimeoutSeconds int                `json:"timeoutSeconds,omitempty"`
	MaxInFlight    int                `json:"maxInFlight,omitempty"`
	RateLimit      float64            `json:"rateLimitPerSecond,omitempty"`
	Filter         json.RawMessage    `json:"filter,omitempty"`
	Ordered        bool               `json:"ordered,omitempty"`
	PublicOnly     bool               `json:"publicOnly,omitempty"`
	Secrets        []secretData       `json:"secrets,omitempty"`
	Scheme         string             `json:"signatureScheme,omitempty"`
	BodySignature  *bodySignatureData `json:"bodySignature,omitempty"`
}

type bodySignatureData struct {
	Header    string `json:"header"`
	Algorithm string `json:"algorithm"`
}

type basicAuthData struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"` // sealed
}

type oauth2Data struct {
	TokenURL     string   `json:"tokenUrl"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty"` // sealed
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

type secretData struct {
	Value     string `json:"value"` // sealed
	CreatedAt int64  `json:"createdAt,omitempty"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
}

// SubscriptionKey is the value the unique key column holds for a
// subscription: a hash of its owner, prefix, trigger and URL, the same as
// the MongoDB store's, so an exported store imports with the same keys.
// trigger is jqlgate.TriggerKey of the subscription's triggers.
func SubscriptionKey(owner, prefix, trigger, webhookURL string) string {
	h := sha256.New()
	for _, s := range []string{owner, prefix, trigger, webhookURL} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal contexts bind each sealed value to its subscription and field; they
// are the MongoDB store's, so a sealed value moves between the stores as
// it is.
func secretContext(id string) string    { return id + "/secrets" }
func passwordContext(id string) string  { return id + "/basicAuth.password" }
func clientSecContext(id string) string { return id + "/oauth2.clientSecret" }
func headerContext(id, name string) string {
	return id + "/headers/" + name
}

func (s *SubscriptionStore) toRow(sub *jqlgate.Subscription) (*subscriptionRow, error) {
	triggers := sub.TriggerList()
	if len(triggers) == 0 {
		return nil, jqlgate.Internal("subscriptions.toRow", fmt.Errorf("subscription %s has no trigger", sub.ID))
	}
	r := &subscriptionRow{
		ID: sub.ID, Key: SubscriptionKey(sub.Owner, sub.Prefix, jqlgate.TriggerKey(triggers), sub.WebhookURL),
		Owner: sub.Owner, Prefix: sub.Prefix, WebhookURL: sub.WebhookURL, Triggers: triggers,
		Enabled: sub.Enabled, DisabledReason: sub.DisabledReason, TrustedSite: sub.TrustedSite,
		CreatedAt: nanos(sub.CreatedAt), UpdatedAt: nanos(sub.UpdatedAt),
		Data: subscriptionData{
			Method: sub.Method, ContentType: sub.ContentType, IncludeEntity: sub.IncludeEntity,
			SecretHeaders: sub.SecretHeaders, RetryPreset: sub.RetryPolicy.Preset,
			RetryMillis: durationsToMillis(sub.RetryPolicy.Schedule), TimeoutSeconds: sub.TimeoutSeconds,
			MaxInFlight: sub.MaxInFlight, RateLimit: sub.RateLimitPerSecond, Ordered: sub.Ordered,
			PublicOnly: sub.PublicOnly, Scheme: sub.SignatureScheme,
		},
	}
	d := &r.Data
	if b := sub.BodySignature; b != nil {
		d.BodySignature = &bodySignatureData{Header: b.Header, Algorithm: b.Algorithm}
	}
	var err error
	if d.Metadata, err = jsonRaw(sub.Metadata); err != nil {
		return nil, jqlgate.Internal("subscriptions.toRow", err)
	}
	if d.Filter, err = jsonRaw(sub.Filter); err != nil {
		return nil, jqlgate.Internal("subscriptions.toRow", err)
	}
	if err := s.sealSecrets(sub, d); err != nil {
		return nil, jqlgate.Internal("subscriptions.seal", err)
	}
	return r, nil
}

func (s *SubscriptionStore) sealSecrets(sub *jqlgate.Subscription, d *subscriptionData) error {
	var err error
	if len(sub.Secrets) > 0 {
		d.Secrets = make([]secretData, len(sub.Secrets))
	}
	for i, sec := range sub.Secrets {
		d.Secrets[i] = secretData{CreatedAt: nanos(sec.CreatedAt), ExpiresAt: nanos(sec.ExpiresAt)}
		if d.Secrets[i].Value, err = s.sealer.Seal(sec.Value, secretContext(sub.ID)); err != nil {
			return err
		}
	}
	if d.Headers, err = sealHeaders(s.sealer, sub.Headers, func(name string) string { return headerContext(sub.ID, name) }); err != nil {
		return err
	}
	if d.BasicAuth, err = sealBasicAuth(s.sealer, sub.BasicAuth, sub.ID); err != nil {
		return err
	}
	d.OAuth2, err = sealOAuth2(s.sealer, sub.OAuth2, sub.ID)
	return err
}

func (s *SubscriptionStore) fromRow(r *subscriptionRow) (*jqlgate.Subscription, error) {
	d := &r.Data
	sub := &jqlgate.Subscription{
		ID: r.ID, Owner: r.Owner, Prefix: r.Prefix, WebhookURL: r.WebhookURL,
		Method: d.Method, ContentType: d.ContentType, IncludeEntity: d.IncludeEntity,
		Enabled: r.Enabled, DisabledReason: r.DisabledReason, SecretHeaders: d.SecretHeaders,
		RetryPolicy:    jqlgate.RetryPolicy{Preset: d.RetryPreset, Schedule: millisToDurations(d.RetryMillis)},
		TimeoutSeconds: d.TimeoutSeconds, MaxInFlight: d.MaxInFlight, RateLimitPerSecond: d.RateLimit,
		Ordered: d.Ordered, PublicOnly: d.PublicOnly, CreatedAt: fromNanos(r.CreatedAt), UpdatedAt: fromNanos(r.UpdatedAt),
		TrustedSite: r.TrustedSite, SignatureScheme: d.Scheme,
	}
	if sub.SignatureScheme == "" {
		sub.SignatureScheme = jqlgate.SchemeV1
	}
	if b := d.BodySignature; b != nil {
		sub.BodySignature = &jqlgate.BodySignature{Header: b.Header, Algorithm: b.Algorithm}
	}
	sub.SetTriggers(r.Triggers)
	var err error
	if sub.Metadata, err = jsonObject(d.Metadata); err != nil {
		return nil, jqlgate.Internal("subscriptions.fromRow", err)
	}
	if sub.Filter, err = jsonObject(d.Filter); err != nil {
		return nil, jqlgate.Internal("subscriptions.fromRow", err)
	}
	if err := s.openSecrets(r, sub); err != nil {
		return nil, jqlgate.Internal("subscriptions.open", fmt.Errorf("subscription %s: %w", r.ID, err))
	}
	return sub, nil
}

func (s *SubscriptionStore) openSecrets(r *subscriptionRow, sub *jqlgate.Subscription) error {
	d := &r.Data
	var err error
	// Never nil, as the MongoDB store answers.
	sub.Secrets = make([]jqlgate.Secret, len(d.Secrets))
	for i, sec := range d.Secrets {
		sub.Secrets[i] = jqlgate.Secret{CreatedAt: fromNanos(sec.CreatedAt), ExpiresAt: fromNanos(sec.ExpiresAt)}
		if sub.Secrets[i].Value, err = s.sealer.Open(sec.Value, secretContext(r.ID)); err != nil {
			return err
		}
	}
	if sub.Headers, err = openHeaders(s.sealer, d.Headers, func(name string) string { return headerContext(r.ID, name) }); err != nil {
		return err
	}
	if sub.BasicAuth, err = openBasicAuth(s.sealer, d.BasicAuth, r.ID); err != nil {
		return err
	}
	sub.OAuth2, err = openOAuth2(s.sealer, d.OAuth2, r.ID)
	return err
}

func sealBasicAuth(sealer *jqlgate.Sealer, b *jqlgate.BasicAuth, id string) (*basicAuthData, error) {
	if b == nil {
		return nil, nil
	}
	pw, err := sealer.Seal(b.Password, passwordContext(id))
	return &basicAuthData{Username: b.Username, Password: pw}, err
}

func openBasicAuth(sealer *jqlgate.Sealer, b *basicAuthData, id string) (*jqlgate.BasicAuth, error) {
	if b == nil {
		return nil, nil
	}
	pw, err := sealer.Open(b.Password, passwordContext(id))
	return &jqlgate.BasicAuth{Username: b.Username, Password: pw}, err
}

func sealOAuth2(sealer *jqlgate.Sealer, o *jqlgate.ReceiverOAuth2, id string) (*oauth2Data, error) {
	if o == nil {
		return nil, nil
	}
	sec, err := sealer.Seal(o.ClientSecret, clientSecContext(id))
	return &oauth2Data{TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: sec, Scopes: o.Scopes, Audience: o.Audience}, err
}

func openOAuth2(sealer *jqlgate.Sealer, o *oauth2Data, id string) (*jqlgate.ReceiverOAuth2, error) {
	if o == nil {
		return nil, nil
	}
	sec, err := sealer.Open(o.ClientSecret, clientSecContext(id))
	return &jqlgate.ReceiverOAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: sec, Scopes: o.Scopes, Audience: o.Audience}, err
}

// sealHeaders returns headers as stored, each value sealed to the context
// seal gives its name (its owner row and the name).
func sealHeaders(sealer *jqlgate.Sealer, h map[string]string, context func(name string) string) (map[string]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		sealed, err := sealer.Seal(v, context(k))
		if err != nil {
			return nil, err
		}
		out[k] = sealed
	}
	return out, nil
}

// openHeaders opens headers stored by sealHeaders; none is nil.
func openHeaders(sealer *jqlgate.Sealer, h map[string]string, context func(name string) string) (map[string]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		plain, err := sealer.Open(v, context(k))
		if err != nil {
			return nil, err
		}
		out[k] = plain
	}
	return out, nil
}

// durationsToMillis keeps a retry schedule in milliseconds, as the MongoDB
// store does, so both round a schedule alike.
func durationsToMillis(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Milliseconds()
	}
	return out
}

// millisToDurations never returns nil, as the MongoDB store answers.
func millisToDurations(ms []int64) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func jsonRaw(m map[string]any) (json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}

// jsonObject decodes JSON with numbers as json.Number, as the gateway
// decodes request fields, so a stored filter compares like a fresh one.
func jsonObject(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}
