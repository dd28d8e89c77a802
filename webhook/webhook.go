// Package webhook verifies webhooks sent by jqlgate, for receivers written
// in Go. jqlgate signs every request the Standard Webhooks way: the
// webhook-signature header holds one or more signatures of
// "<webhook-id>.<webhook-timestamp>.<payload>", where the payload is the
// body, or for a GET delivery the raw query string as sent. A signature is
// "v1,<base64 HMAC-SHA256>" made with the subscription's "whsec_" secret,
// or "v1a,<base64 Ed25519 signature>" for a subscription with
// signatureScheme v1a, verified with its "whpk_" public key. There are
// several while a secret is being rotated.
//
// A receiver checks a request like this (POST with a JSON or form body, or
// GET alike):
//
//	v, err := webhook.NewVerifier(secret) // "whsec_…" or "whpk_…"
//	...
//	func handle(w http.ResponseWriter, r *http.Request) {
//		ev, err := v.VerifyRequest(r)
//		if err != nil {
//			http.Error(w, err.Error(), http.StatusUnauthorized)
//			return
//		}
//		log.Printf("%s %s: %v", ev.Event, ev.ID, ev.Data)
//	}
package webhook

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
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
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	Timestamp time.Time `json:"timestamp"`
	// SubscriptionID is the subscription the webhook was sent for.
	SubscriptionID string `json:"subscriptionId"`
	// EntityID is the record the event is about (form and GET deliveries
	// carry it as a field; JSON ones in the X-Webhook-Entity-Id header).
	EntityID string `json:"entityId,omitempty"`
	// EntityURL is where the record can be read, when the server has a
	// public URL.
	EntityURL string         `json:"entityUrl,omitempty"`
	Data      map[string]any `json:"data"`
}

// Reasons a webhook fails verification. Verify wraps them with detail;
// test them with errors.Is.
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadSecret      = errors.New("the secret is not a whsec_ secret or a whpk_ public key in base64")
	ErrBadTimestamp   = errors.New("webhook-timestamp is outside the tolerance")
	ErrNoMatch        = errors.New("no signature matches: the body was changed or the secret is wrong")
	ErrBadPayload     = errors.New("the body is not a jqlgate event")
)

// Verifier checks webhooks against one or more secrets.
type Verifier struct {
	keys      [][]byte            // v1 HMAC keys
	public    []ed25519.PublicKey // v1a public keys
	Tolerance time.Duration
	Now       func() time.Time
	// MaxBody is the largest body VerifyRequest reads (default 10 MiB).
	MaxBody int64
}

// NewVerifier returns a verifier for the given secrets: "whsec_" secrets
// (v1) and "whpk_" public keys (v1a); a request passes when any of them
// produced any of its signatures.
func NewVerifier(secrets ...string) (*Verifier, error) {
	v := &Verifier{Tolerance: DefaultTolerance, Now: time.Now, MaxBody: 10 << 20}
	for _, s := range secrets {
		if raw, ok := strings.CutPrefix(s, "whpk_"); ok {
			key, err := base64.StdEncoding.DecodeString(raw)
			if err != nil || len(key) != ed25519.PublicKeySize {
				return nil, ErrBadSecret
			}
			v.public = append(v.public, ed25519.PublicKey(key))
			continue
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, ErrBadSecret
		}
		v.keys = append(v.keys, key)
	}
	if len(v.keys)+len(v.public) == 0 {
		return nil, ErrBadSecret
	}
	return v, nil
}

// Verify checks one request with secret and the default tolerance, and
// returns its event. body is the raw body, or a GET delivery's raw query
// string (VerifyRequest picks the right one).
func Verify(secret string, h http.Header, body []byte) (*Event, error) {
	v, err := NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	return v.Verify(h, body)
}

// VerifyRequest checks a request with secret and the default tolerance;
// see Verifier.VerifyRequest.
func VerifyRequest(secret string, r *http.Request) (*Event, error) {
	v, err := NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	return v.VerifyRequest(r)
}

