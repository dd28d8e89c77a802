package auth

import (
	"net/http"
	"time"
)

// revoke serves POST /oauth2/revoke (RFC 7009): a client authenticated as
// at the token endpoint revokes one of its own access tokens. The token is
// refused from then on by every process sharing the store (within its
// Principals poll, at once in this one), across restarts, until it
// expires. A token that is not valid (malformed, expired, not one of this
// server's access tokens, already revoked) is answered 200 too, as §2.2
// asks: there is nothing left to revoke. token_type_hint is only a hint;
// access tokens are the only ones issued (no refresh tokens), so it is
// ignored.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	s.init()
	client, oe := s.authenticateClient(r)
	if oe != nil {
		oe.write(w)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		invalidRequest("token is required.").write(w)
		return
	}
	c, err := s.Tokens.VerifyAccess(r.Context(), tok)
	if err != nil {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	if c.Subject != client.ID {
		// §2.1: the token must have been issued to the client revoking it.
		(&oauthError{status: http.StatusBadRequest, Code: "unauthorized_client", Description: "The token was not issued to this client."}).write(w)
		return
	}
	// Until the token would stop verifying anyway: its expiry plus the
	// leeway verification allows.
	until := c.Expiry.Time().Add(orDefault(s.Tokens.Leeway, 30*time.Second))
	if err := s.Principals.Revoke(r.Context(), c.ID, until); err != nil {
		s.Logger.ErrorContext(r.Context(), "revoke token", "client_id", client.ID, "jti", c.ID, "error", err.Error())
		(&oauthError{status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", retryAfter: time.Second}).write(w)
		return
	}
	s.Logger.InfoContext(r.Context(), "access token revoked", "client_id", client.ID, "jti", c.ID)
	writeJSON(w, http.StatusOK, struct{}{})
}
