// Package webhook verifies webhooks sent by jqlgate, for receivers written
// in Go. jqlgate signs every request the Standard Webhooks way: the
// webhook-signature header holds one or more "v1,<base64 HMAC-SHA256>"
// signatures of "<webhook-id>.<webhook-timestamp>.<body>", made with the
// subscription's "whsec_" secret (several while a secret is being rotated).
//
// A receiver checks a request like this:
//
//	func handle(w http.ResponseWriter, r *http.Request) {
//		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//		ev, err := webhook.Verify(secret, r.Header, body)
//		if err != nil {
//			http.Error(w, err.Error(), http.StatusUnauthorized)
//			return
//		}
//		log.Printf("%s %s: %v", ev.Event, ev.ID, ev.Data)
//	}
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook's timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Event is a verified webhook's payload.
type Event struct {
	// ID is the event id; it is also the webhook-id header, the same on
	// every retry, so a receiver can drop duplicates by it.
	ID        string         `json:"id"`
	Event     string         `json:"event"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// Reasons a webhook fails verification. Verify wraps them with detail;
// test them with errors.Is.
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadSecret      = errors.New("the secret is not a whsec_ secret with a base64 key")
	ErrBadTimestamp   = errors.New("webhook-timestamp is outside the tolerance")
	ErrNoMatch        = errors.New("no signature matches: the body was changed or the secret is wrong")
	ErrBadPayload     = errors.New("the body is not a jqlgate event")
)

// Verifier checks webhooks against one or more secrets.
type Verifier struct {
	keys      [][]byte
	Tolerance time.Duration
	Now       func() time.Time
}

// NewVerifier returns a verifier for the given "whsec_" secrets; a request
// passes when any of them produced any of its signatures.
func NewVerifier(secrets ...string) (*Verifier, error) {
	v := &Verifier{Tolerance: DefaultTolerance, Now: time.Now}
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, ErrBadSecret
		}
		v.keys = append(v.keys, key)
	}
	if len(v.keys) == 0 {
		return nil, ErrBadSecret
	}
	return v, nil
}

// Verify checks one request with secret and the default tolerance, and
// returns its event.
func Verify(secret string, h http.Header, body []byte) (*Event, error) {
	v, err := NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	return v.Verify(h, body)
}

// Verify checks the signature and timestamp of a request and decodes its
// body (JSON or form-encoded).
func (v *Verifier) Verify(h http.Header, body []byte) (*Event, error) {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return nil, ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not unix seconds", ErrBadTimestamp, ts)
	}
	if d := v.Now().Sub(time.Unix(sec, 0)); d > v.Tolerance || d < -v.Tolerance {
		return nil, fmt.Errorf("%w: it is %s off (tolerance %s)", ErrBadTimestamp, d.Round(time.Second), v.Tolerance)
	}
	if !v.matches(id+"."+ts+"."+string(body), sigs) {
		return nil, ErrNoMatch
	}
	return decode(h.Get("Content-Type"), body)
}

func (v *Verifier) matches(signed, header string) bool {
	for _, key := range v.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(signed))
		want := mac.Sum(nil)
		for _, sig := range strings.Fields(header) {
			version, b64, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// Sign returns the webhook-signature header value for a request, one
// signature per secret. Tests and tools use it to make signed requests.
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	var sigs []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return "", ErrBadSecret
		}
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%d.%s", id, ts.Unix(), body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}

func decode(contentType string, body []byte) (*Event, error) {
	var ev Event
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
		}
		ev.ID, ev.Event = form.Get("id"), form.Get("event")
		ev.Timestamp, _ = time.Parse(time.RFC3339Nano, form.Get("timestamp"))
		if d := form.Get("data"); d != "" {
			if err := json.Unmarshal([]byte(d), &ev.Data); err != nil {
				return nil, fmt.Errorf("%w: data: %v", ErrBadPayload, err)
			}
		}
	} else if len(body) > 0 {
		if err := json.Unmarshal(body, &ev); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
		}
	}
	return &ev, nil
}
