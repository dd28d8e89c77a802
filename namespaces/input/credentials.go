package input

import (
	"net/textproto"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// Headers returns the custom headers of in by their canonical names (their
// form was checked by the header rules of schemas). A secret header given
// with the redacted value an answer shows keeps its value in old, so a
// subscription read and written back keeps its credentials.
func (r *Reader) Headers(old, in map[string]string) map[string]string {
	if len(in) == 0 || r.Has("headers") {
		return nil
	}
	raws := make([]string, 0, len(in))
	for k := range in {
		raws = append(raws, k)
	}
	sort.Strings(raws)
	out := make(map[string]string, len(in))
	for _, raw := range raws {
		if r.Failed("headers." + raw) {
			continue
		}
		name, value := textproto.CanonicalMIMEHeaderKey(raw), in[raw]
		if _, dup := out[name]; dup {
			r.Fail("headers."+raw, "repeats header %s", name)
			continue
		}
		if value == jqlgate.RedactedValue {
			prev, ok := old[name]
			if !ok {
				r.Fail("headers."+raw, "is the placeholder %s that answers show for a secret value; give the header's value", jqlgate.RedactedValue)
				continue
			}
			value = prev
			if r.Restored == nil {
				r.Restored = map[string]bool{}
			}
			r.Restored[name] = true
		}
		out[name] = value
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SecretHeaders returns the names of custom headers whose values are
// secret besides jqlgate.CredentialHeaders: sealed at rest like every
// header value, and redacted in answers and logs. Names are canonical,
// sorted and each once.
func (r *Reader) SecretHeaders(in []string) []string {
	var out []string
	for _, raw := range in {
		if name := textproto.CanonicalMIMEHeaderKey(raw); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// BasicAuth returns the receiver's basic authentication. On an update
// that leaves the password out, old's password is kept.
func (r *Reader) BasicAuth(old *jqlgate.BasicAuth, in *schemas.BasicAuthInput) *jqlgate.BasicAuth {
	if in == nil {
		return nil
	}
	b := &jqlgate.BasicAuth{Username: in.Username, Password: in.Password}
	if !in.Members.Given("password") && old != nil {
		b.Password = old.Password
	}
	return b
}

// OAuth2 returns the receiver's client-credentials settings. On an update
// that leaves clientSecret out, old's secret is kept; otherwise it is
// required.
func (r *Reader) OAuth2(old *jqlgate.ReceiverOAuth2, in *schemas.OAuth2Input) *jqlgate.ReceiverOAuth2 {
	if in == nil {
		return nil
	}
	o := &jqlgate.ReceiverOAuth2{TokenURL: in.TokenURL, ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		Scopes: in.Scopes}
	if in.Audience != nil {
		o.Audience = *in.Audience
	}
	switch {
	case !in.Members.Given("clientSecret") && old != nil:
		o.ClientSecret = old.ClientSecret
	case o.ClientSecret == "" && !r.Failed("oauth2.clientSecret"):
		r.Fail("oauth2.clientSecret", "is required")
	}
	return o
}

// Carried is what an update keeps of a stored destination and the
// credentials that go there, to be checked by CheckCarried.
type Carried struct {
	// URLField names the destination's field (webhookUrl, baseUrl).
	URLField       string
	OldURL, NewURL string
	// OldToken and NewToken are the OAuth2 token URLs.
	OldToken, NewToken string
	BasicAuth          *jqlgate.BasicAuth
	OAuth2             *jqlgate.ReceiverOAuth2
	Headers            map[string]string
	// Secret reports whether a header's value is a credential.
	Secret func(name string) bool
}

// CheckCarried refuses to carry a stored credential to a new destination
// without its being given again: when the destination's origin (scheme,
// host and port) changes, a kept basic-auth password and kept secret header
// values; when the token URL changes, a kept client secret. fields are the
// request's. It also refuses a header restored from the placeholder that
// is no longer secret (its sealed value would then be shown).
func (r *Reader) CheckCarried(c Carried, fields map[string]any) {
	moved := origin(c.OldURL) != origin(c.NewURL)
	if moved && c.BasicAuth != nil && !givenIn(fields, "basicAuth", "password") && !r.Failed("basicAuth.password") {
		r.Fail("basicAuth.password", "is required again: %s moves to another host, and the stored password is not sent anywhere new", c.URLField)
	}
	if c.OAuth2 != nil && c.OldToken != "" && c.OldToken != c.NewToken && !givenIn(fields, "oauth2", "clientSecret") && !r.Failed("oauth2.clientSecret") {
		r.Fail("oauth2.clientSecret", "is required again: the tokenUrl changes, and the stored secret is not sent anywhere new")
	}
	for name := range c.Headers {
		switch {
		case !c.Secret(name):
			if r.Restored[name] {
				r.Fail("headers."+name, "keeps its sealed value only while it stays secret; give its value again to make it an ordinary header")
			}
		case moved && !givenHeader(fields, name):
			r.Fail("headers."+name, "is required again: %s moves to another host, and the stored value is not sent anywhere new", c.URLField)
		}
	}
}

// origin is a URL's scheme, host and port, lower case.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// givenIn reports whether fields[obj][key] was given.
func givenIn(fields map[string]any, obj, key string) bool {
	m, ok := fields[obj].(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

// givenHeader reports whether the request gave header name a value of its
// own (not the placeholder).
func givenHeader(fields map[string]any, name string) bool {
	m, ok := fields["headers"].(map[string]any)
	if !ok {
		return false
	}
	for raw, v := range m {
		if textproto.CanonicalMIMEHeaderKey(raw) == name {
			return v != jqlgate.RedactedValue
		}
	}
	return false
}
