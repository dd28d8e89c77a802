package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/jqlgate/jqlgate"
)

type namespaceInfo struct {
	Namespace string `json:"namespace"`
	Schema    string `json:"schema"`
	Intents   []struct {
		Intent string `json:"intent"`
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
	} `json:"intents"`
}

// columns are the fields a model's create intent takes, for the table.
func (n *namespaceInfo) columns() []string {
	for _, in := range n.Intents {
		if in.Intent == "create" {
			var cols []string
			for _, f := range in.Fields {
				cols = append(cols, f.Name)
			}
			return cols
		}
	}
	return nil
}

// models lists the model namespaces (system.Schema describe).
func (c *Console) models(q *req) ([]namespaceInfo, error) {
	var all []namespaceInfo
	if _, err := c.run(q, "system.Schema", "describe", nil, &all); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(n namespaceInfo) bool { return n.Schema != jqlgate.SchemaModel }), nil
}

func (c *Console) recordSpaces(q *req) error {
	spaces, err := c.models(q)
	if err != nil {
		return err
	}
	if len(spaces) > 0 {
		q.redirect(Prefix+"/records/"+spaces[0].Namespace, "")
		return nil
	}
	c.render(q, http.StatusOK, "records", &view{Title: "Records", Nav: "records", Data: recordsData{}})
	return nil
}

type recordsData struct {
	Spaces    []namespaceInfo
	Namespace string
	Columns   []string
	Rows      []map[string]any
	Query     string
	Total     int
	Prev      string
	Next      string
}

// recordList lists and searches one model namespace.
func (c *Console) recordList(q *req) error {
	ns := q.r.PathValue("ns")
	spaces, err := c.models(q)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(spaces, func(n namespaceInfo) bool { return n.Namespace == ns })
	if i < 0 {
		return jqlgate.Errorf(jqlgate.ENOTFOUND, "There is no model namespace %s.", ns)
	}
	term := q.r.URL.Query().Get("q")
	offset, _ := strconv.Atoi(q.r.URL.Query().Get("offset"))
	offset = max(0, offset)
	d := recordsData{Spaces: spaces, Namespace: ns, Columns: append([]string{"id"}, spaces[i].columns()...), Query: term}
	res, err := c.run(q, ns, "retrieve", nil, &d.Rows, page(logPage, offset), search(term))
	if err != nil {
		return err
	}
	d.Total = res.Filtered
	base := Prefix + "/records/" + url.PathEscape(ns) + "?q=" + url.QueryEscape(term) + "&offset="
	if offset > 0 {
		d.Prev = base + strconv.Itoa(max(0, offset-logPage))
	}
	if offset+len(d.Rows) < d.Total {
		d.Next = base + strconv.Itoa(offset+logPage)
	}
	c.render(q, http.StatusOK, "records", &view{Title: ns, Nav: "records", Data: d})
	return nil
}

type recordData struct {
	Namespace string
	ID        string
	Record    map[string]any
	Rows      []attempt
	Total     int
	Back      string
}

// recordShow is one record with its recent events and their deliveries.
func (c *Console) recordShow(q *req) error {
	ns, id := q.r.PathValue("ns"), q.r.PathValue("id")
	if !jqlgate.ValidNamespace(ns) {
		return jqlgate.Errorf(jqlgate.ENOTFOUND, "There is no model namespace %s.", ns)
	}
	d := recordData{Namespace: ns, ID: id, Back: q.r.URL.RequestURI()}
	_, err := c.run(q, ns, "retrieve", nil, &d.Record, func(m *jqlgate.Meta) { m.UniqueObject = map[string]any{"id": id} })
	if err != nil {
		return err
	}
	if d.Rows, d.Total, _, err = c.logs(q, logQuery{Entity: id, Limit: 100}); err != nil {
		c.cfg.Logger.Warn("console: record deliveries", "error", err.Error())
	}
	c.markLatest(q, d.Rows, true)
	c.render(q, http.StatusOK, "record", &view{Title: ns + " " + id, Nav: "records", Data: d})
	return nil
}
