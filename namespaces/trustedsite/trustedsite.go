package trustedsite

import (
	"context"
	"net"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/input"
	"github.com/jqlgate/jqlgate/schemas"
)

// Namespace is the namespace of trusted sites.
const Namespace = "system.TrustedSite"

// Store keeps trusted sites. Every method but Create, Get, Uses
// and an AllOwners List is scoped to one owner: another owner's site is
// ENOTFOUND. Get and AllOwners serve operators only.
type Store interface {
	// Get returns any owner's site by id.
	Get(ctx context.Context, id string) (*jqlgate.TrustedSite, error)
	// Create inserts site; the owner's other site of the same name is
	// ECONFLICT.
	Create(ctx context.Context, site *jqlgate.TrustedSite) error
	GetOwned(ctx context.Context, owner, id string) (*jqlgate.TrustedSite, error)
	List(ctx context.Context, q jqlgate.TrustedSiteQuery) ([]*jqlgate.TrustedSite, int, error)
	Update(ctx context.Context, site *jqlgate.TrustedSite) error
	Delete(ctx context.Context, owner, id string) error
	// Uses lists the subscriptions that use site id.
	Uses(ctx context.Context, id string) ([]jqlgate.SiteUse, error)
}

// Notifier learns about every trusted site write, so the dispatcher
// uses the new credentials at once.
type Notifier interface {
	TrustedSiteChanged(ctx context.Context, id string)
}

// Deps are what the system.TrustedSite handlers need.
type Deps struct {
	Store Store
	// Notifier is told about every write; nil tells no one.
	Notifier Notifier
	// Policy decides which base and token URLs are acceptable, as for
	// webhook URLs.
	Policy jqlgate.AddrPolicy
	// Resolver resolves hosts; nil uses net.DefaultResolver.
	Resolver input.Resolver
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
}

// sites holds the system.TrustedSite handlers.
type sites struct {
	Deps
	targets input.Targets
}

// Register registers every system.TrustedSite intent on m.
func Register(m *namespaces.Mux, deps Deps) {
	if deps.Resolver == nil {
		deps.Resolver = net.DefaultResolver
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &sites{Deps: deps, targets: input.Targets{Policy: deps.Policy, Resolver: deps.Resolver}}
	m.HandleControllers(Namespace, trustedSiteSpecs, []namespaces.Route{
		{Intent: "createTrustedSite", Fn: s.create},
		{Intent: "listTrustedSites", Fn: s.list},
		{Intent: "getTrustedSite", Fn: s.get},
		{Intent: "updateTrustedSite", Fn: s.update},
		{Intent: "deleteTrustedSite", Fn: s.delete},
	})
}

func (s *sites) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *sites) notify(ctx context.Context, id string) {
	if s.Notifier != nil {
		s.Notifier.TrustedSiteChanged(ctx, id)
	}
}

// nameTaken is the answer to a second site of the same name.
func nameTaken(err error) error {
	if jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
		return &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "name", Err: err,
			Message: "You already have a trusted site with this name."}
	}
	return err
}

// create makes a trusted site.
func (s *sites) create(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	site := &jqlgate.TrustedSite{Owner: own, PublicOnly: !cmd.Principal.Has(jqlgate.PermPrivateTargets)}
	var in schemas.TrustedSiteInput
	r := input.Read(cmd.Fields, &in)
	applySite(r, site, &in)
	if err := s.validate(ctx, cmd.Principal, r, site, true); err != nil {
		return nil, err
	}
	now := s.now()
	site.ID = jqlgate.NewID("site")
	site.CreatedAt, site.UpdatedAt = now, now
	if err := s.Store.Create(ctx, site); err != nil {
		return nil, nameTaken(err)
	}
	return &jqlgate.Result{Data: siteViewOf(site), Message: "Trusted site created.", Filtered: 1, Display: 1}, nil
}

// list answers one page of the caller's sites. An operator may name
// another owner, or "*" for every owner; its rows name their owner and,
// like every view, carry no credentials.
func (s *sites) list(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	q := jqlgate.TrustedSiteQuery{Owner: own, Limit: input.DefaultListLimit}
	r := &input.Reader{}
	r.Unknown(cmd.Fields, "owner")
	if v, ok := cmd.Fields["owner"]; ok {
		if o := r.Str("owner", v, 200); o == "*" {
			q.AllOwners = true
		} else if o != "" {
			q.Owner = o
		}
	}
	if l := cmd.Meta.Limit; l != nil {
		q.Limit = r.Integer("__meta__.limit", *l, 1, input.MaxListLimit)
	}
	if o := cmd.Meta.Offset; o != nil {
		q.Offset = r.Integer("__meta__.offset", *o, 0, 1<<30)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	operated := q.AllOwners || q.Owner != own
	if operated && !cmd.Principal.CanOperate() {
		return nil, &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: "owner",
			Message: "Listing another owner's trusted sites requires the permission " + jqlgate.WebhookNamespace + ":operate."}
	}
	list, total, err := s.Store.List(ctx, q)
	if err != nil {
		return nil, err
	}
	views := make([]*siteView, len(list))
	for i, site := range list {
		views[i] = siteViewOf(site)
		if operated {
			views[i].Owner = site.Owner
		}
	}
	return &jqlgate.Result{Data: views, Message: "Trusted sites listed.", Filtered: total, Display: len(views)}, nil
}

