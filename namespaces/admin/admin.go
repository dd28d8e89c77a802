package admin

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/input"
)

// Namespaces of the credential admin intents (system.User also has the
// public authenticate).
const (
	ClientNamespace = "system.Client"
	APIKeyNamespace = "system.ApiKey"
)

// PrincipalInfo is a client, API key or user as the admin intents show it:
// never its secret.
type PrincipalInfo struct {
	ID string
	// Name is the client's or API key's name, or the user's username.
	Name        string
	Permissions []string
	CreatedAt   time.Time
}

// NewCredential is a principal just created or rotated with its secret
// (client secret, API key or password), which is shown once.
type NewCredential struct {
	PrincipalInfo
	Secret string
}

// PrincipalAdmin manages jqlgate's own principals of one kind. Every
// method but Create and List reports ENOTFOUND for an unknown id.
type PrincipalAdmin interface {
	// Create stores a principal named name with perms. secret is a user's
	// password; empty generates one (and the API key and client secret
	// are always generated).
	Create(ctx context.Context, name string, perms []string, secret string) (*NewCredential, error)
	List(ctx context.Context) ([]PrincipalInfo, error)
	Get(ctx context.Context, id string) (*PrincipalInfo, error)
	// Delete removes the principal and disables its subscriptions
	// ("owner deleted") so no process delivers to them any more; it
	// returns how many it disabled.
	Delete(ctx context.Context, id string) (int, error)
	// Rotate replaces the secret (for a user: with secret, or a generated
	// password when empty); the old one stops working.
	Rotate(ctx context.Context, id, secret string) (*NewCredential, error)
	// SetPermissions replaces the permissions; the principal's
	// subscriptions stop receiving what it may no longer read.
	SetPermissions(ctx context.Context, id string, perms []string) error
}

// Deps are what the credential admin intents need; a nil kind is not
// registered.
type Deps struct {
	Clients, APIKeys, Users PrincipalAdmin
}

// adminKind is one kind of principal and the names its intents use.
type adminKind struct {
	namespace, kind string
	// noun names the kind in intents ("Client", "ApiKey", "User"), plural
	// in list intents.
	noun, plural string
	// rotate is the rotate intent; secretField the answer's secret field.
	rotate, secretField string
	// nameField is the input and answer field holding the name.
	nameField string
	// what names the kind in messages.
	what  string
	admin PrincipalAdmin
}

// admin holds the credential admin handlers.
type admin struct {
	kinds []*adminKind
	// starMu makes the last-holder-of-* check and the delete or narrowing
	// it allows one step in this process.
	starMu sync.Mutex
}

// Register registers the credential admin intents of system.Client,
// system.ApiKey and system.User on m. Each is gated by its own permission
// (system.Client:createClient, …), which only "*" holders have unless
// granted.
func Register(m *namespaces.Mux, deps Deps) {
	a := &admin{}
	for _, k := range []*adminKind{
		{namespace: ClientNamespace, kind: jqlgate.PrincipalClient, noun: "Client", plural: "Clients", rotate: "rotateClientSecret", secretField: "clientSecret", nameField: "name", what: "client", admin: deps.Clients},
		{namespace: APIKeyNamespace, kind: jqlgate.PrincipalAPIKey, noun: "ApiKey", plural: "ApiKeys", rotate: "rotateApiKey", secretField: "apiKey", nameField: "name", what: "API key", admin: deps.APIKeys},
		{namespace: UserNamespace, kind: jqlgate.PrincipalUser, noun: "User", plural: "Users", rotate: "rotateUserPassword", secretField: "password", nameField: "username", what: "user", admin: deps.Users},
	} {
		if k.admin == nil {
			continue
		}
		a.kinds = append(a.kinds, k)
		for intent, fn := range map[string]func(context.Context, *jqlgate.Command) (*jqlgate.Result, error){
			"create" + k.noun: a.create(k),
			"list" + k.plural: a.list(k),
			"delete" + k.noun: a.delete(k),
			k.rotate:          a.rotateSecret(k),
			"update" + k.noun: a.update(k),
		} {
			m.HandleFunc(k.namespace, jqlgate.SchemaController, intent, fn, adminSpec(k, intent))
		}
	}
}

// view is a principal as the answers show it.
func (k *adminKind) view(p *PrincipalInfo) map[string]any {
	perms := p.Permissions
	if perms == nil {
		perms = []string{}
	}
	return map[string]any{"id": p.ID, k.nameField: p.Name, "scope": strings.Join(perms, " "), "permissions": perms, "createdAt": p.CreatedAt.UTC().Format(time.RFC3339)}
}

