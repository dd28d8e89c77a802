package mongodb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jqlgate/jqlgate"
)

// subscriptionDoc is a subscription as stored. Secrets and custom header
// values are sealed; the
// free-form metadata and filter objects are stored as JSON text, because
// their keys may hold characters ("$", ".") a document key may not, and
// headers as a list for the same reason.
type subscriptionDoc struct {
	ID             string        `bson:"_id"`
	Key            string        `bson:"key"`
	Owner          string        `bson:"owner"`
	Prefix         string        `bson:"prefix"`
	Trigger        string        `bson:"trigger"`  // the first of Triggers
	Triggers       []string      `bson:"triggers"` // absent in documents written before a subscription had several
	WebhookURL     string        `bson:"webhookUrl"`
	Method         string        `bson:"method"`
	ContentType    string        `bson:"contentType"`
	IncludeEntity  bool          `bson:"includeEntity"`
	Enabled        bool          `bson:"enabled"`
	DisabledReason string        `bson:"disabledReason,omitempty"`
	Headers        []headerDoc   `bson:"headers,omitempty"`
	SecretHeaders  []string      `bson:"secretHeaders,omitempty"`
	BasicAuth      *basicAuthDoc `bson:"basicAuth,omitempty"`
	OAuth2         *oauth2Doc    `bson:"oauth2,omitempty"`
	Metadata       string        `bson:"metadata,omitempty"`
	RetryPreset    string        `bson:"retryPreset,omitempty"`
	RetryMillis    []int64       `bson:"retryScheduleMs"`
	TimeoutSeconds int           `bson:"timeoutSeconds"`
	MaxInFlight    int           `bson:"maxInFlight"`
	RateLimit      float64       `bson:"rateLimitPerSecond,omitempty"`
	Filter         string        `bson:"filter,omitempty"`
	Ordered        bool          `bson:"ordered"`
	TrustedSite    string        `bson:"trustedSite,omitempty"`
	PublicOnly     bool          `bson:"publicOnly,omitempty"`
	Secrets        []secretDoc   `bson:"secrets"`
	CreatedAt      time.Time     `bson:"createdAt"`
	UpdatedAt      time.Time     `bson:"updatedAt"`

	// Scheme is the signature scheme; "" (documents from before it) is
	// v1. With v1a, Secrets hold sealed whsk_ signing keys.
	Scheme        string            `bson:"signatureScheme,omitempty"`
	BodySignature *bodySignatureDoc `bson:"bodySignature,omitempty"`
}

type bodySignatureDoc struct {
	Header    string `bson:"header"`
	Algorithm string `bson:"algorithm"`
}

// headerDoc is one custom header. Values are sealed (any of them may carry
// a credential); Sealed is false only in documents written before headers
// were sealed, whose values are read as they are.
type headerDoc struct {
	Name   string `bson:"name"`
	Value  string `bson:"value"`
	Sealed bool   `bson:"sealed,omitempty"`
}

type basicAuthDoc struct {
	Username string `bson:"username"`
	Password string `bson:"password,omitempty"` // sealed
}

type oauth2Doc struct {
	TokenURL     string   `bson:"tokenUrl"`
	ClientID     string   `bson:"clientId"`
	ClientSecret string   `bson:"clientSecret,omitempty"` // sealed
	Scopes       []string `bson:"scopes,omitempty"`
	Audience     string   `bson:"audience,omitempty"`
}

type secretDoc struct {
	Value     string    `bson:"value"` // sealed
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt,omitempty"`
}

// Seal contexts bind each sealed value to its subscription and field.
func secretContext(id string) string    { return id + "/secrets" }
func passwordContext(id string) string  { return id + "/basicAuth.password" }
func clientSecContext(id string) string { return id + "/oauth2.clientSecret" }
func headerContext(id, name string) string {
	return id + "/headers/" + name
}

