package console

import (
	"net/http"
	"strconv"
)

type queueData struct {
	Rows   []queued
	Total  int
	Offset int
	Prev   string
	Next   string
}

// queue lists unfinished deliveries (Queued and Resent) with Retry now.
func (c *Console) queuePage(q *req) error {
	offset, _ := strconv.Atoi(q.r.URL.Query().Get("offset"))
	offset = max(0, offset)
	rows, total, more, err := c.queue(q, logQuery{Sub: q.r.URL.Query().Get("webhook"), Limit: logPage, Offset: offset})
	if err != nil {
		return err
	}
	d := queueData{Rows: rows, Total: total, Offset: offset}
	if offset > 0 {
		d.Prev = Prefix + "/queue?offset=" + strconv.Itoa(max(0, offset-logPage))
	}
	if more {
		d.Next = Prefix + "/queue?offset=" + strconv.Itoa(offset+logPage)
	}
	c.render(q, http.StatusOK, "queue", &view{Title: "Queue", Nav: "queue", Data: d})
	return nil
}
