package dispatcher

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Content types a subscription may ask for.
const (
	contentJSON = "application/json"
	contentForm = "application/x-www-form-urlencoded"
)

// DeliveryID returns the webhook-id of the delivery of event to
// subscription: the same on every attempt, so receivers can deduplicate.
func DeliveryID(eventID, subscriptionID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + subscriptionID))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// payload is the body of a webhook request.
type payload struct {
	ID             string         `json:"id"`
	Event          string         `json:"event"`
	Timestamp      string         `json:"timestamp"`
	SubscriptionID string         `json:"subscriptionId"`
	EntityURL      string         `json:"entityUrl,omitempty"`
	Data           map[string]any `json:"data"`
	// EntityID and full go into form and query deliveries only.
	EntityID string `json:"-"`
	full     bool
}

func (d *Dispatcher) newPayload(sub *jqlgate.Subscription, ev *jqlgate.Event) payload {
	p := payload{ID: ev.ID, Event: ev.Type, Timestamp: ev.Timestamp.UTC().Format(time.RFC3339), Data: ev.Data,
		SubscriptionID: sub.ID, EntityID: ev.EntityID, EntityURL: EntityURL(d.cfg.PublicURL, ev), full: sub.IncludeEntity}
	if !sub.IncludeEntity {
		p.Data = map[string]any{"id": ev.EntityID}
	}
	if p.Data == nil {
		p.Data = map[string]any{}
	}
	return p
}

// EntityURL returns where the record an event is about can be read:
// <publicURL>/console/records/<namespace>/<entity id>, the console's record
// page (namespace is the event type before ":"). It is "" when publicURL
// is unset or the event names no record.
func EntityURL(publicURL string, ev *jqlgate.Event) string {
	if publicURL == "" || ev.EntityID == "" {
		return ""
	}
	ns, _, _ := strings.Cut(ev.Type, ":")
	return strings.TrimRight(publicURL, "/") + "/console/records/" + url.PathEscape(ns) + "/" + url.PathEscape(ev.EntityID)
}

// values returns the payload as flat fields, for form bodies and GET
// queries: id, event, timestamp, subscriptionId, entityId, entityUrl (when
// known) and data (the entity as JSON, only when the entity is included).
func (p payload) values(q url.Values) (url.Values, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("id", p.ID)
	q.Set("event", p.Event)
	q.Set("timestamp", p.Timestamp)
	q.Set("subscriptionId", p.SubscriptionID)
	q.Set("entityId", p.EntityID)
	if p.EntityURL != "" {
		q.Set("entityUrl", p.EntityURL)
	}
	if p.full {
		data, err := json.Marshal(p.Data)
		if err != nil {
			return nil, fmt.Errorf("encode event data: %w", err)
		}
		q.Set("data", string(data))
	}
	return q, nil
}

// encodeBody returns the request body and its content type for sub.
func encodeBody(sub *jqlgate.Subscription, p payload) ([]byte, string, error) {
	if strings.EqualFold(sub.ContentType, contentForm) {
		v, err := p.values(nil)
		if err != nil {
			return nil, "", err
		}
		return []byte(v.Encode()), contentForm, nil
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, "", fmt.Errorf("encode event: %w", err)
	}
	return body, contentJSON, nil
}

// Sign returns the webhook-signature header value, one entry per secret,
// space separated, over "<id>.<ts>.<payload>" (payload: the body, or a GET
// delivery's raw query string). A "whsec_" secret (base64 of the key
// bytes; one that is not valid base64 is used as raw bytes) signs
// "v1,<base64 HMAC-SHA256>"; a "whsk_" Ed25519 key signs "v1a,<base64
// signature>", as Standard Webhooks defines them. A broken whsk_ key signs
// nothing.
func Sign(secrets []string, id string, ts int64, payload []byte) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if jqlgate.SecretScheme(s) == jqlgate.SchemeV1a {
			priv, err := jqlgate.Ed25519Key(s)
			if err != nil {
				continue
			}
			msg := append(fmt.Appendf(nil, "%s.%d.", id, ts), payload...)
			sigs = append(sigs, "v1a,"+base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg)))
			continue
		}
		mac := hmac.New(sha256.New, secretKey(s))
		fmt.Fprintf(mac, "%s.%d.", id, ts)
		mac.Write(payload)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// BodySignature returns "<algorithm>=<hex HMAC of payload>" keyed with
