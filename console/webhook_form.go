package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// webhookForm is the Add and Edit form, as posted.
type webhookForm struct {
	ID, Prefix, URL, Method, ContentType string
	All                                  bool
	Events                               []string
	Pattern                              string
	IncludeEntity, Enabled, Ordered      bool
	Headers                              string
	Auth, Username, Password, Site       string
	TokenURL, ClientID, ClientSecret     string
	Scopes, Audience                     string
	HasPassword                          bool
	Retry, Schedule                      string
	Filter, Metadata                     string
	RateLimit, MaxInFlight, Timeout      string
	// Scheme (v1 or v1a) and Secret are chosen when adding; rotating the
	// secret changes them later.
	Scheme, Secret         string
	BodySigHeader, BodySig string
}

// Chosen reports whether an event is ticked.
func (f webhookForm) Chosen(name string) bool { return slices.Contains(f.Events, name) }

// formFields are the fields the form shows errors beside; an error on
// any other field is listed at the top.
var formFields = []string{"prefix", "webhookUrl", "method", "contentType", "trigger", "triggers", "includeEntity", "enabled",
	"headers", "basicAuth", "oauth2", "trustedSite", "retryPolicy", "ordered", "filter", "rateLimitPerSecond", "maxInFlight", "timeoutSeconds", "metadata",
	"signatureScheme", "secret", "bodySignature"}

// formOf fills the form from a stored webhook, for Edit.
func formOf(w *webhook) *webhookForm {
	f := &webhookForm{ID: w.ID, Prefix: w.Prefix, URL: w.WebhookURL, Method: w.Method, ContentType: w.ContentType,
		IncludeEntity: w.IncludeEntity, Enabled: w.Enabled, Ordered: w.Ordered, Auth: "none", Retry: "default", Site: w.TrustedSite,
		Scheme: w.Scheme(), BodySig: "sha256"}
	if b := w.BodySignature; b != nil {
		f.BodySigHeader, f.BodySig = b.Header, b.Algorithm
	}
	for _, ev := range w.Events() {
		switch {
		case ev == "*":
			f.All = true
		case strings.HasSuffix(ev, ":*"):
			f.Pattern = strings.TrimSpace(f.Pattern + " " + ev)
		default:
			f.Events = append(f.Events, ev)
		}
	}
	names := make([]string, 0, len(w.Headers))
	for k := range w.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		f.Headers += k + ": " + w.Headers[k] + "\n"
	}
	switch {
	case w.TrustedSite != "":
		f.Auth = "site"
	case w.BasicAuth != nil:
		f.Auth, f.Username, f.HasPassword = "basic", w.BasicAuth.Username, true
	case w.OAuth2 != nil:
		o := w.OAuth2
		f.Auth, f.TokenURL, f.ClientID, f.Scopes, f.Audience, f.HasPassword = "oauth2", o.TokenURL, o.ClientID, strings.Join(o.Scopes, " "), o.Audience, true
	}
	switch p := w.RetryPolicy; {
	case p.Preset == "antavo":
		f.Retry = "antavo"
	case p.Preset == "" && len(p.Schedule) > 0:
		f.Retry = "custom"
		parts := make([]string, len(p.Schedule))
		for i, s := range p.Schedule {
			parts[i] = strconv.FormatFloat(s, 'f', -1, 64)
		}
		f.Schedule = strings.Join(parts, ", ")
	}
	f.Filter, f.Metadata = jsonText(w.Filter), jsonText(w.Metadata)
	if w.RateLimitPerSecond > 0 {
		f.RateLimit = strconv.FormatFloat(w.RateLimitPerSecond, 'f', -1, 64)
	}
	f.MaxInFlight, f.Timeout = itoa(w.MaxInFlight), itoa(w.TimeoutSeconds)
	return f
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func jsonText(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return string(b)
}

// readWebhookForm reads the posted form.
func readWebhookForm(r *http.Request) *webhookForm {
	_ = r.ParseForm()
	v := r.PostForm
	t := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return &webhookForm{Prefix: t("prefix"), URL: t("webhookUrl"), Method: t("method"), ContentType: t("contentType"),
		All: v.Get("all") == "on", Events: v["event"], Pattern: t("pattern"),
		IncludeEntity: v.Get("includeEntity") == "on", Enabled: v.Get("enabled") == "on", Ordered: v.Get("ordered") == "on",
		Headers: v.Get("headers"), Auth: t("auth"), Username: t("username"), Password: v.Get("password"), Site: t("trustedSite"),
		TokenURL: t("tokenUrl"), ClientID: t("clientId"), ClientSecret: v.Get("clientSecret"), Scopes: t("scopes"), Audience: t("audience"),
		Retry: t("retry"), Schedule: t("schedule"), Filter: t("filter"), Metadata: t("metadata"),
		RateLimit: t("rateLimitPerSecond"), MaxInFlight: t("maxInFlight"), Timeout: t("timeoutSeconds"),
		Scheme: t("signatureScheme"), Secret: t("secret"), BodySigHeader: t("bodySignatureHeader"), BodySig: t("bodySignatureAlgorithm")}
}