func (s *SubscriptionStore) toDoc(sub *jqlgate.Subscription) (*subscriptionDoc, error) {
	triggers := sub.TriggerList()
	if len(triggers) == 0 {
		return nil, jqlgate.Internal("subscriptions.toDoc", fmt.Errorf("subscription %s has no trigger", sub.ID))
	}
	d := &subscriptionDoc{
		ID: sub.ID, Key: SubscriptionKey(sub.Owner, sub.Prefix, jqlgate.TriggerKey(triggers), sub.WebhookURL),
		Owner: sub.Owner, Prefix: sub.Prefix, Trigger: triggers[0], Triggers: triggers, WebhookURL: sub.WebhookURL,
		Method: sub.Method, ContentType: sub.ContentType, IncludeEntity: sub.IncludeEntity,
		Enabled: sub.Enabled, DisabledReason: sub.DisabledReason, SecretHeaders: sub.SecretHeaders,
		RetryPreset: sub.RetryPolicy.Preset, RetryMillis: durationsToMillis(sub.RetryPolicy.Schedule),
		TimeoutSeconds: sub.TimeoutSeconds, MaxInFlight: sub.MaxInFlight, RateLimit: sub.RateLimitPerSecond,
		Ordered: sub.Ordered, PublicOnly: sub.PublicOnly, CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt,
		TrustedSite: sub.TrustedSite, Scheme: sub.SignatureScheme,
	}
	if b := sub.BodySignature; b != nil {
		d.BodySignature = &bodySignatureDoc{Header: b.Header, Algorithm: b.Algorithm}
	}
	var err error
	if d.Metadata, err = jsonText(sub.Metadata); err != nil {
		return nil, jqlgate.Internal("subscriptions.toDoc", err)
	}
	if d.Filter, err = jsonText(sub.Filter); err != nil {
		return nil, jqlgate.Internal("subscriptions.toDoc", err)
	}
	if err := s.sealSecrets(sub, d); err != nil {
		return nil, jqlgate.Internal("subscriptions.seal", err)
	}
	return d, nil
}

func (s *SubscriptionStore) sealSecrets(sub *jqlgate.Subscription, d *subscriptionDoc) error {
	var err error
	d.Secrets = make([]secretDoc, len(sub.Secrets))
	for i, sec := range sub.Secrets {
		d.Secrets[i] = secretDoc{CreatedAt: sec.CreatedAt, ExpiresAt: sec.ExpiresAt}
		if d.Secrets[i].Value, err = s.sealer.Seal(sec.Value, secretContext(sub.ID)); err != nil {
			return err
		}
	}
	if d.Headers, err = sealHeaders(s.sealer, sub.Headers, func(name string) string { return headerContext(sub.ID, name) }); err != nil {
		return err
	}
	if b := sub.BasicAuth; b != nil {
		d.BasicAuth = &basicAuthDoc{Username: b.Username}
		if d.BasicAuth.Password, err = s.sealer.Seal(b.Password, passwordContext(sub.ID)); err != nil {
			return err
		}
	}
	if o := sub.OAuth2; o != nil {
		d.OAuth2 = &oauth2Doc{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: o.Scopes, Audience: o.Audience}
		if d.OAuth2.ClientSecret, err = s.sealer.Seal(o.ClientSecret, clientSecContext(sub.ID)); err != nil {
			return err
		}
	}
	return nil
}

