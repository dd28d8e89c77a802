package console

import (
	"net/http"
	"time"
)

// statuses are the delivery statuses, in the order the chart shows them.
var statuses = []string{"Done", "Resent", "Failed", "Queued"}

type bar struct {
	Status string
	Count  int
}

type overviewData struct {
	Bars          []bar
	Max, Total    int
	Failing       []webhook
	Disabled      []webhook
	QueueDepth    int
	OldestPending string
	Webhooks      int
	Since         string
	ChartErr      string
}

// overview shows the last day's deliveries by status, the webhooks that
// fail or are off, and the queue.
func (c *Console) overview(q *req) error {
	since := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	d := overviewData{Since: since}
	for _, s := range statuses {
		_, n, _, err := c.logs(q, logQuery{Status: s, Since: since, Limit: 1})
		if err != nil {
			return err
		}
		d.Bars = append(d.Bars, bar{s, n})
		d.Total += n
		d.Max = max(d.Max, n)
	}
	subs, err := c.webhooks(q, "")
	if err != nil {
		return err
	}
	d.Webhooks = len(subs)
	for _, s := range subs {
		switch {
		case !s.Enabled:
			d.Disabled = append(d.Disabled, s)
		case s.Health != nil && s.Health.FailuresInRow > 0:
			d.Failing = append(d.Failing, s)
		}
	}
	_, depth, _, err := c.queue(q, logQuery{Limit: 1})
	if err != nil {
		return err
	}
	d.QueueDepth = depth
	if depth > 0 {
		// The queue is newest first: its last entry is the oldest.
		if rows, _, _, err := c.queue(q, logQuery{Limit: 1, Offset: depth - 1}); err == nil && len(rows) > 0 {
			d.OldestPending = rows[0].Since()
		}
	}
	c.render(q, http.StatusOK, "overview", &view{Title: "Overview", Nav: "overview", Data: d})
	return nil
}
