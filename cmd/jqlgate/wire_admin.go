package main

import (
	"context"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/namespaces/admin"
)

var (
	_ admin.PrincipalAdmin = clientAdmin{}
	_ admin.PrincipalAdmin = apiKeyAdmin{}
	_ admin.PrincipalAdmin = userAdmin{}
)

// registerAdmin registers the credential admin intents (system.Client,
// system.ApiKey, system.User) over the auth store, so credentials can be
// managed while serve runs.
func registerAdmin(a *app, store authStore, authn *auth.Authenticator, users *auth.Users) {
	b := adminBase{a: a, store: store, authn: authn}
	admin.Register(a.mux, admin.Deps{
		Clients: clientAdmin{b},
		APIKeys: apiKeyAdmin{b},
		Users:   userAdmin{b, users},
	})
}

// adminBase is what the three admins share: the auth store, and the
// subscriptions and dispatcher a deletion or a scope change reaches.
type adminBase struct {
	a     *app
	store authStore
	authn *auth.Authenticator
}

// deleted disables the subscriptions of kind:id after del and tells this
// process's dispatcher; the others notice the principals version.
func (b adminBase) delete(ctx context.Context, kind, id string, del func(context.Context, string) error) (int, error) {
	n, err := deletePrincipal(ctx, b.store, b.a.subscriptions, kind, id, del)
	if err != nil {
		return n, err
	}
	b.ownersChanged(ctx)
	return n, nil
}

func (b adminBase) setPermissions(ctx context.Context, id string, perms []string, set func(context.Context, string, []string) error) error {
	if perms == nil {
		perms = []string{}
	}
	if err := set(ctx, id, perms); err != nil {
		return err
	}
	b.ownersChanged(ctx)
	return nil
}

// ownersChanged makes this process's authenticator and dispatcher honour
// the change at once; a dispatcher failure is only logged, the version
// poll catches up.
func (b adminBase) ownersChanged(ctx context.Context) {
	b.authn.Changed()
	if b.a.dispatcher == nil {
		return
	}
	if err := b.a.dispatcher.OwnersChanged(ctx); err != nil {
		b.a.logger.WarnContext(ctx, "refresh owners in the dispatcher", "error", err.Error())
	}
}

func info(id, name string, perms []string, created time.Time) admin.PrincipalInfo {
	return admin.PrincipalInfo{ID: id, Name: name, Permissions: perms, CreatedAt: created}
}

type clientAdmin struct{ adminBase }

func (c clientAdmin) Create(ctx context.Context, name string, perms []string, _ string) (*admin.NewCredential, error) {
	cc, err := auth.CreateClient(ctx, c.store, name, joinScope(perms))
	if err != nil {
		return nil, err
	}
	return c.withSecret(ctx, cc)
}

func (c clientAdmin) withSecret(ctx context.Context, cc *auth.ClientCredentials) (*admin.NewCredential, error) {
	p, err := c.Get(ctx, cc.ClientID)
	if err != nil {
		return nil, err
	}
	return &admin.NewCredential{PrincipalInfo: *p, Secret: cc.ClientSecret}, nil
}

func (c clientAdmin) List(ctx context.Context) ([]admin.PrincipalInfo, error) {
	cs, err := c.store.Clients(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.PrincipalInfo, len(cs))
	for i, x := range cs {
		out[i] = info(x.ID, x.Name, x.Permissions, x.CreatedAt)
	}
	return out, nil
}

func (c clientAdmin) Get(ctx context.Context, id string) (*admin.PrincipalInfo, error) {
	x, err := c.store.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	p := info(x.ID, x.Name, x.Permissions, x.CreatedAt)
	return &p, nil
}

func (c clientAdmin) Delete(ctx context.Context, id string) (int, error) {
	return c.delete(ctx, jqlgate.PrincipalClient, id, c.store.DeleteClient)
}

func (c clientAdmin) Rotate(ctx context.Context, id, _ string) (*admin.NewCredential, error) {
	cc, err := auth.RotateClientSecret(ctx, c.store, id)
	if err != nil {
		return nil, err
	}
	return c.withSecret(ctx, cc)
}