func (s *SubscriptionStore) fromDoc(d *subscriptionDoc) (*jqlgate.Subscription, error) {
	sub := &jqlgate.Subscription{
		ID: d.ID, Owner: d.Owner, Prefix: d.Prefix, WebhookURL: d.WebhookURL,
		Method: d.Method, ContentType: d.ContentType, IncludeEntity: d.IncludeEntity,
		Enabled: d.Enabled, DisabledReason: d.DisabledReason, SecretHeaders: d.SecretHeaders,
		RetryPolicy:    jqlgate.RetryPolicy{Preset: d.RetryPreset, Schedule: millisToDurations(d.RetryMillis)},
		TimeoutSeconds: d.TimeoutSeconds, MaxInFlight: d.MaxInFlight, RateLimitPerSecond: d.RateLimit,
		Ordered: d.Ordered, PublicOnly: d.PublicOnly, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
		TrustedSite: d.TrustedSite, SignatureScheme: d.Scheme,
	}
	if sub.SignatureScheme == "" {
		sub.SignatureScheme = jqlgate.SchemeV1
	}
	if b := d.BodySignature; b != nil {
		sub.BodySignature = &jqlgate.BodySignature{Header: b.Header, Algorithm: b.Algorithm}
	}
	// A document written before subscriptions had several triggers holds
	// only trigger: read it as a list of one (the next write stores both).
	if len(d.Triggers) > 0 {
		sub.SetTriggers(d.Triggers)
	} else {
		sub.SetTriggers([]string{d.Trigger})
	}
	var err error
	if sub.Metadata, err = jsonObject(d.Metadata); err != nil {
		return nil, jqlgate.Internal("subscriptions.fromDoc", err)
	}
	if sub.Filter, err = jsonObject(d.Filter); err != nil {
		return nil, jqlgate.Internal("subscriptions.fromDoc", err)
	}
	if err := s.openSecrets(d, sub); err != nil {
		return nil, jqlgate.Internal("subscriptions.open", fmt.Errorf("subscription %s: %w", d.ID, err))
	}
	return sub, nil
}

func (s *SubscriptionStore) openSecrets(d *subscriptionDoc, sub *jqlgate.Subscription) error {
	var err error
	sub.Secrets = make([]jqlgate.Secret, len(d.Secrets))
	for i, sec := range d.Secrets {
		sub.Secrets[i] = jqlgate.Secret{CreatedAt: sec.CreatedAt.UTC(), ExpiresAt: sec.ExpiresAt.UTC()}
		if sub.Secrets[i].Value, err = s.sealer.Open(sec.Value, secretContext(d.ID)); err != nil {
			return err
		}
	}
	if sub.Headers, err = openHeaders(s.sealer, d.Headers, func(name string) string { return headerContext(d.ID, name) }); err != nil {
		return err
	}
	if b := d.BasicAuth; b != nil {
		sub.BasicAuth = &jqlgate.BasicAuth{Username: b.Username}
		if sub.BasicAuth.Password, err = s.sealer.Open(b.Password, passwordContext(d.ID)); err != nil {
			return err
		}
	}
	if o := d.OAuth2; o != nil {
		sub.OAuth2 = &jqlgate.ReceiverOAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: o.Scopes, Audience: o.Audience}
		if sub.OAuth2.ClientSecret, err = s.sealer.Open(o.ClientSecret, clientSecContext(d.ID)); err != nil {
			return err
		}
	}
	return nil
}

// sealHeaders returns headers as stored, sorted by name, each value sealed
// to the context seal gives its name (its owner document and the name).
func sealHeaders(sealer *jqlgate.Sealer, h map[string]string, context func(name string) string) ([]headerDoc, error) {
	out := make([]headerDoc, 0, len(h))
	for k, v := range h {
		sealed, err := sealer.Seal(v, context(k))
		if err != nil {
			return nil, err
		}
		out = append(out, headerDoc{Name: k, Value: sealed, Sealed: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// openHeaders opens headers stored by sealHeaders (and, for documents
// written before values were sealed, takes unsealed ones as they are).
func openHeaders(sealer *jqlgate.Sealer, h []headerDoc, context func(name string) string) (map[string]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(h))
	for _, e := range h {
		v := e.Value
		if e.Sealed {
			var err error
			if v, err = sealer.Open(e.Value, context(e.Name)); err != nil {
				return nil, err
			}
		}
		out[e.Name] = v
	}
	return out, nil
}

func durationsToMillis(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Milliseconds()
	}
	return out
}

func millisToDurations(ms []int64) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func jsonText(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// jsonObject decodes JSON text with numbers as json.Number, as the gateway
// decodes request fields, so a stored filter compares like a fresh one.
func jsonObject(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}