// secret as text, the way GitHub-style receivers check a body: sha256, or
// sha1 when algorithm says so.
func BodySignature(algorithm, secret string, payload []byte) string {
	h := sha256.New
	if algorithm == "sha1" {
		h = sha1.New
	} else {
		algorithm = "sha256"
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(payload)
	return algorithm + "=" + hex.EncodeToString(mac.Sum(nil))
}

func secretKey(s string) []byte {
	raw := strings.TrimPrefix(s, "whsec_")
	if key, err := base64.StdEncoding.DecodeString(raw); err == nil {
		return key
	}
	return []byte(raw)
}

// buildRequest makes the HTTP request for one attempt at dl to t. It
// returns the body (nil for GET).
func (d *Dispatcher) buildRequest(ctx context.Context, t *target, dl *delivery, now time.Time) (*http.Request, []byte, error) {
	sub, ev := t.sub, dl.fan.Event
	p := d.newPayload(sub, ev)
	method, target, body, ctype := http.MethodPost, sub.WebhookURL, []byte(nil), ""
	var signed []byte
	if strings.EqualFold(sub.Method, http.MethodGet) {
		method = http.MethodGet
		u, err := url.Parse(sub.WebhookURL)
		if err != nil {
			return nil, nil, fmt.Errorf("webhook URL: %w", err)
		}
		q, err := p.values(u.Query())
		if err != nil {
			return nil, nil, err
		}
		u.RawQuery = q.Encode()
		target, signed = u.String(), []byte(u.RawQuery)
	} else {
		var err error
		if body, ctype, err = encodeBody(sub, p); err != nil {
			return nil, nil, err
		}
		signed = body
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("webhook request: %w", err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range sub.Headers {
		req.Header.Set(k, v)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	d.setWebhookHeaders(req.Header, sub, dl, now, signed)
	if p.EntityURL != "" {
		req.Header.Set("X-Webhook-Entity-Url", p.EntityURL)
	}
	return req, body, nil
}

// setWebhookHeaders sets the Standard Webhooks and X-Webhook-* headers
// (and the body signature header, when the subscription asks for one);
// they win over custom headers of the same name. signed is what the
// signatures cover: the body, or a GET delivery's raw query string.
func (d *Dispatcher) setWebhookHeaders(h http.Header, sub *jqlgate.Subscription, dl *delivery, now time.Time, signed []byte) {
	ts := now.Unix()
	h["webhook-id"] = []string{dl.id}
	h["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
	secrets := sub.ActiveSecrets(now)
	if len(secrets) > 0 {
		h["webhook-signature"] = []string{Sign(secrets, dl.id, ts, signed)}
	}
	if bs := sub.BodySignature; bs != nil && bs.Header != "" && len(secrets) > 0 && jqlgate.SecretScheme(secrets[0]) == jqlgate.SchemeV1 {
		h.Set(bs.Header, BodySignature(bs.Algorithm, secrets[0], signed))
	}
	h.Set("X-Webhook-Event", dl.fan.Event.Type)
	h.Set("X-Webhook-Subscription", sub.ID)
	h.Set("X-Webhook-Trigger", sub.MatchedTrigger(dl.fan.Event.Type))
	h.Set("X-Webhook-Entity-Id", dl.fan.Event.EntityID)
	h.Set("X-Webhook-Attempt", strconv.Itoa(dl.attempt))
	h.Set("User-Agent", "jqlgate/"+d.cfg.Version)
}

// authorize adds the receiver's credentials to req.
func authorize(req *http.Request, t *target) error {
	if ba := t.sub.BasicAuth; ba != nil && ba.Username != "" {
		req.SetBasicAuth(ba.Username, ba.Password)
	}
	if t.tokens == nil {
		return nil
	}
	tok, err := t.tokens.Token()
	if err != nil {
		return fmt.Errorf("receiver OAuth2 token: %w", err)
	}
	tok.SetAuthHeader(req)
	return nil
}
