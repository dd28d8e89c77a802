package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page: the layout, the shared
// pieces and the page's own file.
type pages struct{ byName map[string]*template.Template }

func parsePages() (*pages, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base := template.New("").Funcs(funcs)
	if _, err := base.ParseFS(templateFS, "templates/layout.html", "templates/parts.html"); err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, f); err != nil {
			return nil, fmt.Errorf("console template %s: %w", f, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template gets: the layout's data and the
// page's own in Data.
type view struct {
	Title    string
	Nav      string
	User     string
	Operator bool
	// Own is the signed-in user's owner key (user:<id>), which operator
	// views show as "you".
	Own      string
	CSRF     string
	Flash    string
	Warnings []string
	Error    string
	Errors   map[string]string
	Data     any
}

// render writes page name with the layout; fragment pages (name starting
// with "frag_") are written without it.
func (c *Console) render(q *req, status int, name string, v *view) {
	t := c.pages.byName[name]
	if t == nil {
		c.cfg.Logger.Error("console: no template", "name", name)
		http.Error(q.w, "no such page", http.StatusInternalServerError)
		return
	}
	if q.p != nil {
		v.User = q.user
		v.Operator, v.Own = q.p.CanOperate(), q.p.Owner()
		v.CSRF = q.csrf()
	}
	if f, ok := q.sess.Values["flash"].(string); ok && f != "" {
		v.Flash = f
		delete(q.sess.Values, "flash")
		q.save()
	}
	if w, ok := q.sess.Values["warnings"].(string); ok && w != "" {
		v.Warnings = strings.Split(w, "\n")
		delete(q.sess.Values, "warnings")
		q.save()
	}
	root := "layout"
	if strings.HasPrefix(name, "frag_") {
		root = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, root, v); err != nil {
		c.cfg.Logger.Error("console: render", "page", name, "error", err.Error())
		http.Error(q.w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	_, _ = q.w.Write(buf.Bytes())
}

// renderError shows a handler error as a page with the right status.
// Internal details never reach the page.
func (c *Console) renderError(q *req, err error) {
	e := jqlgate.AsError(err)
	if e.Code == jqlgate.EINTERNAL || e.Code == jqlgate.EUNAVAILABLE {
		c.cfg.Logger.ErrorContext(q.r.Context(), "console", "path", q.r.URL.Path, "error", err.Error())
	}
	c.fail(q, jqlgate.HTTPStatus(e.Code), e.Message)
}

func (c *Console) fail(q *req, status int, msg string) {
	title := http.StatusText(status)
	c.render(q, status, "error", &view{Title: title, Error: msg, Data: status})
}

// warn keeps warnings for the next page, beside its message.
func (q *req) warn(warnings []string) {
	if len(warnings) > 0 {
		q.sess.Values["warnings"] = strings.Join(warnings, "\n")
	}
}

// redirect ends an action: a message for the next page, then a 303 to it.
func (q *req) redirect(to, flash string) {
	if flash != "" {
		q.sess.Values["flash"] = flash
		q.save()
	}
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"when":        when,
	"statusClass": statusClass,
	"failing":     failing,
	"ago":         ago,
	"pretty":      pretty,
	"recordURL":   recordURL,
	"pairs":       pairs,
	"lower":       strings.ToLower,
	"join":        strings.Join,
	"query":       func(k, v string) string { return url.QueryEscape(k) + "=" + url.QueryEscape(v) },
	"pct": func(n, total int) int {
		if total == 0 {
			return 0
		}
		return n * 100 / total
	},
	"add":   func(a, b int) int { return a + b },
	"err":   fieldError,
	"list":  func(s ...string) []string { return s },
	"field": func(m map[string]any, k string) any { return m[k] },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"str": func(v any) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	},
}

// when formats an RFC 3339 time for a table; anything else is shown as is.
func when(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// ago says how long ago (or how soon) an RFC 3339 time is.
func ago(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	d := time.Since(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s" + suffix
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m" + suffix
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h" + suffix
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d" + suffix
}

// pretty indents JSON text, or JSON-encodes any other value; the result
// is plain text for a <pre>, escaped by the template like any other.
func pretty(v any) string {
	if s, ok := v.(string); ok {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(s), "", "  ") == nil {
			return buf.String()
		}
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// recordURL is the console page of an event's record.
func recordURL(event, id string) string {
	ns, _, _ := strings.Cut(event, ":")
	if ns == "" || id == "" || !jqlgate.ValidNamespace(ns) {
		return ""
	}
	return Prefix + "/records/" + url.PathEscape(ns) + "/" + url.PathEscape(id)
}

// pair is one header, for a sorted table.
type pair struct{ K, V string }

func pairs(m map[string]any) []pair {
	out := make([]pair, 0, len(m))
	for k, v := range m {
		out = append(out, pair{k, fmt.Sprint(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// fieldError is the message for a form field: an error on the field
// itself or on any part of it (basicAuth.password for basicAuth).
func fieldError(errs map[string]string, names ...string) string {
	for _, n := range names {
		if m, ok := errs[n]; ok {
			return m
		}
	}
	for _, n := range names {
		for k, m := range errs {
			if strings.HasPrefix(k, n+".") || strings.HasPrefix(k, n+"[") {
				return k + ": " + m
			}
		}
	}
	return ""
}