// VerifyRequest checks a webhook request as it arrived and returns its
// event: for a GET, the signed payload is the raw query string
// (r.URL.RawQuery) and the fields are read from it; otherwise the body is
// read (up to MaxBody) and put back, so the handler may read it again.
func (v *Verifier) VerifyRequest(r *http.Request) (*Event, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if err := v.check(r.Header, []byte(r.URL.RawQuery)); err != nil {
			return nil, err
		}
		return decode("application/x-www-form-urlencoded", []byte(r.URL.RawQuery))
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, v.MaxBody+1))
		if err != nil {
			return nil, fmt.Errorf("%w: reading the body: %v", ErrBadPayload, err)
		}
		if int64(len(body)) > v.MaxBody {
			return nil, fmt.Errorf("%w: the body is over %d bytes", ErrBadPayload, v.MaxBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return v.Verify(r.Header, body)
}

// Verify checks the signature and timestamp of a request and decodes its
// body (JSON or form-encoded).
func (v *Verifier) Verify(h http.Header, body []byte) (*Event, error) {
	if err := v.check(h, body); err != nil {
		return nil, err
	}
	return decode(h.Get("Content-Type"), body)
}

// check verifies the headers' signature of payload and the timestamp.
func (v *Verifier) check(h http.Header, payload []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrBadTimestamp, ts)
	}
	if d := v.Now().Sub(time.Unix(sec, 0)); d > v.Tolerance || d < -v.Tolerance {
		return fmt.Errorf("%w: it is %s off (tolerance %s)", ErrBadTimestamp, d.Round(time.Second), v.Tolerance)
	}
	if !v.matches(id+"."+ts+"."+string(payload), sigs) {
		return ErrNoMatch
	}
	return nil
}

func (v *Verifier) matches(signed, header string) bool {
	macs := make([][]byte, len(v.keys))
	for i, key := range v.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(signed))
		macs[i] = mac.Sum(nil)
	}
	for _, sig := range strings.Fields(header) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		switch version {
		case "v1":
			for _, want := range macs {
				if hmac.Equal(got, want) {
					return true
				}
			}
		case "v1a":
			for _, pub := range v.public {
				if ed25519.Verify(pub, []byte(signed), got) {
					return true
				}
			}
		}
	}
	return false
}

// CheckBodySignature reports whether value, a plain body signature header
// such as "sha256=<hex>" (a subscription's bodySignature), is the HMAC of
// payload keyed with secret as text. sha1= is accepted only when allowSHA1
// is true. It checks no timestamp: prefer Verify, which does.
func CheckBodySignature(secret, value string, payload []byte, allowSHA1 bool) bool {
	alg, hexSig, ok := strings.Cut(value, "=")
	var h func() hash.Hash
	switch {
	case !ok:
		return false
	case alg == "sha256":
		h = sha256.New
	case alg == "sha1" && allowSHA1:
		h = sha1.New
	default:
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(payload)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the webhook-signature header value for a request, one
// signature per secret: "v1,…" for a "whsec_" secret, "v1a,…" for a
// "whsk_" Ed25519 signing key. Tests and tools use it to make signed
// requests.
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	var sigs []string
	signed := fmt.Appendf(nil, "%s.%d.%s", id, ts.Unix(), body)
	for _, s := range secrets {
		if raw, ok := strings.CutPrefix(s, "whsk_"); ok {
			key, err := base64.StdEncoding.DecodeString(raw)
			if err != nil || len(key) != ed25519.PrivateKeySize {
				return "", ErrBadSecret
			}
			sigs = append(sigs, "v1a,"+base64.StdEncoding.EncodeToString(ed25519.Sign(ed25519.PrivateKey(key), signed)))
			continue
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return "", ErrBadSecret
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(signed)
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
		ev.SubscriptionID, ev.EntityID, ev.EntityURL = form.Get("subscriptionId"), form.Get("entityId"), form.Get("entityUrl")
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
