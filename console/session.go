package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/sessions"

	"github.com/jqlgate/jqlgate"
)

const sessionName = "jqlgate_console"

// newSessionStore keeps the session in a cookie signed and encrypted with
// keys derived from the master secret (gorilla/securecookie). The cookie's
// timestamp is checked against the idle timeout and renewed on every
// request, so a session left alone that long is gone.
func newSessionStore(hashKey, blockKey []byte, secure bool, idle time.Duration) *sessions.CookieStore {
	s := sessions.NewCookieStore(hashKey, blockKey)
	s.MaxAge(int(idle.Seconds()))
	s.Options.Path = Prefix
	s.Options.HttpOnly = true
	s.Options.Secure = secure
	s.Options.SameSite = http.SameSiteStrictMode
	return s
}

// req is one console request: who sends it and their session.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	p    *jqlgate.Principal
	sess *sessions.Session
	// user is the signed-in username, for the header.
	user string
}

// csrf returns the session's form token, making one if it has none.
func (q *req) csrf() string {
	if t, ok := q.sess.Values["csrf"].(string); ok && t != "" {
		return t
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	q.sess.Values["csrf"] = t
	return t
}

// checkCSRF reports whether a form carries the session's token.
func (q *req) checkCSRF() bool {
	want, _ := q.sess.Values["csrf"].(string)
	got := q.r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// session loads the request's session; a cookie that does not decode
// (tampered, expired, another key) starts a new one.
func (c *Console) session(w http.ResponseWriter, r *http.Request) *req {
	s, err := c.sessions.Get(r, sessionName)
	if err != nil {
		s, _ = c.sessions.New(r, sessionName)
	}
	return &req{w: w, r: r, sess: s}
}

func (q *req) save() {
	_ = q.sess.Save(q.r, q.w)
}

// handler is a console page or action run for a signed-in user.
type handler func(q *req) error

// auth wraps h: no session, or a token the server no longer accepts,
// sends the browser to sign in; a POST without the session's form token
// is refused. The session is saved on every request, which renews its
// idle timeout.
func (c *Console) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := c.session(w, r)
		token, _ := q.sess.Values["token"].(string)
		if token == "" {
			c.toSignIn(q)
			return
		}
		p, err := c.cfg.Authenticate(r.Context(), jqlgate.AuthJWT, token)
		if err != nil || p == nil {
			q.sess.Options.MaxAge = -1
			q.save()
			c.toSignIn(q)
			return
		}
		q.p = p
		q.user, _ = q.sess.Values["user"].(string)
		if c.cfg.RateLimit != nil {
			if err := c.cfg.RateLimit(p.Owner()); err != nil {
				if e := jqlgate.AsError(err); e.RetryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(e.RetryAfter.Seconds())))))
				}
				c.renderError(q, err)
				return
			}
		}
		if r.Method == http.MethodPost && !q.checkCSRF() {
			c.fail(q, http.StatusForbidden, "The form has expired or did not come from this console; reload the page and try again.")
			return
		}
		q.csrf()
		q.save()
		if err := h(q); err != nil {
			c.renderError(q, err)
		}
	}
}

func (c *Console) toSignIn(q *req) {
	next := q.r.URL.RequestURI()
	if q.r.Method != http.MethodGet {
		next = Prefix + "/"
	}
	http.Redirect(q.w, q.r, Prefix+"/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
}
