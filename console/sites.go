package console

import (
	"net/http"
	"strings"

	"github.com/jqlgate/jqlgate"
)

type sitesData struct {
	Sites       []trustedSite
	Unavailable string
}

// siteList lists trusted sites; a server without system.TrustedSite says
// so instead.
func (c *Console) siteList(q *req) error {
	var d sitesData
	if _, err := c.run(q, "system.TrustedSite", "listTrustedSites", nil, &d.Sites, page(maxList, 0)); err != nil {
		if !missing(err) {
			return err
		}
		d.Unavailable = "This server has no trusted sites: the system.TrustedSite intents are not available."
	}
	c.render(q, http.StatusOK, "sites", &view{Title: "Trusted sites", Nav: "sites", Data: d})
	return nil
}

// siteForm is the trusted site form.
type siteForm struct {
	ID, Name, BaseURL, Auth                  string
	Username, Password                       string
	TokenURL, ClientID, ClientSecret, Scopes string
	Audience, Headers                        string
	Editing                                  bool
}

func readSiteForm(r *http.Request) *siteForm {
	_ = r.ParseForm()
	t := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	return &siteForm{Name: t("name"), BaseURL: t("baseUrl"), Auth: t("auth"), Username: t("username"), Password: r.PostForm.Get("password"),
		TokenURL: t("tokenUrl"), ClientID: t("clientId"), ClientSecret: r.PostForm.Get("clientSecret"), Scopes: t("scopes"),
		Audience: t("audience"), Headers: r.PostForm.Get("headers")}
}

// fields builds the intent's fields. A blank password or client secret
// on Edit keeps the stored one (the auth is then not sent).
func (f *siteForm) fields() (map[string]any, []jqlgate.FieldError) {
	out := map[string]any{"name": f.Name, "baseUrl": f.BaseURL}
	switch f.Auth {
	case "basic":
		if !f.Editing || f.Password != "" {
			out["basicAuth"] = map[string]any{"username": f.Username, "password": f.Password}
		}
	case "oauth2":
		if !f.Editing || f.ClientSecret != "" {
			o := map[string]any{"tokenUrl": f.TokenURL, "clientId": f.ClientID, "clientSecret": f.ClientSecret}
			if sc := strings.Fields(f.Scopes); len(sc) > 0 {
				o["scopes"] = sc
			}
			if f.Audience != "" {
				o["audience"] = f.Audience
			}
			out["oauth2"] = o
		}
	case "headers":
		h, msg := headerLines(f.Headers)
		if msg != "" {
			return nil, []jqlgate.FieldError{{Field: "headers", Message: msg}}
		}
		out["headers"] = h
	}
	return out, nil
}

func (c *Console) renderSite(q *req, status int, f *siteForm, err error) {
	v := &view{Title: "Trusted site", Nav: "sites", Data: f}
	if err != nil {
		v.Errors, v.Error = fieldErrors(err), jqlgate.AsError(err).Message
	}
	c.render(q, status, "site_form", v)
}

func (c *Console) siteNew(q *req) error {
	c.renderSite(q, http.StatusOK, &siteForm{Auth: "basic"}, nil)
	return nil
}

func (c *Console) siteEdit(q *req) error {
	var s trustedSite
	if _, err := c.run(q, "system.TrustedSite", "getTrustedSite", map[string]any{"id": q.r.PathValue("id")}, &s); err != nil {
		return err
	}
	f := &siteForm{ID: s.ID, Name: s.Name, BaseURL: s.BaseURL, Auth: s.Auth(), Editing: true}
	if s.BasicAuth != nil {
		f.Username = s.BasicAuth.Username
	}
	if o := s.OAuth2; o != nil {
		f.TokenURL, f.ClientID, f.Scopes, f.Audience = o.TokenURL, o.ClientID, strings.Join(o.Scopes, " "), o.Audience
	}
	for _, p := range pairs(s.Headers) {
		f.Headers += p.K + ": " + p.V + "\n"
	}
	c.renderSite(q, http.StatusOK, f, nil)
	return nil
}

func (c *Console) siteCreate(q *req) error { return c.siteSave(q, "") }

func (c *Console) siteUpdate(q *req) error { return c.siteSave(q, q.r.PathValue("id")) }

func (c *Console) siteSave(q *req, id string) error {
	f := readSiteForm(q.r)
	f.ID, f.Editing = id, id != ""
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
	q.redirect(Prefix+"/sites", "Trusted site saved.")
	return nil
}

func (c *Console) siteDelete(q *req) error {
	if _, err := c.run(q, "system.TrustedSite", "deleteTrustedSite", map[string]any{"id": q.r.PathValue("id")}, nil); err != nil {
		return err
	}
	q.redirect(Prefix+"/sites", "Trusted site deleted.")
	return nil
}
