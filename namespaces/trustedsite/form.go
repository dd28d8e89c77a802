package trustedsite

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
	"github.com/jqlgate/jqlgate/schemas"
)

// siteAuthFields are the kinds of authentication; a site has exactly one.
var siteAuthFields = []string{"basicAuth", "oauth2", "headers"}

// applySite sets the fields in gives on site (r holds in's problems of
// form already). Giving one kind of authentication replaces the other
// kinds; an update that gives basicAuth without a password (or oauth2
// without a clientSecret) keeps the stored one.
func applySite(r *input.Reader, site *jqlgate.TrustedSite, in *schemas.TrustedSiteInput) {
	m := in.Members
	if m.Given("name") {
		site.Name = strings.TrimSpace(in.Name)
	}
	if m.Given("baseUrl") {
		site.BaseURL = in.BaseURL
	}
	var given []string
	for _, f := range siteAuthFields {
		if m.Set(f) {
			given = append(given, f)
		}
	}
	if len(given) > 1 {
		r.Fail(given[1], "can't be combined with %s: a trusted site has one kind of authentication", given[0])
		return
	}
	basic, oauth, headers := site.BasicAuth, site.OAuth2, site.Headers
	if len(given) == 1 {
		site.BasicAuth, site.OAuth2, site.Headers = nil, nil, nil
	}
	if m.Given("basicAuth") {
		site.BasicAuth = r.BasicAuth(basic, in.BasicAuth)
	}
	if m.Given("oauth2") {
		site.OAuth2 = r.OAuth2(oauth, in.OAuth2)
	}
	if m.Given("headers") {
		site.Headers = r.Headers(headers, in.Headers)
	}
}

// validate checks a site: its form (EINVALID listing every problem), then,
// when resolve is true, where its base and token URLs resolve.
func (s *sites) validate(ctx context.Context, p *jqlgate.Principal, r *input.Reader, site *jqlgate.TrustedSite, resolve bool) error {
	if site.Name == "" && !r.Failed("name") {
		r.Fail("name", "is required")
	}
	if site.BaseURL == "" && !r.Failed("baseUrl") {
		r.Fail("baseUrl", "is required")
	}
	if site.BaseURL != "" && !r.Failed("baseUrl") {
		u, err := s.Policy.CheckURL("baseUrl", site.BaseURL)
		switch {
		case err != nil:
			r.Merge(err)
		case u.RawQuery != "" || strings.Contains(site.BaseURL, "?"):
			r.Fail("baseUrl", "must not contain a query")
		case hasDotSegments(u.Path):
			r.Fail("baseUrl", "must not contain . or .. path segments")
		}
	}
	if site.AuthKind() == "" && !r.Failed("basicAuth") && !r.Failed("oauth2") && !r.Failed("headers") {
		r.Fail("basicAuth", "a trusted site needs one of basicAuth, oauth2 or headers")
	}
	if site.OAuth2 != nil && !r.Failed("oauth2.tokenUrl") {
		_, err := s.Policy.CheckURL("oauth2.tokenUrl", site.OAuth2.TokenURL)
		r.Merge(err)
	}
	slices.SortStableFunc(r.Errs, func(a, b jqlgate.FieldError) int { return strings.Compare(a.Field, b.Field) })
	if err := r.Err(); err != nil {
		return err
	}
	if !resolve {
		return nil
	}
	if err := s.targets.CheckResolves(ctx, p, "baseUrl", site.BaseURL); err != nil {
		return err
	}
	if site.OAuth2 != nil {
		return s.targets.CheckResolves(ctx, p, "oauth2.tokenUrl", site.OAuth2.TokenURL)
	}
	return nil
}

func hasDotSegments(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// siteView is a trusted site as clients see it: which kind of
// authentication, and its parts that are not secret (username, clientId,
// tokenUrl, header names), never a password, client secret or header
// value.
type siteView struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	BaseURL     string                  `json:"baseUrl"`
	AuthType    string                  `json:"authType"`
	BasicAuth   *jqlgate.BasicAuth      `json:"basicAuth,omitempty"`
	OAuth2      *jqlgate.ReceiverOAuth2 `json:"oauth2,omitempty"`
	HeaderNames []string                `json:"headerNames,omitempty"`
	CreatedAt   time.Time               `json:"createdAt"`
	UpdatedAt   time.Time               `json:"updatedAt"`
	// Owner is named in operator views only.
	Owner string `json:"owner,omitempty"`
}

// siteDetail is getTrustedSite's answer: the site and the subscriptions
// using it.
type siteDetail struct {
	*siteView
	Subscriptions []jqlgate.SiteUse `json:"subscriptions"`
}

func siteViewOf(site *jqlgate.TrustedSite) *siteView {
	v := &siteView{ID: site.ID, Name: site.Name, BaseURL: site.BaseURL, AuthType: site.AuthKind(),
		CreatedAt: site.CreatedAt, UpdatedAt: site.UpdatedAt}
	if b := site.BasicAuth; b != nil {
		v.BasicAuth = &jqlgate.BasicAuth{Username: b.Username}
	}
	if o := site.OAuth2; o != nil {
		v.OAuth2 = &jqlgate.ReceiverOAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: o.Scopes, Audience: o.Audience}
	}
	for name := range site.Headers {
		v.HeaderNames = append(v.HeaderNames, name)
	}
	sort.Strings(v.HeaderNames)
	return v
}