// fields turns the form into the intent's fields. It only parses what
// the form's own widgets need (JSON, header lines, numbers); every rule
// about the values is the handler's. orig is the webhook being edited.
func (f *webhookForm) fields(orig *webhook) (map[string]any, []jqlgate.FieldError) {
	var errs []jqlgate.FieldError
	bad := func(field, msg string) { errs = append(errs, jqlgate.FieldError{Field: field, Message: msg}) }
	out := map[string]any{"prefix": f.Prefix, "webhookUrl": f.URL, "method": orNil(f.Method), "contentType": orNil(f.ContentType),
		"includeEntity": f.IncludeEntity, "enabled": f.Enabled, "ordered": f.Ordered}
	triggers := f.triggers()
	switch len(triggers) {
	case 0:
		bad("trigger", "Choose at least one event, or All events.")
	case 1:
		out["trigger"] = triggers[0]
	default:
		out["triggers"] = anyList(triggers)
	}
	if h, err := headerLines(f.Headers); err != "" {
		bad("headers", err)
	} else if len(h) > 0 || orig != nil {
		out["headers"] = h
	}
	f.authFields(out, orig)
	f.signingFields(out, orig)
	if p, msg := f.retryPolicy(); msg != "" {
		bad("retryPolicy", msg)
	} else {
		out["retryPolicy"] = p
	}
	for _, j := range []struct{ name, text string }{{"filter", f.Filter}, {"metadata", f.Metadata}} {
		if v, msg := jsonObject(j.text); msg != "" {
			bad(j.name, msg)
		} else if v != nil || orig != nil {
			out[j.name] = v
		}
	}
	for _, n := range []struct{ name, text string }{{"rateLimitPerSecond", f.RateLimit}, {"maxInFlight", f.MaxInFlight}, {"timeoutSeconds", f.Timeout}} {
		if n.text == "" {
			if orig != nil {
				out[n.name] = nil
			}
			continue
		}
		if _, err := strconv.ParseFloat(n.text, 64); err != nil {
			bad(n.name, "Enter a number.")
			continue
		}
		out[n.name] = json.Number(n.text)
	}
	return out, errs
}

// anyList is s as a decoded JSON list, which is what the handlers read.
func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *webhookForm) triggers() []string {
	if f.All {
		return []string{"*"}
	}
	out := slices.Clone(f.Events)
	for _, p := range strings.FieldsFunc(f.Pattern, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// authFields sets basicAuth and trustedSite. Editing with the password
// left blank keeps the stored one (the API never shows it).
func (f *webhookForm) authFields(out map[string]any, orig *webhook) {
	if f.Auth != "oauth2" && orig != nil && orig.OAuth2 != nil {
		out["oauth2"] = nil
	}
	switch f.Auth {
	case "oauth2":
		keep := orig != nil && orig.OAuth2 != nil && orig.OAuth2.ClientID == f.ClientID && orig.OAuth2.TokenURL == f.TokenURL &&
			f.ClientSecret == "" && orig.OAuth2.Audience == f.Audience && strings.Join(orig.OAuth2.Scopes, " ") == f.Scopes
		if !keep {
			o := map[string]any{"tokenUrl": f.TokenURL, "clientId": f.ClientID, "clientSecret": f.ClientSecret}
			if sc := strings.Fields(f.Scopes); len(sc) > 0 {
				o["scopes"] = anyList(sc)
			}
			if f.Audience != "" {
				o["audience"] = f.Audience
			}
			out["oauth2"] = o
		}
		if orig != nil && orig.BasicAuth != nil {
			out["basicAuth"] = nil
		}
		if orig != nil && orig.TrustedSite != "" {
			out["trustedSite"] = nil
		}
	case "basic":
		keep := orig != nil && orig.BasicAuth != nil && orig.BasicAuth.Username == f.Username && f.Password == ""
		if !keep {
			out["basicAuth"] = map[string]any{"username": f.Username, "password": f.Password}
		}
		if orig != nil && orig.TrustedSite != "" {
			out["trustedSite"] = nil
		}
	case "site":
		out["trustedSite"] = f.Site
		if orig != nil && orig.BasicAuth != nil {
			out["basicAuth"] = nil
		}
	default:
		if orig != nil && orig.BasicAuth != nil {
			out["basicAuth"] = nil
		}
		if orig != nil && orig.TrustedSite != "" {
			out["trustedSite"] = nil
		}
	}
}

// signingFields sets the signature scheme and own secret (adding only)
// and the optional body signature header.
func (f *webhookForm) signingFields(out map[string]any, orig *webhook) {
	if orig == nil {
		if f.Scheme != "" {
			out["signatureScheme"] = f.Scheme
		}
		if f.Secret != "" {
			out["secret"] = f.Secret
		}
	}
	switch {
	case f.BodySigHeader != "":
		b := map[string]any{"header": f.BodySigHeader}
		if f.BodySig != "" {
			b["algorithm"] = f.BodySig
		}
		out["bodySignature"] = b
	case orig != nil && orig.BodySignature != nil:
		out["bodySignature"] = nil
	}
}

func (f *webhookForm) retryPolicy() (map[string]any, string) {
	switch f.Retry {
	case "antavo":
		return map[string]any{"preset": "antavo"}, ""
	case "custom":
		var secs []any
		for _, p := range strings.FieldsFunc(f.Schedule, func(r rune) bool { return r == ',' || r == ' ' }) {
			if _, err := strconv.ParseFloat(p, 64); err != nil {
				return nil, "Write the schedule as seconds before each retry, separated by commas (5, 60, 300)."
			}
			secs = append(secs, json.Number(p))
		}
		if secs == nil {
			secs = []any{}
		}
		return map[string]any{"schedule": secs}, ""
	}
	return map[string]any{"preset": "default"}, ""
}

// headerLines reads "Name: value" lines.
func headerLines(s string) (map[string]any, string) {
	h := map[string]any{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, "Write one header a line, as Name: value."
		}
		h[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return h, ""
}

// jsonObject reads a JSON object; blank is nil.
func jsonObject(s string) (map[string]any, string) {
	if strings.TrimSpace(s) == "" {
		return nil, ""
	}
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, "Enter a JSON object, such as {\"status\": \"active\"}."
	}
	return m, ""
}
