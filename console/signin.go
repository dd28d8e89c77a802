package console

import (
	"net/http"
	"strings"

	"github.com/jqlgate/jqlgate"
)

type signInData struct {
	Username string
	Next     string
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request) {
	q := c.session(w, r)
	q.csrf()
	q.save()
	c.renderSignIn(q, http.StatusOK, &view{}, "", safeNext(r.URL.Query().Get("next")))
}

func (c *Console) renderSignIn(q *req, status int, v *view, username, next string) {
	v.Title, v.CSRF = "Sign in", q.csrf()
	v.Data = signInData{Username: username, Next: next}
	c.render(q, status, "signin", v)
}

// signIn runs system.User authenticate (with its login throttling) and
// keeps the token it returns in the session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	q := c.session(w, r)
	username, next := strings.TrimSpace(r.PostFormValue("username")), safeNext(r.PostFormValue("next"))
	if !q.checkCSRF() {
		q.csrf()
		q.save()
		c.renderSignIn(q, http.StatusForbidden, &view{Error: "The form has expired; please sign in again."}, username, next)
		return
	}
	fields := map[string]any{"username": username, "password": r.PostFormValue("password")}
	res, err := c.call(r.Context(), nil, jqlgate.Meta{Namespace: "system.User", Intent: "authenticate"}, fields)
	token := ""
	if err == nil {
		if d, ok := res.Data.(map[string]any); ok {
			token, _ = d["token"].(string)
		}
	}
	if err != nil || token == "" {
		e := jqlgate.AsError(err)
		msg := "Wrong username or password."
		if e.Code != jqlgate.EUNAUTHORIZED && err != nil {
			msg = e.Message
		}
		c.renderSignIn(q, jqlgate.HTTPStatus(e.Code), &view{Error: msg, Errors: fieldErrors(err)}, username, next)
		return
	}
	q.sess.Values = map[any]any{"token": token, "user": username}
	q.csrf()
	q.save()
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session on the server, not only in the browser: the
// user's session version moves, so the token the cookie holds (and any
// copy of the cookie) is refused from then on. If the server can't end it,
// the user stays signed in and is told so.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	q := c.session(w, r)
	if !q.checkCSRF() {
		c.fail(q, http.StatusForbidden, "The form has expired; reload the page and try again.")
		return
	}
	if token, _ := q.sess.Values["token"].(string); token != "" && c.cfg.SignOut != nil {
		if p, err := c.cfg.Authenticate(r.Context(), jqlgate.AuthJWT, token); err == nil && p != nil {
			if err := c.cfg.SignOut(r.Context(), p); err != nil {
				c.cfg.Logger.ErrorContext(r.Context(), "console sign-out", "user", p.ID, "error", err.Error())
				c.fail(q, http.StatusServiceUnavailable, "Signing out failed on the server; try again.")
				return
			}
		}
	}
	q.sess.Values = map[any]any{}
	q.sess.Options.MaxAge = -1
	q.save()
	http.Redirect(w, r, Prefix+"/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect target inside the console.
func safeNext(s string) string {
	if !strings.HasPrefix(s, Prefix+"/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return Prefix + "/"
	}
	return s
}
