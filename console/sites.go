package console

import (
	"net/http"
	"strings"

	"github.com/jqlgate/jqlgate"
)

type sitesData struct {
	Sites       []trustedSite
	Own         string
	Unavailable string
	// InUse is a site that could not be deleted, with the webhooks using
	// it.
	InUse *trustedSite
}

// Mine reports whether s is the signed-in user's (an operator's list
// names every row's owner).
func (d sitesData) Mine(s trustedSite) bool { return s.Owner == "" || s.Owner == d.Own }

// siteList lists trusted sites (every owner's for an operator); a server
// without system.TrustedSite says so instead.
func (c *Console) siteList(q *req) error {
	return c.renderSites(q, http.StatusOK, nil)
}

func (c *Console) renderSites(q *req, status int, inUse *trustedSite) error {
	d := sitesData{Own: q.p.Owner(), InUse: inUse}
	var fields map[string]any
	if q.operator() {
		fields = map[string]any{"owner": "*"}
	}
	if _, err := c.run(q, "system.TrustedSite", "listTrustedSites", fields, &d.Sites, page(maxList, 0)); err != nil {
		if !missing(err) {
			return err
		}
		d.Unavailable = "This server has no trusted sites: the system.TrustedSite intents are not available."
	}
	c.render(q, status, "sites", &view{Title: "Trusted sites", Nav: "sites", Data: d})
	return nil
}

// siteForm is the trusted site form.
type siteForm struct {
	ID, Name, BaseURL, Auth                  string
	Username, Password                       string
	TokenURL, ClientID, ClientSecret, Scopes string
	Audience, Headers                        string
	Editing                                  bool
	// Stored is the site's kind of authentication before this edit, and
	// HeaderNames its header names (their values are never shown).
	Stored      string
	HeaderNames []string
	// UsedBy are the webhooks using the site.
	UsedBy []struct {
		ID         string `json:"id"`
		WebhookURL string `json:"webhookUrl"`
	}
}

func readSiteForm(r *http.Request) *siteForm {
	_ = r.ParseForm()
	t := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	return &siteForm{Name: t("name"), BaseURL: t("baseUrl"), Auth: t("auth"), Username: t("username"), Password: r.PostForm.Get("password"),
		TokenURL: t("tokenUrl"), ClientID: t("clientId"), ClientSecret: r.PostForm.Get("clientSecret"), Scopes: t("scopes"),
		Audience: t("audience"), Headers: r.PostForm.Get("headers")}
}

// fields builds the intent's fields. Editing, a blank password or client
// secret keeps the stored one (the API keeps it when it is left out), and
// blank headers keep the stored headers; switching to another kind of
// authentication needs its secret.
func (f *siteForm) fields() (map[string]any, []jqlgate.FieldError) {
	out := map[string]any{"name": f.Name, "baseUrl": f.BaseURL}
	keeps := f.Editing && f.Stored == f.Auth
	var errs []jqlgate.FieldError
	switch f.Auth {
	case "basic":
		b := map[string]any{"username": f.Username}
		if f.Password != "" || !keeps {
			b["password"] = f.Password
		}
		if f.Password == "" && f.Editing && !keeps {
			errs = append(errs, jqlgate.FieldError{Field: "basicAuth.password", Message: "Enter the password."})
		}
		out["basicAuth"] = b
	case "oauth2":
		o := map[string]any{"tokenUrl": f.TokenURL, "clientId": f.ClientID, "scopes": anyList(strings.Fields(f.Scopes))}
		if f.ClientSecret != "" || !keeps {
			o["clientSecret"] = f.ClientSecret
		}
		if f.ClientSecret == "" && f.Editing && !keeps {
			errs = append(errs, jqlgate.FieldError{Field: "oauth2.clientSecret", Message: "Enter the client secret."})
		}
		if f.Audience != "" {
			o["audience"] = f.Audience
		}
		out["oauth2"] = o
	case "headers":
		if strings.TrimSpace(f.Headers) == "" && keeps {
			break
		}
		h, msg := headerLines(f.Headers)
		if msg != "" {
			errs = append(errs, jqlgate.FieldError{Field: "headers", Message: msg})
		}
		out["headers"] = h
	}
	return out, errs
}

