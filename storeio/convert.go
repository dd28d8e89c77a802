package storeio

import (
	"encoding/base64"
	"fmt"

	"github.com/jqlgate/jqlgate"
)

// box seals or opens the secrets of one item, bound to
// "export/<kind>/<id>/<field>".
type box struct {
	s        *jqlgate.Sealer
	kind, id string
	err      error
}

func (b *box) seal(field, v string) string {
	if b.err != nil || v == "" {
		return v
	}
	out, err := b.s.Seal(v, "export/"+b.kind+"/"+b.id+"/"+field)
	if err != nil {
		b.err = err
	}
	return out
}

func (b *box) open(field, v string) string {
	if b.err != nil || v == "" {
		return v
	}
	out, err := b.s.Open(v, "export/"+b.kind+"/"+b.id+"/"+field)
	if err != nil {
		b.err = fmt.Errorf("%s %s: %s does not open with this master key (is it the --secret-key the export was made with?)", b.kind, b.id, field)
	}
	return out
}

func (b *box) headers(h map[string]string, seal bool) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if seal {
			out[k] = b.seal("headers/"+k, v)
		} else {
			out[k] = b.open("headers/"+k, v)
		}
	}
	return out
}

func (b *box) basic(a *jqlgate.BasicAuth) *basicLine {
	if a == nil {
		return nil
	}
	return &basicLine{Username: a.Username, Password: b.seal("basicAuth/password", a.Password)}
}

func (b *box) unbasic(a *basicLine) *jqlgate.BasicAuth {
	if a == nil {
		return nil
	}
	return &jqlgate.BasicAuth{Username: a.Username, Password: b.open("basicAuth/password", a.Password)}
}

func (b *box) oauth2(o *jqlgate.ReceiverOAuth2) *oauth2Line {
	if o == nil {
		return nil
	}
	return &oauth2Line{TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: b.seal("oauth2/clientSecret", o.ClientSecret),
		Scopes: o.Scopes, Audience: o.Audience}
}

func (b *box) unoauth2(o *oauth2Line) *jqlgate.ReceiverOAuth2 {
	if o == nil {
		return nil
	}
	return &jqlgate.ReceiverOAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: b.open("oauth2/clientSecret", o.ClientSecret),
		Scopes: o.Scopes, Audience: o.Audience}
}

func signingKeyOut(s *jqlgate.Sealer, k *jqlgate.SigningKey) (*signingKeyLine, error) {
	l := &signingKeyLine{Kind: KindSigningKey, ID: k.ID, Algorithm: k.Algorithm, Encrypted: k.Encrypted, PublicKey: k.PublicKey,
		CreatedAt: k.CreatedAt, NotAfter: k.NotAfter}
	if k.Encrypted {
		l.PrivateKey = k.PrivateKey
		return l, nil
	}
	b := &box{s: s, kind: KindSigningKey, id: k.ID}
	l.SealedPrivateKey = b.seal("privateKey", base64.StdEncoding.EncodeToString(k.PrivateKey))
	return l, b.err
}

func signingKeyIn(s *jqlgate.Sealer, l *signingKeyLine) (*jqlgate.SigningKey, error) {
	k := &jqlgate.SigningKey{ID: l.ID, Algorithm: l.Algorithm, Encrypted: l.Encrypted, PrivateKey: l.PrivateKey,
		PublicKey: l.PublicKey, CreatedAt: l.CreatedAt, NotAfter: l.NotAfter}
	if l.Encrypted {
		return k, nil
	}
	b := &box{s: s, kind: KindSigningKey, id: l.ID}
	raw := b.open("privateKey", l.SealedPrivateKey)
	if b.err != nil {
		return nil, b.err
	}
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: bad private key", l.ID)
	}
	k.PrivateKey = der
	return k, nil
}

