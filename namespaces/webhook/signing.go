package webhook

import (
	"net/textproto"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
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

// bodySignature reads bodySignature: {header, algorithm}, both optional
// (X-Webhook-Signature, sha256); null or false removes it, true takes the
// defaults. sha1 is used only when asked for by name.
func (r *reader) bodySignature(v any) *jqlgate.BodySignature {
	const field = "bodySignature"
	bs := &jqlgate.BodySignature{Header: defaultBodySignatureHeader, Algorithm: "sha256"}
	switch v := v.(type) {
	case nil:
		return nil
	case bool:
		if v {
			return bs
		}
		return nil
	case map[string]any:
		var in schemas.BodySignatureInput
		r.Errs = append(r.Errs, schemas.Default().Input(field, v, &in)...)
		if in.Header != nil && !r.Failed(field+".header") {
			name := textproto.CanonicalMIMEHeaderKey(*in.Header)
			if jqlgate.TransportHeader(name) || ownHeaders[name] || strings.HasPrefix(strings.ToLower(name), "webhook-") {
				r.Fail(field+".header", "%s is set by the dispatcher; choose another name, such as X-Webhook-Signature or X-Hub-Signature-256", name)
			}
			bs.Header = name
		}
		if in.Algorithm != nil {
			bs.Algorithm = schemas.Fold(*in.Algorithm, "sha256 sha1")
		}
		return bs
	}
	r.Fail(field, "must be true, false or an object")
	return nil
}

// checkSigning reports options of sub's signing that exclude each other.
func checkSigning(r *reader, sub *jqlgate.Subscription) {
	if sub.BodySignature != nil && sub.SignatureScheme == jqlgate.SchemeV1a && !r.Failed("bodySignature") {
		r.Fail("bodySignature", "needs signatureScheme v1: a body HMAC needs a shared whsec_ secret, and v1a has none")
	}
}

// readSecret reads the optional secret field of subscribeToWebhook and
// rotateWebhookSecret for scheme: a user-supplied "whsec_" secret (v1) or
// "whsk_" signing key (v1a), checked for strength, or a generated one when
// absent.
func readSecret(r *reader, secret *string, scheme string) string {
	if secret == nil {
		return jqlgate.NewSigningSecret(scheme)
	}
	if r.Failed("secret") {
		return ""
	}
	if err := jqlgate.CheckSecret(scheme, *secret); err != nil {
		r.Fail("secret", "%s", err)
		return ""
	}
	return *secret
}
