package input

import (
	"net/textproto"
	"slices"
	"sort"

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
		if prev, ok := old[name]; ok && value == jqlgate.RedactedValue {
			value = prev
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
