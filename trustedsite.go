package jqlgate

import (
	"net/url"
	"strings"
	"time"
)

// Kinds of authentication a trusted site gives its receivers.
const (
	SiteAuthBasic   = "basic"   // HTTP basic authentication
	SiteAuthOAuth2  = "oauth2"  // a client-credentials token
	SiteAuthHeaders = "headers" // fixed authentication headers
)

// TrustedSite is an authenticated destination configured once and chosen
// by many subscriptions (Antavo's trusted sites): every subscription that
// names it sends to a URL under BaseURL with the site's credentials, so
// changing them changes them for all at once. Exactly one of BasicAuth,
// OAuth2 and Headers is set. Secrets are sealed at rest and never answered.
type TrustedSite struct {
	ID      string
	Owner   string
	Name    string
	BaseURL string

	BasicAuth *BasicAuth
	OAuth2    *ReceiverOAuth2
	// Headers are authentication headers, name to value; the values are
	// secret.
	Headers map[string]string
	// PublicOnly marks a site saved by a principal without
	// PermPrivateTargets: its token endpoint is reached through a
	// connection that refuses the addresses only the Allow list permits.
	PublicOnly bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthKind returns which kind of authentication the site gives, or "".
func (s *TrustedSite) AuthKind() string {
	switch {
	case s.BasicAuth != nil:
		return SiteAuthBasic
	case s.OAuth2 != nil:
		return SiteAuthOAuth2
	case len(s.Headers) > 0:
		return SiteAuthHeaders
	}
	return ""
}

// Covers reports whether raw lies under the site's base URL: the same
// scheme, host and port (a default port spelt out or not), and a path
// equal to the base path or continuing it after a "/". A path with "." or
// ".." segments is never covered, as a receiver would resolve it
// elsewhere.
func (s *TrustedSite) Covers(raw string) bool {
	return URLUnder(raw, s.BaseURL)
}

// URLUnder reports whether raw lies under base, as TrustedSite.Covers.
func URLUnder(raw, base string) bool {
	u, err1 := url.Parse(raw)
	b, err2 := url.Parse(base)
	if err1 != nil || err2 != nil || !u.IsAbs() || !b.IsAbs() || u.Opaque != "" || b.Opaque != "" {
		return false
	}
	if !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Hostname(), b.Hostname()) ||
		effectivePort(u) != effectivePort(b) {
		return false
	}
	if hasDotSegment(u.Path) || hasDotSegment(b.Path) {
		return false
	}
	bp := strings.TrimSuffix(b.Path, "/")
	return u.Path == bp || strings.HasPrefix(u.Path, bp+"/")
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// TrustedSiteQuery selects one owner's trusted sites for a list, or every
// owner's (AllOwners, for operators).
type TrustedSiteQuery struct {
	Owner     string
	AllOwners bool
	Offset    int
	Limit     int
}

// SiteUse is one subscription that uses a trusted site.
type SiteUse struct {
	SubscriptionID string `json:"id"`
	WebhookURL     string `json:"webhookUrl"`
}

// SiteNotFound is the answer, on field, for a site the caller does not own
// or that does not exist: the two are indistinguishable on purpose.
func SiteNotFound(field string, err error) error {
	if ErrorCode(err) == ENOTFOUND {
		return &Error{Code: ENOTFOUND, Message: "Trusted site not found.", Field: field, Err: err}
	}
	return err
}
