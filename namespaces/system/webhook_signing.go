package system

import (
	"net/textproto"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// defaultBodySignatureHeader is the header of a body signature unless the
// subscription names another.
const defaultBodySignatureHeader = "X-Webhook-Signature"

// ownHeaders are headers the dispatcher sets itself, which a body
// signature may not take over.
var ownHeaders = map[string]bool{
	"X-Webhook-Event": true, "X-Webhook-Subscription": true, "X-Webhook-Entity-Id": true,
	"X-Webhook-Entity-Url": true, "X-Webhook-Attempt": true, "X-Webhook-Test": true,
	"Authorization": true, "User-Agent": true,
}

// setSignatureScheme reads signatureScheme: v1 (HMAC, the default) or v1a
// (Ed25519).
func setSignatureScheme(r *reader, s *jqlgate.Subscription, v any) {
	s.SignatureScheme = jqlgate.SchemeV1
	if v != nil {
		s.SignatureScheme = r.oneOf("signatureScheme", v, jqlgate.SchemeV1, jqlgate.SchemeV1a)
	}
}

// setBodySignature reads bodySignature: {header, algorithm}, both optional
// (X-Webhook-Signature, sha256); null or false removes it, true takes the
// defaults. sha1 is used only when asked for by name.
func setBodySignature(r *reader, s *jqlgate.Subscription, v any) {
	const field = "bodySignature"
	s.BodySignature = nil
	if b, ok := v.(bool); ok {
		if b {
			s.BodySignature = &jqlgate.BodySignature{Header: defaultBodySignatureHeader, Algorithm: "sha256"}
		}
		return
	}
	if v == nil {
		return
	}
	m := r.object(field, v)
	r.unknown(prefixed(m, field+"."), field+".header", field+".algorithm")
	bs := &jqlgate.BodySignature{Header: defaultBodySignatureHeader, Algorithm: "sha256"}
	if h, ok := m["header"]; ok && h != nil {
		raw := r.str(field+".header", h, 256)
		name := textproto.CanonicalMIMEHeaderKey(raw)
		lower := strings.ToLower(name)
		switch {
		case r.failed(field + ".header"):
		case !validToken(raw):
			r.fail(field+".header", "is not a valid header name")
		case forbiddenHeaders[name] || ownHeaders[name] || strings.HasPrefix(lower, "webhook-"):
			r.fail(field+".header", "%s is set by the dispatcher; choose another name, such as X-Webhook-Signature or X-Hub-Signature-256", name)
		default:
			bs.Header = name
		}
	}
	if a, ok := m["algorithm"]; ok && a != nil {
		bs.Algorithm = r.oneOf(field+".algorithm", a, "sha256", "sha1")
	}
	s.BodySignature = bs
}

// checkSigning reports options of sub's signing that exclude each other.
func checkSigning(r *reader, sub *jqlgate.Subscription) {
	if sub.BodySignature != nil && sub.SignatureScheme == jqlgate.SchemeV1a && !r.failed("bodySignature") {
		r.fail("bodySignature", "needs signatureScheme v1: a body HMAC needs a shared whsec_ secret, and v1a has none")
	}
}

// readSecret reads the optional secret field of subscribeToWebhook and
// rotateWebhookSecret for scheme: a user-supplied "whsec_" secret (v1) or
// "whsk_" signing key (v1a), checked for strength, or a generated one when
// absent.
func readSecret(r *reader, fields map[string]any, scheme string) string {
	v, ok := fields["secret"]
	if !ok || v == nil {
		return jqlgate.NewSigningSecret(scheme)
	}
	s := r.str("secret", v, 512)
	if r.failed("secret") {
		return ""
	}
	if err := jqlgate.CheckSecret(scheme, s); err != nil {
		r.fail("secret", "%s", err)
		return ""
	}
	return s
}
