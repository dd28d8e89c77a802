package admin

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
)

type loginFn func(ctx context.Context, username, password string) (*jqlgate.UserToken, error)

func (f loginFn) Login(ctx context.Context, u, p string) (*jqlgate.UserToken, error) {
	return f(ctx, u, p)
}

func TestAuthenticate(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	login := loginFn(func(_ context.Context, u, p string) (*jqlgate.UserToken, error) {
		if u != "ada" || p != "pw" {
			return nil, &jqlgate.Error{Code: jqlgate.EUNAUTHORIZED, Message: "Invalid username or password."}
		}
		return &jqlgate.UserToken{Token: "tok", UserID: "usr_1", Username: "ada", ExpiresAt: exp}, nil
	})
	m := namespaces.NewMux()
	RegisterUser(m, UserDeps{Users: login, SecureCookie: true})
	tests := []struct {
		name   string
		fields map[string]any
		ret    map[string]any
		want   map[string]any
		code   string
	}{
		{"default", map[string]any{"username": "ada", "password": "pw"}, nil, map[string]any{"token": "tok", "id": "usr_1"}, ""},
		{"return id", map[string]any{"username": "ada", "password": "pw"}, map[string]any{"id": nil}, map[string]any{"token": "tok", "id": "usr_1"}, ""},
		{"return username", map[string]any{"username": "ada", "password": "pw"}, map[string]any{"username": nil}, map[string]any{"token": "tok", "username": "ada"}, ""},
		{"return unknown", map[string]any{"username": "ada", "password": "pw"}, map[string]any{"passwordHash": nil}, nil, jqlgate.EINVALID},
		{"wrong password", map[string]any{"username": "ada", "password": "no"}, nil, nil, jqlgate.EUNAUTHORIZED},
		{"missing password", map[string]any{"username": "ada"}, nil, nil, jqlgate.EINVALID},
		{"number username", map[string]any{"username": 7, "password": "pw"}, nil, nil, jqlgate.EINVALID},
	}
	for _, tt := range tests {
		cmd := &jqlgate.Command{Meta: jqlgate.Meta{Namespace: UserNamespace, Schema: jqlgate.SchemaController, Intent: "authenticate", Return: tt.ret}, Fields: tt.fields}
		res, err := m.Handler().Handle(context.Background(), cmd)
		if got := jqlgate.ErrorCode(err); got != tt.code {
			t.Errorf("%s: error %v, want code %q", tt.name, err, tt.code)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(tt.want, res.Data); diff != "" {
			t.Errorf("%s: data (-want +got):\n%s", tt.name, diff)
		}
		ck := res.Cookies[0]
		if ck.Name != "jwt" || ck.Value != "tok" || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("%s: cookie %+v", tt.name, ck)
		}
	}
	if !m.IsPublic(UserNamespace, "authenticate") {
		t.Error("authenticate is not public")
	}
}
