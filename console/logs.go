package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const logPage = 50

// maxList is the most webhooks or sites one page lists (the API allows 500).
const maxList = 500

type logsData struct {
	Filter   logFilter
	Rows     []attempt
	Total    int
	Offset   int
	More     bool
	Prev     string
	Next     string
	Poll     string
	Webhooks []webhook
	Back     string
}

// logFilter is the Logs page's filter form, as in its URL.
type logFilter struct {
	Status, Event, Webhook, Customer, Since, Until string
}

func readLogFilter(v url.Values) logFilter {
	t := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return logFilter{Status: t("status"), Event: t("event"), Webhook: t("webhook"), Customer: t("customer"), Since: t("since"), Until: t("until")}
}

// rfc3339 accepts the browser's datetime-local value (taken as UTC) or
// RFC 3339.
func rfc3339(s string) string {
	if s == "" {
		return ""
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

func (f logFilter) query(offset int) logQuery {
	return logQuery{Sub: f.Webhook, Status: f.Status, Event: f.Event, Entity: f.Customer,
		Since: rfc3339(f.Since), Until: rfc3339(f.Until), Limit: logPage, Offset: offset}
}

func (f logFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "event": f.Event, "webhook": f.Webhook, "customer": f.Customer, "since": f.Since, "until": f.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// logsPage is the account-wide delivery log (every owner's for operators).
func (c *Console) logsPage(q *req) error {
	d, err := c.logsData(q)
	if err != nil {
		return err
	}
	if subs, err := c.webhooks(q, ""); err == nil {
		d.Webhooks = subs
	}
	c.render(q, http.StatusOK, "logs", &view{Title: "Logs", Nav: "logs", Data: d})
	return nil
}

// logRows is the Logs table alone, which the page polls for new rows.
func (c *Console) logRows(q *req) error {
	d, err := c.logsData(q)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "frag_logrows", &view{Data: d})
	return nil
}

func (c *Console) logsData(q *req) (*logsData, error) {
	v := q.r.URL.Query()
	f := readLogFilter(v)
	offset, _ := strconv.Atoi(v.Get("offset"))
	offset = max(0, offset)
	rows, total, more, err := c.logs(q, f.query(offset))
	if err != nil {
		return nil, err
	}
	// A status or time filter can hide a delivery's later attempts, and
	// a later page's rows may have newer attempts on an earlier one.
	c.markLatest(q, rows, offset == 0 && f.Status == "" && f.Since == "" && f.Until == "")
	d := &logsData{Filter: f, Rows: rows, Total: total, Offset: offset, More: more, Back: q.r.URL.RequestURI()}
	qs := f.values()
	if offset > 0 {
		qs.Set("offset", strconv.Itoa(max(0, offset-logPage)))
		d.Prev = Prefix + "/logs?" + qs.Encode()
	}
	if more {
		qs.Set("offset", strconv.Itoa(offset+logPage))
		d.Next = Prefix + "/logs?" + qs.Encode()
	}
	// Only the first page gains rows as deliveries happen.
	if offset == 0 {
		qs.Del("offset")
		d.Poll = Prefix + "/logs/rows?" + qs.Encode()
	}
	d.Back = safeNext(Prefix + "/logs?" + f.values().Encode())
	return d, nil
}