func (c *Console) renderSite(q *req, status int, f *siteForm, err error) {
	v := &view{Title: "Trusted site", Nav: "sites", Data: f}
	if err != nil {
		v.Errors, v.Error = fieldErrors(err), jqlgate.AsError(err).Message
		if len(jqlgate.AsError(err).Fields) > 1 {
			v.Error = "Please correct the fields marked below."
		}
	}
	c.render(q, status, "site_form", v)
}

func (c *Console) siteNew(q *req) error {
	c.renderSite(q, http.StatusOK, &siteForm{Auth: "basic"}, nil)
	return nil
}

// storedSite reads one of the caller's sites into an edit form.
func (c *Console) storedSite(q *req, id string) (*siteForm, error) {
	var s trustedSite
	if _, err := c.run(q, "system.TrustedSite", "getTrustedSite", map[string]any{"id": id}, &s); err != nil {
		return nil, err
	}
	if s.Owner != "" && s.Owner != q.p.Owner() {
		return nil, jqlgate.Errorf(jqlgate.EFORBIDDEN, "This trusted site belongs to %s; only its owner may change it.", s.Owner)
	}
	f := &siteForm{ID: s.ID, Name: s.Name, BaseURL: s.BaseURL, Auth: s.Auth(), Stored: s.Auth(), HeaderNames: s.HeaderNames,
		UsedBy: s.Subscriptions, Editing: true}
	if s.BasicAuth != nil {
		f.Username = s.BasicAuth.Username
	}
	if o := s.OAuth2; o != nil {
		f.TokenURL, f.ClientID, f.Scopes, f.Audience = o.TokenURL, o.ClientID, strings.Join(o.Scopes, " "), o.Audience
	}
	return f, nil
}

func (c *Console) siteEdit(q *req) error {
	f, err := c.storedSite(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.renderSite(q, http.StatusOK, f, nil)
	return nil
}

func (c *Console) siteCreate(q *req) error { return c.siteSave(q, "") }

func (c *Console) siteUpdate(q *req) error { return c.siteSave(q, q.r.PathValue("id")) }

func (c *Console) siteSave(q *req, id string) error {
	f := readSiteForm(q.r)
	if id != "" {
		stored, err := c.storedSite(q, id)
		if err != nil {
			return err
		}
		f.ID, f.Editing, f.Stored, f.HeaderNames, f.UsedBy = id, true, stored.Stored, stored.HeaderNames, stored.UsedBy
	}
	fields, errs := f.fields()
	if err := jqlgate.InvalidFields(errs); err != nil {
		c.renderSite(q, http.StatusBadRequest, f, err)
		return nil
	}
	intent := "createTrustedSite"
	if id != "" {
		intent, fields["id"] = "updateTrustedSite", id
	}
	if _, err := c.run(q, "system.TrustedSite", intent, fields, nil); err != nil {
		if e := jqlgate.AsError(err); e.Code == jqlgate.EINVALID || e.Code == jqlgate.ECONFLICT {
			c.renderSite(q, jqlgate.HTTPStatus(e.Code), f, err)
			return nil
		}
		return err
	}
	q.redirect(Prefix+"/sites", "Trusted site "+f.Name+" saved.")
	return nil
}

// siteDelete deletes a site; one still in use is refused (409), and the
// list then names the webhooks using it.
func (c *Console) siteDelete(q *req) error {
	id := q.r.PathValue("id")
	_, err := c.run(q, "system.TrustedSite", "deleteTrustedSite", map[string]any{"id": id}, nil)
	if jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
		var s trustedSite
		if _, gerr := c.run(q, "system.TrustedSite", "getTrustedSite", map[string]any{"id": id}, &s); gerr == nil && len(s.Subscriptions) > 0 {
			return c.renderSites(q, http.StatusConflict, &s)
		}
	}
	if err != nil {
		return err
	}
	q.redirect(Prefix+"/sites", "Trusted site deleted.")
	return nil
}