// owned reads the "id" field and returns the caller's site.
func (s *sites) owned(ctx context.Context, cmd *jqlgate.Command, allowed ...string) (*jqlgate.TrustedSite, error) {
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	r := &input.Reader{}
	r.Unknown(cmd.Fields, append(allowed, "id")...)
	id := r.Required(cmd.Fields, "id")
	if err := r.Err(); err != nil {
		return nil, err
	}
	site, err := s.Store.GetOwned(ctx, own, id)
	return site, jqlgate.SiteNotFound("id", err)
}

// get answers one of the caller's sites, with the subscriptions using it;
// an operator gets any owner's, named by owner, never its credentials.
func (s *sites) get(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	site, err := s.owned(ctx, cmd)
	operated := false
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND && cmd.Principal.CanOperate() {
		id, _ := cmd.Fields["id"].(string)
		if other, gerr := s.Store.Get(ctx, id); gerr == nil {
			site, err, operated = other, nil, true
		}
	}
	if err != nil {
		return nil, err
	}
	uses, err := s.Store.Uses(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	if uses == nil {
		uses = []jqlgate.SiteUse{}
	}
	v := &siteDetail{siteView: siteViewOf(site), Subscriptions: uses}
	if operated {
		v.Owner = site.Owner
	}
	return &jqlgate.Result{Data: v, Message: "Trusted site found.", Filtered: 1, Display: 1}, nil
}

// update changes a site. Its new credentials apply to every subscription
// using it at once; a new base URL must still cover all their URLs.
func (s *sites) update(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	var in schemas.UpdateTrustedSiteInput
	r := input.Read(cmd.Fields, &in)
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	if r.Failed("id") {
		return nil, r.Err()
	}
	site, err := s.Store.GetOwned(ctx, own, in.ID)
	if err != nil {
		return nil, jqlgate.SiteNotFound("id", err)
	}
	oldBase, oldToken := site.BaseURL, siteTokenURL(site)
	applySite(r, site, &in.TrustedSiteInput)
	r.CheckCarried(input.Carried{URLField: "baseUrl", OldURL: oldBase, NewURL: site.BaseURL, OldToken: oldToken, NewToken: siteTokenURL(site),
		BasicAuth: site.BasicAuth, OAuth2: site.OAuth2, Headers: site.Headers, Secret: func(string) bool { return true }}, cmd.Fields)
	// Someone without PermPrivateTargets has every URL checked again, and
	// the site then reaches public addresses only, as for subscriptions.
	private := cmd.Principal.Has(jqlgate.PermPrivateTargets)
	resolve := site.BaseURL != oldBase || siteTokenURL(site) != oldToken || !private
	site.PublicOnly = !private
	if err := s.validate(ctx, cmd.Principal, r, site, resolve); err != nil {
		return nil, err
	}
	if site.BaseURL != oldBase {
		if err := s.checkOrphans(ctx, site); err != nil {
			return nil, err
		}
	}
	site.UpdatedAt = s.now()
	if err := s.Store.Update(ctx, site); err != nil {
		return nil, jqlgate.SiteNotFound("id", nameTaken(err))
	}
	s.notify(ctx, site.ID)
	return &jqlgate.Result{Data: siteViewOf(site), Message: "Trusted site updated.", Filtered: 1, Display: 1}, nil
}

// delete removes a site no subscription uses.
func (s *sites) delete(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	site, err := s.owned(ctx, cmd)
	if err != nil {
		return nil, err
	}
	uses, err := s.Store.Uses(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	if len(uses) > 0 {
		return nil, &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "id",
			Message: "The trusted site is used by subscriptions " + useIDs(uses) + "; unsubscribe them or move them to another site first."}
	}
	if err := s.Store.Delete(ctx, site.Owner, site.ID); err != nil {
		return nil, jqlgate.SiteNotFound("id", err)
	}
	s.notify(ctx, site.ID)
	data := map[string]any{"id": site.ID, "name": site.Name}
	return &jqlgate.Result{Data: data, Message: "Trusted site deleted.", Filtered: 1, Display: 1}, nil
}

// checkOrphans refuses a base URL that no longer covers the URL of every
// subscription using the site.
func (s *sites) checkOrphans(ctx context.Context, site *jqlgate.TrustedSite) error {
	uses, err := s.Store.Uses(ctx, site.ID)
	if err != nil {
		return err
	}
	var out []jqlgate.SiteUse
	for _, u := range uses {
		if !site.Covers(u.WebhookURL) {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &jqlgate.Error{Code: jqlgate.ECONFLICT, Field: "baseUrl",
		Message: "The new baseUrl does not cover the webhookUrl of subscriptions " + useIDs(out) + " using this site; change or unsubscribe them first."}
}

func useIDs(uses []jqlgate.SiteUse) string {
	out := ""
	for i, u := range uses {
		if i > 0 {
			out += ", "
		}
		out += u.SubscriptionID
	}
	return out
}

func siteTokenURL(site *jqlgate.TrustedSite) string {
	if site.OAuth2 == nil {
		return ""
	}
	return site.OAuth2.TokenURL
}