func (c clientAdmin) SetPermissions(ctx context.Context, id string, perms []string) error {
	return c.setPermissions(ctx, id, perms, c.store.SetClientPermissions)
}

type apiKeyAdmin struct{ adminBase }

func (k apiKeyAdmin) Create(ctx context.Context, name string, perms []string, _ string) (*admin.NewCredential, error) {
	key, x, err := auth.CreateAPIKey(ctx, k.store, name, joinScope(perms))
	if err != nil {
		return nil, err
	}
	return &admin.NewCredential{PrincipalInfo: info(x.ID, x.Name, x.Permissions, x.CreatedAt), Secret: key}, nil
}

func (k apiKeyAdmin) List(ctx context.Context) ([]admin.PrincipalInfo, error) {
	ks, err := k.store.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.PrincipalInfo, len(ks))
	for i, x := range ks {
		out[i] = info(x.ID, x.Name, x.Permissions, x.CreatedAt)
	}
	return out, nil
}

func (k apiKeyAdmin) Get(ctx context.Context, id string) (*admin.PrincipalInfo, error) {
	x, err := k.store.APIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	p := info(x.ID, x.Name, x.Permissions, x.CreatedAt)
	return &p, nil
}

func (k apiKeyAdmin) Delete(ctx context.Context, id string) (int, error) {
	defer k.authn.ForgetAPIKey(id)
	return k.delete(ctx, jqlgate.PrincipalAPIKey, id, k.store.DeleteAPIKey)
}

func (k apiKeyAdmin) Rotate(ctx context.Context, id, _ string) (*admin.NewCredential, error) {
	key, x, err := auth.RotateAPIKey(ctx, k.store, id)
	k.authn.ForgetAPIKey(id)
	if err != nil {
		return nil, err
	}
	return &admin.NewCredential{PrincipalInfo: info(x.ID, x.Name, x.Permissions, x.CreatedAt), Secret: key}, nil
}

func (k apiKeyAdmin) SetPermissions(ctx context.Context, id string, perms []string) error {
	defer k.authn.ForgetAPIKey(id)
	return k.setPermissions(ctx, id, perms, k.store.SetAPIKeyPermissions)
}

type userAdmin struct {
	adminBase
	users *auth.Users
}

func (u userAdmin) Create(ctx context.Context, name string, perms []string, password string) (*admin.NewCredential, error) {
	if password == "" {
		password = auth.NewSecret()[:32]
	}
	x, err := u.users.Create(ctx, name, password, joinScope(perms))
	if err != nil {
		return nil, err
	}
	return &admin.NewCredential{PrincipalInfo: info(x.ID, x.Username, x.Permissions, x.CreatedAt), Secret: password}, nil
}

func (u userAdmin) List(ctx context.Context) ([]admin.PrincipalInfo, error) {
	us, err := u.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.PrincipalInfo, len(us))
	for i, x := range us {
		out[i] = info(x.ID, x.Username, x.Permissions, x.CreatedAt)
	}
	return out, nil
}

func (u userAdmin) Get(ctx context.Context, id string) (*admin.PrincipalInfo, error) {
	x, err := u.store.User(ctx, id)
	if err != nil {
		return nil, err
	}
	p := info(x.ID, x.Username, x.Permissions, x.CreatedAt)
	return &p, nil
}

func (u userAdmin) Delete(ctx context.Context, id string) (int, error) {
	return u.delete(ctx, jqlgate.PrincipalUser, id, u.store.DeleteUser)
}

func (u userAdmin) Rotate(ctx context.Context, id, password string) (*admin.NewCredential, error) {
	p, err := u.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if password == "" {
		password = auth.NewSecret()[:32]
	}
	if err := u.users.SetPassword(ctx, u.store, id, password); err != nil {
		return nil, err
	}
	return &admin.NewCredential{PrincipalInfo: *p, Secret: password}, nil
}

func (u userAdmin) SetPermissions(ctx context.Context, id string, perms []string) error {
	return u.setPermissions(ctx, id, perms, u.store.SetUserPermissions)
}

func joinScope(perms []string) string { return strings.Join(perms, " ") }
