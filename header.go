package jqlgate

import (
	"net/textproto"
	"slices"
	"strings"
)

// RedactedValue replaces a secret header value wherever a subscription or
// a delivery is shown.
const RedactedValue = "[redacted]"

// CredentialHeaders are custom headers whose values are always secret,
// whether or not the owner marks them.
var CredentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key"}

// credentialWords make a header name look like it carries a credential.
var credentialWords = []string{"auth", "key", "token", "secret", "cookie", "password", "session"}

// IsSecretHeader reports whether the custom header name carries a
// credential: one of CredentialHeaders, a name containing a word such as
// "token", "key" or "secret", or one the owner listed in SecretHeaders.
// Its value is redacted in every answer and log.
func (s *Subscription) IsSecretHeader(name string) bool {
	name = textproto.CanonicalMIMEHeaderKey(name)
	if slices.Contains(CredentialHeaders, name) || slices.Contains(s.SecretHeaders, name) {
		return true
	}
	lower := strings.ToLower(name)
	return slices.ContainsFunc(credentialWords, func(w string) bool { return strings.Contains(lower, w) })
}

// RedactedHeaders returns the custom headers with every secret value
// replaced by RedactedValue, or nil when there are none.
func (s *Subscription) RedactedHeaders() map[string]string {
	if len(s.Headers) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.Headers))
	for k, v := range s.Headers {
		if s.IsSecretHeader(k) {
			v = RedactedValue
		}
		out[k] = v
	}
	return out
}

// forbiddenHeaders are headers a subscription may not set: the transport
// owns them, or they would let a client forge the signature or the
// X-Webhook-* metadata a receiver trusts.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true,
	"Proxy-Authorization": true, "Proxy-Connection": true,
}

// HeaderForbidden reports why a subscription may not set the custom header
// name (in any case), or "" when it may.
func HeaderForbidden(name string) string {
	name = textproto.CanonicalMIMEHeaderKey(name)
	lower := strings.ToLower(name)
	switch {
	case forbiddenHeaders[name]:
		return "is set by the dispatcher and may not be overridden"
	case strings.HasPrefix(lower, "webhook-"), strings.HasPrefix(lower, "x-webhook-"):
		return "is reserved for the webhook signature and metadata headers"
	}
	return ""
}

// TransportHeader reports whether the dispatcher's transport owns the
// header name (in any case), such as Host or Content-Type.
func TransportHeader(name string) bool {
	return forbiddenHeaders[textproto.CanonicalMIMEHeaderKey(name)]
}

// ValidHeaderName reports whether s is an HTTP field name: a token (RFC 9110
// §5.6.2) of at most 256 bytes.
func ValidHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
