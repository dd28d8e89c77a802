package system

import (
	"net/textproto"
	"slices"
	"sort"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// Limits of custom headers.
const (
	maxHeaders          = 50
	maxHeaderValueBytes = 4 << 10
)

// forbiddenHeaders are headers a subscription may not set: the transport
// owns them, or they would let a client forge the signature or the
// X-Webhook-* metadata a receiver trusts.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true,
	"Proxy-Authorization": true, "Proxy-Connection": true,
}

// headerForbidden reports why a canonical header name may not be set, or "".
func headerForbidden(name string) string {
	lower := strings.ToLower(name)
	switch {
	case forbiddenHeaders[name]:
		return "is set by the dispatcher and may not be overridden"
	case strings.HasPrefix(lower, "webhook-"), strings.HasPrefix(lower, "x-webhook-"):
		return "is reserved for the webhook signature and metadata headers"
	}
	return ""
}

// setHeaders reads the custom headers. On an update, a secret header given
// with the redacted value an answer shows keeps its stored value, so a
// subscription read and written back keeps its credentials.
func setHeaders(r *reader, s *jqlgate.Subscription, v any) {
	old := s.Headers
	s.Headers = nil
	if v == nil {
		return
	}
	m := r.object("headers", v)
	if len(m) > maxHeaders {
		r.fail("headers", "must have at most %d entries", maxHeaders)
		return
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]string, len(m))
	for _, raw := range names {
		if name, value, ok := checkHeader(r, raw, m[raw]); ok {
			if _, dup := out[name]; dup {
				r.fail("headers."+raw, "repeats header %s", name)
				continue
			}
			if prev, ok := old[name]; ok && value == jqlgate.RedactedValue {
				value = prev
			}
			out[name] = value
		}
	}
	if len(out) > 0 {
		s.Headers = out
	}
}

// checkHeader validates one custom header and returns its canonical name.
func checkHeader(r *reader, raw string, v any) (string, string, bool) {
	field := "headers." + raw
	if !validToken(raw) {
		r.fail(field, "is not a valid header name")
		return "", "", false
	}
	name := textproto.CanonicalMIMEHeaderKey(raw)
	if why := headerForbidden(name); why != "" {
		r.fail(field, "%s %s", name, why)
		return "", "", false
	}
	s, ok := v.(string)
	switch {
	case !ok:
		r.fail(field, "must be a string")
	case len(s) > maxHeaderValueBytes:
		r.fail(field, "must be at most %d bytes", maxHeaderValueBytes)
	case strings.ContainsAny(s, "\r\n\x00"):
		r.fail(field, "must not contain line breaks")
	default:
		return name, s, true
	}
	return "", "", false
}

// setSecretHeaders reads the names of custom headers whose values are
// secret besides jqlgate.CredentialHeaders: sealed at rest like every
// header value, and redacted in answers and logs.
func setSecretHeaders(r *reader, s *jqlgate.Subscription, v any) {
	s.SecretHeaders = nil
	if v == nil {
		return
	}
	for _, raw := range r.stringList("secretHeaders", v, maxHeaders, 256) {
		if !validToken(raw) {
			r.fail("secretHeaders", "%q is not a valid header name", raw)
			return
		}
		name := textproto.CanonicalMIMEHeaderKey(raw)
		if !slices.Contains(s.SecretHeaders, name) {
			s.SecretHeaders = append(s.SecretHeaders, name)
		}
	}
	slices.Sort(s.SecretHeaders)
}

// validToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validToken(s string) bool {
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

// setBasicAuth reads {username, password}. On an update that leaves the
// password out, the stored password is kept.
func setBasicAuth(r *reader, s *jqlgate.Subscription, v any) {
	old := s.BasicAuth
	s.BasicAuth = nil
	if v == nil {
		return
	}
	m := r.object("basicAuth", v)
	r.unknown(prefixed(m, "basicAuth."), "basicAuth.username", "basicAuth.password")
	b := &jqlgate.BasicAuth{}
	if b.Username = r.requiredAt(m, "username", "basicAuth.username"); strings.Contains(b.Username, ":") {
		r.fail("basicAuth.username", "must not contain ':'")
	}
	switch p, ok := m["password"]; {
	case ok:
		b.Password = r.str("basicAuth.password", p, 1024)
	case old != nil:
		b.Password = old.Password
	}
	s.BasicAuth = b
}

// setOAuth2 reads the receiver's client-credentials settings. On an update
// that leaves clientSecret out, the stored secret is kept.
func setOAuth2(r *reader, s *jqlgate.Subscription, v any) {
	old := s.OAuth2
	s.OAuth2 = nil
	if v == nil {
		return
	}
	m := r.object("oauth2", v)
	r.unknown(prefixed(m, "oauth2."), "oauth2.tokenUrl", "oauth2.clientId", "oauth2.clientSecret", "oauth2.scopes", "oauth2.audience")
	o := &jqlgate.ReceiverOAuth2{TokenURL: r.requiredAt(m, "tokenUrl", "oauth2.tokenUrl"), ClientID: r.requiredAt(m, "clientId", "oauth2.clientId")}
	if _, ok := m["clientSecret"]; ok || old == nil {
		o.ClientSecret = r.requiredAt(m, "clientSecret", "oauth2.clientSecret")
	} else {
		o.ClientSecret = old.ClientSecret
	}
	if sc, ok := m["scopes"]; ok && sc != nil {
		o.Scopes = r.stringList("oauth2.scopes", sc, 20, 256)
	}
	if a, ok := m["audience"]; ok && a != nil {
		o.Audience = r.str("oauth2.audience", a, 512)
	}
	s.OAuth2 = o
}
