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