func siteOut(s *jqlgate.Sealer, t *jqlgate.TrustedSite) (*siteLine, error) {
	b := &box{s: s, kind: KindTrustedSite, id: t.ID}
	l := &siteLine{Kind: KindTrustedSite, ID: t.ID, Owner: t.Owner, Name: t.Name, BaseURL: t.BaseURL, BasicAuth: b.basic(t.BasicAuth),
		OAuth2: b.oauth2(t.OAuth2), Headers: b.headers(t.Headers, true), PublicOnly: t.PublicOnly, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	return l, b.err
}

func siteIn(s *jqlgate.Sealer, l *siteLine) (*jqlgate.TrustedSite, error) {
	b := &box{s: s, kind: KindTrustedSite, id: l.ID}
	t := &jqlgate.TrustedSite{ID: l.ID, Owner: l.Owner, Name: l.Name, BaseURL: l.BaseURL, BasicAuth: b.unbasic(l.BasicAuth),
		OAuth2: b.unoauth2(l.OAuth2), Headers: b.headers(l.Headers, false), PublicOnly: l.PublicOnly, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
	return t, b.err
}

func subscriptionOut(s *jqlgate.Sealer, sub *jqlgate.Subscription) (*subscriptionLine, error) {
	b := &box{s: s, kind: KindSubscription, id: sub.ID}
	l := &subscriptionLine{Kind: KindSubscription, ID: sub.ID, Owner: sub.Owner, Prefix: sub.Prefix, Trigger: sub.Trigger,
		Triggers: sub.Triggers, WebhookURL: sub.WebhookURL, Method: sub.Method, ContentType: sub.ContentType,
		IncludeEntity: sub.IncludeEntity, Enabled: sub.Enabled, DisabledReason: sub.DisabledReason,
		Headers: b.headers(sub.Headers, true), SecretHeaders: sub.SecretHeaders, BasicAuth: b.basic(sub.BasicAuth),
		OAuth2: b.oauth2(sub.OAuth2), Metadata: mapValue(sub.Metadata), RetryPreset: sub.RetryPolicy.Preset,
		RetrySchedule: sub.RetryPolicy.Schedule, TimeoutSeconds: sub.TimeoutSeconds, MaxInFlight: sub.MaxInFlight,
		RateLimitPerSecond: sub.RateLimitPerSecond, Filter: mapValue(sub.Filter), Ordered: sub.Ordered,
		PublicOnly: sub.PublicOnly, TrustedSite: sub.TrustedSite, SignatureScheme: sub.SignatureScheme,
		BodySignature: sub.BodySignature, CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt}
	for i, sec := range sub.Secrets {
		l.Secrets = append(l.Secrets, secretLine{Value: b.seal(fmt.Sprintf("secrets/%d", i), sec.Value),
			CreatedAt: sec.CreatedAt, ExpiresAt: sec.ExpiresAt})
	}
	return l, b.err
}

func subscriptionIn(s *jqlgate.Sealer, l *subscriptionLine) (*jqlgate.Subscription, error) {
	b := &box{s: s, kind: KindSubscription, id: l.ID}
	sub := &jqlgate.Subscription{ID: l.ID, Owner: l.Owner, Prefix: l.Prefix, Trigger: l.Trigger, Triggers: l.Triggers,
		WebhookURL: l.WebhookURL, Method: l.Method, ContentType: l.ContentType, IncludeEntity: l.IncludeEntity,
		Enabled: l.Enabled, DisabledReason: l.DisabledReason, Headers: b.headers(l.Headers, false),
		SecretHeaders: l.SecretHeaders, BasicAuth: b.unbasic(l.BasicAuth), OAuth2: b.unoauth2(l.OAuth2),
		Metadata: l.Metadata.Map(), RetryPolicy: jqlgate.RetryPolicy{Preset: l.RetryPreset, Schedule: l.RetrySchedule},
		TimeoutSeconds: l.TimeoutSeconds, MaxInFlight: l.MaxInFlight, RateLimitPerSecond: l.RateLimitPerSecond,
		Filter: l.Filter.Map(), Ordered: l.Ordered, PublicOnly: l.PublicOnly, TrustedSite: l.TrustedSite,
		SignatureScheme: l.SignatureScheme, BodySignature: l.BodySignature, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
	for i, sec := range l.Secrets {
		sub.Secrets = append(sub.Secrets, jqlgate.Secret{Value: b.open(fmt.Sprintf("secrets/%d", i), sec.Value),
			CreatedAt: sec.CreatedAt, ExpiresAt: sec.ExpiresAt})
	}
	return sub, b.err
}

func eventOut(f *jqlgate.Fanout) *eventLine {
	ev := f.Event
	return &eventLine{Kind: KindEvent, ID: ev.ID, Type: ev.Type, EntityID: ev.EntityID, Data: mapValue(ev.Data), Changed: ev.Changed,
		Timestamp: ev.Timestamp, Targets: f.Targets, Node: f.Node, Accepted: f.Accepted, Seq: f.Seq}
}

func eventIn(l *eventLine) *jqlgate.Fanout {
	return &jqlgate.Fanout{Event: &jqlgate.Event{ID: l.ID, Type: l.Type, EntityID: l.EntityID, Data: l.Data.Map(), Changed: l.Changed,
		Timestamp: l.Timestamp}, Targets: l.Targets, Node: l.Node, Accepted: l.Accepted, Seq: l.Seq}
}

func attemptOut(a *jqlgate.Attempt) *attemptLine {
	return &attemptLine{Kind: KindAttempt, ID: a.ID, DeliveryID: a.DeliveryID, EventID: a.EventID, Event: a.Event, Trigger: a.Trigger,
		EntityID: a.EntityID, SubscriptionID: a.SubscriptionID, Attempt: a.Attempt, Status: a.Status, URL: a.URL,
		RequestHeaders: a.RequestHeaders, RequestBody: a.RequestBody, ResponseCode: a.ResponseCode, ResponseHeaders: a.ResponseHeaders,
		ResponseBody: a.ResponseBody, Error: a.Error, Duration: a.Duration, NextAttemptAt: a.NextAttemptAt, CreatedAt: a.CreatedAt,
		Node: a.Node, Test: a.Test}
}

func attemptIn(l *attemptLine) *jqlgate.Attempt {
	return &jqlgate.Attempt{ID: l.ID, DeliveryID: l.DeliveryID, EventID: l.EventID, Event: l.Event, Trigger: l.Trigger,
		EntityID: l.EntityID, SubscriptionID: l.SubscriptionID, Attempt: l.Attempt, Status: l.Status, URL: l.URL,
		RequestHeaders: l.RequestHeaders, RequestBody: l.RequestBody, ResponseCode: l.ResponseCode, ResponseHeaders: l.ResponseHeaders,
		ResponseBody: l.ResponseBody, Error: l.Error, Duration: l.Duration, NextAttemptAt: l.NextAttemptAt, CreatedAt: l.CreatedAt,
		Node: l.Node, Test: l.Test}
}