func (k *adminKind) notFound(err error) error {
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return &jqlgate.Error{Code: jqlgate.ENOTFOUND, Field: "id", Message: "No " + k.what + " with this id.", Err: err}
	}
	return err
}

func (a *admin) create(k *adminKind) jqlgate.HandlerFunc {
	return func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
		r := &input.Reader{}
		allowed := []string{k.nameField, "scope"}
		if k.kind == jqlgate.PrincipalUser {
			allowed = append(allowed, "password")
		}
		r.Unknown(cmd.Fields, allowed...)
		name := r.Required(cmd.Fields, k.nameField)
		perms := scope(r, cmd.Fields, true)
		password := password(r, cmd.Fields)
		if err := r.Err(); err != nil {
			return nil, err
		}
		if err := grantable(cmd.Principal, perms); err != nil {
			return nil, err
		}
		nc, err := k.admin.Create(ctx, name, perms, password)
		if err != nil {
			return nil, err
		}
		return k.secretAnswer(nc, password == "", "Created. The "+k.secretLabel()+" is shown only now.")
	}
}

// secretLabel names what the create and rotate answers show once.
func (k *adminKind) secretLabel() string {
	switch k.kind {
	case jqlgate.PrincipalClient:
		return "client secret"
	case jqlgate.PrincipalAPIKey:
		return "API key"
	}
	return "generated password"
}

// secretAnswer shows nc with its secret, unless the secret is a password
// the caller chose (show is false).
func (k *adminKind) secretAnswer(nc *NewCredential, show bool, msg string) (*jqlgate.Result, error) {
	v := k.view(&nc.PrincipalInfo)
	if show {
		v[k.secretField] = nc.Secret
	} else {
		msg = strings.TrimSuffix(msg, " The "+k.secretLabel()+" is shown only now.")
	}
	if k.kind == jqlgate.PrincipalClient {
		v["clientId"] = nc.ID
	}
	return &jqlgate.Result{Data: v, Message: msg}, nil
}

func (a *admin) list(k *adminKind) jqlgate.HandlerFunc {
	return func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
		r := &input.Reader{}
		r.Unknown(cmd.Fields)
		limit, offset := input.MaxListLimit, 0
		if l := cmd.Meta.Limit; l != nil {
			limit = r.Integer("__meta__.limit", *l, 1, input.MaxListLimit)
		}
		if o := cmd.Meta.Offset; o != nil {
			offset = r.Integer("__meta__.offset", *o, 0, 1<<30)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		all, err := k.admin.List(ctx)
		if err != nil {
			return nil, err
		}
		page := all[min(offset, len(all)):min(offset+limit, len(all))]
		out := make([]map[string]any, len(page))
		for i := range page {
			out[i] = k.view(&page[i])
		}
		return &jqlgate.Result{Data: out, Message: "Listed.", Filtered: len(all), Display: len(out)}, nil
	}
}

// target reads the id field and loads that principal, which the caller
// must be allowed to manage: it may not act on a principal holding
// permissions it does not hold itself.
func (a *admin) target(ctx context.Context, k *adminKind, cmd *jqlgate.Command, extra ...string) (*PrincipalInfo, *input.Reader, error) {
	r := &input.Reader{}
	r.Unknown(cmd.Fields, append([]string{"id"}, extra...)...)
	id := r.Required(cmd.Fields, "id")
	if r.Failed("id") {
		return nil, r, r.Err()
	}
	p, err := k.admin.Get(ctx, id)
	if err != nil {
		return nil, r, k.notFound(err)
	}
	if err := grantable(cmd.Principal, p.Permissions); err != nil {
		return nil, r, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: "id",
			Message: "This " + k.what + " holds permissions you do not hold; only a principal holding all of them may manage it."}
	}
	return p, r, nil
}

func (a *admin) delete(k *adminKind) jqlgate.HandlerFunc {
	return func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
		p, r, err := a.target(ctx, k, cmd)
		if err != nil {
			return nil, err
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if self(cmd.Principal, k.kind, p.ID) {
			return nil, &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "id", Message: "You cannot delete the " + k.what + " you are calling as; use another principal holding *."}
		}
		// The check and the delete are one step: two holders of * removing
		// each other at once must not both succeed.
		a.starMu.Lock()
		defer a.starMu.Unlock()
		if err := a.keepsAdmin(ctx, k, p, nil); err != nil {
			return nil, err
		}
		n, err := k.admin.Delete(ctx, p.ID)
		if err != nil {
			return nil, k.notFound(err)
		}
		return &jqlgate.Result{Data: map[string]any{"id": p.ID, "deleted": true, "subscriptionsDisabled": n},
			Message: "Deleted; its webhook subscriptions are disabled (\"owner deleted\") and its tokens stop working."}, nil
	}
}

