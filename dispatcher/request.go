package dispatcher

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
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
	ID        string         `json:"id"`
	Event     string         `json:"event"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func newPayload(sub *jqlgate.Subscription, ev *jqlgate.Event) payload {
	p := payload{ID: ev.ID, Event: ev.Type, Timestamp: ev.Timestamp.UTC().Format(time.RFC3339), Data: ev.Data}
	if !sub.IncludeEntity {
		p.Data = map[string]any{"id": ev.EntityID}
	}
	if p.Data == nil {
		p.Data = map[string]any{}
	}
	return p
}

// encodeBody returns the request body and its content type for sub.
func encodeBody(sub *jqlgate.Subscription, p payload) ([]byte, string, error) {
	data, err := json.Marshal(p.Data)
	if err != nil {
		return nil, "", fmt.Errorf("encode event data: %w", err)
	}
	if strings.EqualFold(sub.ContentType, contentForm) {
		v := url.Values{"id": {p.ID}, "event": {p.Event}, "timestamp": {p.Timestamp}, "data": {string(data)}}
		return []byte(v.Encode()), contentForm, nil
	}
	body, err := json.Marshal(p)
	return body, contentJSON, err
}

// Sign returns the webhook-signature header value: "v1,<base64 HMAC-SHA256
// of id.timestamp.body>" for each secret, space separated. Secrets are
// "whsec_" + base64 of the key bytes, as Standard Webhooks defines them; a
// secret that is not valid base64 is used as raw bytes.
func Sign(secrets []string, id string, ts int64, body []byte) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		mac := hmac.New(sha256.New, secretKey(s))
		fmt.Fprintf(mac, "%s.%d.", id, ts)
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

func secretKey(s string) []byte {
	raw := strings.TrimPrefix(s, "whsec_")
	if key, err := base64.StdEncoding.DecodeString(raw); err == nil {
		return key
	}
	return []byte(raw)
}

// buildRequest makes the HTTP request for one attempt at dl to t.
func (d *Dispatcher) buildRequest(ctx context.Context, t *target, dl *delivery, now time.Time) (*http.Request, []byte, error) {
	sub, ev := t.sub, dl.fan.Event
	p := newPayload(sub, ev)
	method, target, body, ctype := http.MethodPost, sub.WebhookURL, []byte(nil), ""
	if strings.EqualFold(sub.Method, http.MethodGet) {
		method = http.MethodGet
		u, err := url.Parse(sub.WebhookURL)
		if err != nil {
			return nil, nil, fmt.Errorf("webhook URL: %w", err)
		}
		q := u.Query()
		q.Set("id", p.ID)
		q.Set("event", p.Event)
		q.Set("timestamp", p.Timestamp)
		u.RawQuery = q.Encode()
		target = u.String()
	} else {
		var err error
		if body, ctype, err = encodeBody(sub, p); err != nil {
			return nil, nil, err
		}
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
	d.setWebhookHeaders(req.Header, sub, dl, now, body)
	return req, body, nil
}

// setWebhookHeaders sets the Standard Webhooks and X-Webhook-* headers;
// they win over custom headers of the same name.
func (d *Dispatcher) setWebhookHeaders(h http.Header, sub *jqlgate.Subscription, dl *delivery, now time.Time, body []byte) {
	ts := now.Unix()
	h["webhook-id"] = []string{dl.id}
	h["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
	if secrets := sub.ActiveSecrets(now); len(secrets) > 0 {
		h["webhook-signature"] = []string{Sign(secrets, dl.id, ts, body)}
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
