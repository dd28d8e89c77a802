package console

import "net/http"

// eventsPage is the event catalogue with example payloads.
func (c *Console) eventsPage(q *req) error {
	var list []eventType
	if _, err := c.run(q, "system.Webhook", "listEvents", nil, &list); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "events", &view{Title: "Events", Nav: "events", Data: list})
	return nil
}
