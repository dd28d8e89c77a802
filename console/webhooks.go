package console

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/jqlgate/jqlgate"
)

type webhookListData struct {
	Query      string
	Webhooks   []webhook
	Total      int
	From, To   int
	Prev, Next string
}

// webhookPage is how many webhooks one page of the list shows.
const webhookPage = 50

// webhookList shows the webhooks the user may see, with their health: a
// page of 50 at a time, or, with a search term, those of the first
// maxList that match it.
func (c *Console) webhookList(q *req) error {
	term := q.r.URL.Query().Get("q")
	if term != "" {
		subs, err := c.webhooks(q, term)
		if err != nil {
			return err
		}
		c.render(q, http.StatusOK, "webhooks", &view{Title: "Webhooks", Nav: "webhooks",
			Data: webhookListData{Query: term, Webhooks: subs, Total: len(subs), From: min(1, len(subs)), To: len(subs)}})
		return nil
	}
	offset, _ := strconv.Atoi(q.r.URL.Query().Get("offset"))
	offset = max(0, offset)
	fields := map[string]any{"health": true}
	if q.operator() {
		fields["owner"] = "*"
	}
	var subs []webhook
	res, err := c.run(q, "system.Webhook", "listWebhooks", fields, &subs, page(webhookPage, offset))
	if err != nil {
		return err
	}
	d := webhookListData{Webhooks: subs, Total: res.Filtered, From: offset + min(1, len(subs)), To: offset + len(subs)}
	if offset > 0 {
		d.Prev = "/console/webhooks?offset=" + strconv.Itoa(max(0, offset-webhookPage))
	}
	if offset+len(subs) < res.Filtered {
		d.Next = "/console/webhooks?offset=" + strconv.Itoa(offset+webhookPage)
	}
	c.render(q, http.StatusOK, "webhooks", &view{Title: "Webhooks", Nav: "webhooks", Data: d})
	return nil
}

// formData is what the Add and Edit pages show.
type formData struct {
	Form      *webhookForm
	Catalogue []eventType
	Sites     []trustedSite
	SitesErr  string
	Editing   bool
}

func (c *Console) renderForm(q *req, status int, f *webhookForm, editing bool, err error) {
	d := formData{Form: f, Editing: editing}
	if _, e := c.run(q, "system.Webhook", "listEvents", nil, &d.Catalogue); e != nil {
		c.cfg.Logger.Warn("console: listEvents", "error", e.Error())
	}
	if _, e := c.run(q, "system.TrustedSite", "listTrustedSites", nil, &d.Sites, page(maxList, 0)); e != nil {
		d.SitesErr = jqlgate.AsError(e).Message
		if missing(e) {
			d.SitesErr = "This server has no trusted sites (system.TrustedSite is not available)."
		}
	}
	title := "Add webhook"
	if editing {
		title = "Edit webhook"
	}
	v := &view{Title: title, Nav: "webhooks", Data: d}
	if err != nil {
		v.Errors = fieldErrors(err)
		v.Error = formBanner(err)
	}
	c.render(q, status, "webhook_form", v)
}

// formBanner is the message at the top of a form: the error, plus any
// field problem the form has no place for.
func formBanner(err error) string {
	e := jqlgate.AsError(err)
	msg := e.Message
	if len(e.Fields) > 1 {
		msg = "Please correct the fields marked below."
	}
	for _, f := range e.Fields {
		if !hasField(f.Field) {
			msg += " " + f.Field + ": " + f.Message
		}
	}
	return msg
}

func hasField(name string) bool {
	for _, f := range formFields {
		if name == f || len(name) > len(f) && name[:len(f)+1] == f+"." || len(name) > len(f) && name[:len(f)+1] == f+"[" {
			return true
		}
	}
	return false
}

func (c *Console) webhookNew(q *req) error {
	f := &webhookForm{Method: "POST", ContentType: "application/json", IncludeEntity: true, Enabled: true, Auth: "none", Retry: "default",
		Scheme: "v1", BodySig: "sha256"}
	c.renderForm(q, http.StatusOK, f, false, nil)
	return nil
}

func (c *Console) webhookCreate(q *req) error {
	f := readWebhookForm(q.r)
	fields, errs := f.fields(nil)
	if err := jqlgate.InvalidFields(errs); err != nil {
		c.renderForm(q, http.StatusBadRequest, f, false, err)
		return nil
	}
	var w webhook
	if _, err := c.run(q, "system.Webhook", "subscribeToWebhook", fields, &w); err != nil {
		return c.formFailed(q, f, false, err)
	}
	msg := "Webhook added. Its signing secret is on this page."
	if w.Scheme() == "v1a" {
		msg = "Webhook added. Receivers verify its signatures with the public key on this page."
	}
	q.warn(w.Warnings)
	q.redirect(Prefix+"/webhooks/"+w.ID, msg)
	return nil
}

