package console

import (
	"io/fs"
	"net/http"
)

// routes is the console's whole route table.
func (c *Console) routes() http.Handler {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET "+Prefix+"/signin", c.showSignIn)
	m.HandleFunc("POST "+Prefix+"/signin", c.signIn)
	m.HandleFunc("POST "+Prefix+"/signout", c.signOut)

	m.HandleFunc("GET "+Prefix+"/{$}", c.auth(c.overview))

	m.HandleFunc("GET "+Prefix+"/webhooks", c.auth(c.webhookList))
	m.HandleFunc("GET "+Prefix+"/webhooks/new", c.auth(c.webhookNew))
	m.HandleFunc("POST "+Prefix+"/webhooks", c.auth(c.webhookCreate))
	m.HandleFunc("GET "+Prefix+"/webhooks/{id}", c.auth(c.webhookShow))
	m.HandleFunc("GET "+Prefix+"/webhooks/{id}/edit", c.auth(c.webhookEdit))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}", c.auth(c.webhookUpdate))
	m.HandleFunc("GET "+Prefix+"/webhooks/{id}/delete", c.auth(c.webhookConfirmDelete))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}/delete", c.auth(c.webhookDelete))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}/enable", c.auth(c.webhookSwitch("enableWebhook", "Webhook enabled.")))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}/disable", c.auth(c.webhookSwitch("disableWebhook", "Webhook disabled.")))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}/secret", c.auth(c.webhookSecret))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}/rotate", c.auth(c.webhookRotate))
	m.HandleFunc("POST "+Prefix+"/webhooks/{id}/test", c.auth(c.webhookTest))
	m.HandleFunc("POST "+Prefix+"/deliveries/{id}/retry", c.auth(c.deliveryRetry))
	m.HandleFunc("POST "+Prefix+"/events/{id}/replay", c.auth(c.eventReplay))

	m.HandleFunc("GET "+Prefix+"/logs", c.auth(c.logsPage))
	m.HandleFunc("GET "+Prefix+"/logs/rows", c.auth(c.logRows))
	m.HandleFunc("GET "+Prefix+"/queue", c.auth(c.queuePage))
	m.HandleFunc("GET "+Prefix+"/events", c.auth(c.eventsPage))

	m.HandleFunc("GET "+Prefix+"/records", c.auth(c.recordSpaces))
	m.HandleFunc("GET "+Prefix+"/records/{ns}", c.auth(c.recordList))
	m.HandleFunc("GET "+Prefix+"/records/{ns}/{id}", c.auth(c.recordShow))

	m.HandleFunc("GET "+Prefix+"/sites", c.auth(c.siteList))
	m.HandleFunc("GET "+Prefix+"/sites/new", c.auth(c.siteNew))
	m.HandleFunc("POST "+Prefix+"/sites", c.auth(c.siteCreate))
	m.HandleFunc("GET "+Prefix+"/sites/{id}/edit", c.auth(c.siteEdit))
	m.HandleFunc("POST "+Prefix+"/sites/{id}", c.auth(c.siteUpdate))
	m.HandleFunc("POST "+Prefix+"/sites/{id}/delete", c.auth(c.siteDelete))

	m.HandleFunc(Prefix+"/", c.notFound)
	return http.NewCrossOriginProtection().Handler(m)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	q := c.session(w, r)
	c.fail(q, http.StatusNotFound, "There is no such page.")
}