func (a *admin) rotateSecret(k *adminKind) jqlgate.HandlerFunc {
	return func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
		var extra []string
		if k.kind == jqlgate.PrincipalUser {
			extra = []string{"password"}
		}
		p, r, err := a.target(ctx, k, cmd, extra...)
		if err != nil {
			return nil, err
		}
		password := password(r, cmd.Fields)
		if err := r.Err(); err != nil {
			return nil, err
		}
		nc, err := k.admin.Rotate(ctx, p.ID, password)
		if err != nil {
			return nil, k.notFound(err)
		}
		return k.secretAnswer(nc, password == "", "Rotated; the old one no longer works. The "+k.secretLabel()+" is shown only now.")
	}
}

func (a *admin) update(k *adminKind) jqlgate.HandlerFunc {
	return func(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
		p, r, err := a.target(ctx, k, cmd, "scope")
		if err != nil {
			return nil, err
		}
		perms := scope(r, cmd.Fields, true)
		if err := r.Err(); err != nil {
			return nil, err
		}
		if err := grantable(cmd.Principal, perms); err != nil {
			return nil, err
		}
		a.starMu.Lock()
		defer a.starMu.Unlock()
		if err := a.keepsAdmin(ctx, k, p, perms); err != nil {
			return nil, err
		}
		if err := k.admin.SetPermissions(ctx, p.ID, perms); err != nil {
			return nil, k.notFound(err)
		}
		p.Permissions = perms
		return &jqlgate.Result{Data: k.view(p),
			Message: "Updated; its tokens and webhooks now get only what the new permissions allow (a user is signed out)."}, nil
	}
}

// keepsAdmin refuses to delete (perms nil) or narrow the last principal
// holding "*": the server would be left with no one able to manage it.
func (a *admin) keepsAdmin(ctx context.Context, k *adminKind, p *PrincipalInfo, perms []string) error {
	if !slices.Contains(p.Permissions, "*") || slices.Contains(perms, "*") {
		return nil
	}
	for _, other := range a.kinds {
		all, err := other.admin.List(ctx)
		if err != nil {
			return err
		}
		for _, q := range all {
			if (other.kind != k.kind || q.ID != p.ID) && slices.Contains(q.Permissions, "*") {
				return nil
			}
		}
	}
	return &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "id",
		Message: "This is the last principal holding *; create another one holding * first."}
}

// self reports whether the caller is the principal kind:id of this
// server (not one an external issuer vouched for).
func self(p *jqlgate.Principal, kind, id string) bool {
	return p != nil && p.Issuer == "" && p.Kind == kind && p.ID == id
}

// grantable checks that caller holds every permission in perms, so no one
// hands out, or takes over, more than it holds.
func grantable(caller *jqlgate.Principal, perms []string) error {
	if caller == nil {
		return jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication is required.")
	}
	for _, want := range perms {
		if !covers(caller.Permissions, want) {
			return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: "scope",
				Message: "You cannot grant " + want + ": you do not hold it."}
		}
	}
	return nil
}

// covers reports whether holding held grants everything want grants.
func covers(held []string, want string) bool {
	if slices.Contains(held, "*") || slices.Contains(held, want) {
		return true
	}
	ns, in, ok := strings.Cut(want, ":")
	if !ok {
		return false
	}
	if in == "*" {
		return false
	}
	return slices.ContainsFunc(held, func(h string) bool { return jqlgate.PermissionAllows(h, ns, in) })
}

// scope reads the scope field: space-separated permission strings.
func scope(r *input.Reader, fields map[string]any, required bool) []string {
	v, ok := fields["scope"]
	if !ok || v == nil {
		if required {
			r.Fail("scope", "is required: space-separated permissions such as \"system.Webhook:* profile.Customer:create\", or \"*\"")
		}
		return nil
	}
	s := r.Str("scope", v, 8192)
	perms := []string{}
	for _, p := range strings.Fields(s) {
		if !jqlgate.ValidPermission(p) {
			r.Fail("scope", "%q is not a permission (use app.Model:intent, app.Model:* or *)", p)
			return nil
		}
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	return perms
}

// password reads the optional password field of a user.
func password(r *input.Reader, fields map[string]any) string {
	v, ok := fields["password"]
	if !ok || v == nil {
		return ""
	}
	s, isStr := v.(string)
	if !isStr || len(s) < 8 || len(s) > 72 {
		r.Fail("password", "must be a string of 8 to 72 bytes (leave it out to have one generated)")
		return ""
	}
	return s
}