// formFailed shows a validation problem beside the form's fields; any
// other error is an error page.
func (c *Console) formFailed(q *req, f *webhookForm, editing bool, err error) error {
	e := jqlgate.AsError(err)
	if e.Code != jqlgate.EINVALID && e.Code != jqlgate.ECONFLICT {
		return err
	}
	c.renderForm(q, jqlgate.HTTPStatus(e.Code), f, editing, err)
	return nil
}

func (c *Console) getWebhook(q *req, id string) (*webhook, error) {
	var w webhook
	if _, err := c.run(q, "system.Webhook", "getWebhook", map[string]any{"id": id}, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// notOwner is the answer to an operator editing another owner's webhook,
// which updateWebhook refuses too.
func notOwner(w *webhook) error {
	return jqlgate.Errorf(jqlgate.EFORBIDDEN, "This webhook belongs to %s. Only its owner may change its settings or see its secret; "+
		"operators may view, test, retry, replay, enable and disable it.", w.Owner)
}

func (c *Console) webhookEdit(q *req) error {
	w, err := c.getWebhook(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if w.Owner != "" {
		return notOwner(w)
	}
	c.renderForm(q, http.StatusOK, formOf(w), true, nil)
	return nil
}

func (c *Console) webhookUpdate(q *req) error {
	id := q.r.PathValue("id")
	orig, err := c.getWebhook(q, id)
	if err != nil {
		return err
	}
	if orig.Owner != "" {
		return notOwner(orig)
	}
	f := readWebhookForm(q.r)
	f.ID, f.HasPassword, f.Scheme = id, orig.BasicAuth != nil || orig.OAuth2 != nil, orig.Scheme()
	fields, errs := f.fields(orig)
	if err := jqlgate.InvalidFields(errs); err != nil {
		c.renderForm(q, http.StatusBadRequest, f, true, err)
		return nil
	}
	fields["id"] = id
	var w webhook
	if _, err := c.run(q, "system.Webhook", "updateWebhook", fields, &w); err != nil {
		return c.formFailed(q, f, true, err)
	}
	q.warn(w.Warnings)
	q.redirect(Prefix+"/webhooks/"+id, "Webhook saved.")
	return nil
}

func (c *Console) webhookConfirmDelete(q *req) error {
	w, err := c.getWebhook(q, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "webhook_delete", &view{Title: "Delete webhook", Nav: "webhooks", Data: w})
	return nil
}

func (c *Console) webhookDelete(q *req) error {
	id := q.r.PathValue("id")
	if _, err := c.run(q, "system.Webhook", "unsubscribeFromWebhook", map[string]any{"id": id}, nil); err != nil {
		return err
	}
	q.redirect(Prefix+"/webhooks", "Webhook deleted.")
	return nil
}

func (c *Console) webhookSwitch(intent, done string) handler {
	return func(q *req) error {
		id := q.r.PathValue("id")
		if _, err := c.run(q, "system.Webhook", intent, map[string]any{"id": id}, nil); err != nil {
			return err
		}
		q.redirect(safeNext(q.r.PostFormValue("back")), done)
		return nil
	}
}

// detailData is the webhook page.
type detailData struct {
	W *webhook
	// Operated is another owner's webhook seen by an operator: no secret,
	// no edit.
	Operated  bool
	PublicKey string
	// Site is the trusted site the webhook uses, if any.
	Site      *trustedSite
	Rows      []attempt
	Total     int
	Catalogue []eventType
	Secret    *secretData
	Test      *testResult
	TestEvent string
}

type secretData struct {
	Secret            string `json:"secret"`
	PreviousExpiresAt string `json:"previousExpiresAt"`
	Secrets           []struct {
		CreatedAt string `json:"createdAt"`
		ExpiresAt string `json:"expiresAt"`
	} `json:"secrets"`
}

// testResult is what testWebhook answers: the receiver's response.
type testResult struct {
	Status     string         `json:"status"`
	StatusCode int            `json:"statusCode"`
	Headers    map[string]any `json:"headers"`
	Body       string         `json:"body"`
	DurationMs float64        `json:"durationMs"`
	Error      string         `json:"error"`
	Event      string         `json:"event"`
}

// webhookShow is the webhook page: settings, secret, test, last 100
// deliveries.
func (c *Console) webhookShow(q *req) error {
	d, err := c.detail(q)
	if err != nil {
		return err
	}
	c.renderDetail(q, http.StatusOK, d)
	return nil
}

func (c *Console) detail(q *req) (*detailData, error) {
	w, err := c.getWebhook(q, q.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	// Only operator views name the owner: the webhook is someone else's.
	d := &detailData{W: w, Operated: w.Owner != ""}
	if err := c.detailRows(q, d); err != nil {
		return nil, err
	}
	if w.TrustedSite != "" {
		var s trustedSite
		if _, err := c.run(q, "system.TrustedSite", "getTrustedSite", map[string]any{"id": w.TrustedSite}, &s); err == nil {
			d.Site = &s
		}
	}
	if w.Scheme() == "v1a" && !d.Operated {
		// A v1a webhook's public key is no secret: show it at once.
		var s secretData
		if _, err := c.run(q, "system.Webhook", "getWebhookSecret", map[string]any{"id": w.ID}, &s); err == nil {
			d.PublicKey = s.Secret
		}
	}
	if _, err := c.run(q, "system.Webhook", "listEvents", nil, &d.Catalogue); err != nil {
		c.cfg.Logger.Warn("console: listEvents", "error", err.Error())
	}
	return d, nil
}

// detailRows reads the webhook's last 100 attempts.
func (c *Console) detailRows(q *req, d *detailData) (err error) {
	d.Rows, d.Total, _, err = c.logs(q, logQuery{ID: d.W.ID, Limit: 100})
	c.markLatest(q, d.Rows, true)
	return err
}

func (c *Console) renderDetail(q *req, status int, d *detailData) {
	c.render(q, status, "webhook", &view{Title: "Webhook " + d.W.Prefix, Nav: "webhooks", Data: d})
}

// webhookSecret reveals the signing secret on this response only.
func (c *Console) webhookSecret(q *req) error {
	d, err := c.detail(q)
	if err != nil {
		return err
	}
	d.Secret = &secretData{}
	if _, err := c.run(q, "system.Webhook", "getWebhookSecret", map[string]any{"id": d.W.ID}, d.Secret); err != nil {
		return err
	}
	c.renderDetail(q, http.StatusOK, d)
	return nil
}

// webhookRotate makes a new secret and shows it; the old one keeps
// signing for the grace period chosen.
func (c *Console) webhookRotate(q *req) error {
	d, err := c.detail(q)
	if err != nil {
		return err
	}
	fields := map[string]any{"id": d.W.ID}
	if g := q.r.PostFormValue("expiresInSeconds"); g != "" {
		if _, err := strconv.Atoi(g); err != nil {
			return jqlgate.Invalid("expiresInSeconds", "The grace period must be a whole number of seconds.")
		}
		fields["expiresInSeconds"] = json.Number(g)
	}
	d.Secret = &secretData{}
	if _, err := c.run(q, "system.Webhook", "rotateWebhookSecret", fields, d.Secret); err != nil {
		return err
	}
	if d.W.Scheme() == "v1a" {
		d.PublicKey = d.Secret.Secret
	}
	c.renderDetail(q, http.StatusOK, d)
	return nil
}

// webhookTest sends an example event and shows the receiver's answer.
func (c *Console) webhookTest(q *req) error {
	d, err := c.detail(q)
	if err != nil {
		return err
	}
	fields := map[string]any{"id": d.W.ID}
	if ev := q.r.PostFormValue("trigger"); ev != "" {
		fields["trigger"] = ev
		d.TestEvent = ev
	}
	d.Test = &testResult{}
	if _, err := c.run(q, "system.Webhook", "testWebhook", fields, d.Test); err != nil {
		return err
	}
	// The test attempt is logged: show it in the list too.
	_ = c.detailRows(q, d)
	c.renderDetail(q, http.StatusOK, d)
	return nil
}

// deliveryRetry sends a delivery again now.
func (c *Console) deliveryRetry(q *req) error {
	res, err := c.run(q, "system.Webhook", "retryDelivery", map[string]any{"deliveryId": q.r.PathValue("id")}, nil)
	if err != nil {
		return err
	}
	q.redirect(safeNext(q.r.PostFormValue("back")), messageOr(res, "Delivery queued again."))
	return nil
}

// eventReplay sends an event again to each subscription it went to.
func (c *Console) eventReplay(q *req) error {
	res, err := c.run(q, "system.Webhook", "replayEvent", map[string]any{"eventId": q.r.PathValue("id")}, nil)
	if err != nil {
		return err
	}
	q.redirect(safeNext(q.r.PostFormValue("back")), messageOr(res, "Event replayed."))
	return nil
}

func messageOr(res *jqlgate.Result, def string) string {
	if res != nil && res.Message != "" {
		return res.Message
	}
	return def
}
