package admin

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
)

// UserNamespace is the namespace of system users.
const UserNamespace = "system.User"

// UserLogin checks a username and password and issues a user token. An
// unknown user and a wrong password must give the same EUNAUTHORIZED error.
type UserLogin interface {
	Login(ctx context.Context, username, password string) (*jqlgate.UserToken, error)
}

// UserDeps are what system.User needs.
type UserDeps struct {
	Users UserLogin
	// SecureCookie marks the jwt cookie Secure; set it when jqlgate is
	// served over TLS (directly or behind a TLS-terminating proxy).
	SecureCookie bool
}

// RegisterUser registers system.User authenticate, the public intent that
// exchanges a username and password for a token of the jwt class.
func RegisterUser(m *namespaces.Mux, deps UserDeps) {
	m.Handle(UserNamespace, jqlgate.SchemaController, "authenticate", jqlgate.HandlerFunc(deps.authenticate), namespaces.IntentSpec{
		Summary: "Log in with a username and password; returns a token (data.token and the jwt cookie) for authenticationClass jwt.",
		Fields: []namespaces.FieldSpec{
			{Name: "username", Type: "string", Required: true},
			{Name: "password", Type: "string", Required: true},
		},
		Public: true,
	})
}

// loginFields are the fields __meta__.return may ask authenticate for.
var loginFields = map[string]func(t *jqlgate.UserToken) any{
	"token":      func(t *jqlgate.UserToken) any { return t.Token },
	"id":         func(t *jqlgate.UserToken) any { return t.UserID },
	"username":   func(t *jqlgate.UserToken) any { return t.Username },
	"expires_at": func(t *jqlgate.UserToken) any { return t.ExpiresAt.UTC().Format(time.RFC3339) },
}

func (d UserDeps) authenticate(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	username, uerr := stringField(cmd.Fields, "username")
	password, perr := stringField(cmd.Fields, "password")
	if err := jqlgate.InvalidFields(append(uerr, perr...)); err != nil {
		return nil, err
	}
	ret, err := loginReturn(cmd.Meta.Return)
	if err != nil {
		return nil, err
	}
	tok, err := d.Users.Login(ctx, username, password)
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	for _, f := range ret {
		data[f] = loginFields[f](tok)
	}
	return &jqlgate.Result{Data: data, Message: "Authenticated.", Cookies: []*http.Cookie{d.cookie(tok)}}, nil
}

// loginReturn lists the fields to return: token and id by default, else
// the token plus what __meta__.return names.
func loginReturn(ret map[string]any) ([]string, error) {
	if len(ret) == 0 {
		return []string{"token", "id"}, nil
	}
	out := []string{"token"}
	for f := range ret {
		if _, ok := loginFields[f]; !ok {
			return nil, jqlgate.Invalid("return", "authenticate can return token, id, username or expires_at, not %q", f)
		}
		if f != "token" {
			out = append(out, f)
		}
	}
	sort.Strings(out[1:])
	return out, nil
}

func (d UserDeps) cookie(t *jqlgate.UserToken) *http.Cookie {
	return &http.Cookie{
		Name: "jwt", Value: t.Token, Path: "/", HttpOnly: true, Secure: d.SecureCookie,
		SameSite: http.SameSiteLaxMode, Expires: t.ExpiresAt, MaxAge: int(time.Until(t.ExpiresAt).Seconds()),
	}
}

// stringField reads a required, non-blank string field.
func stringField(fields map[string]any, name string) (string, []jqlgate.FieldError) {
	s, ok := fields[name].(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", []jqlgate.FieldError{{Field: name, Message: name + " is required and must be a string"}}
	}
	return s, nil
}
