package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/dispatcher"
)

var _ dispatcher.Owners = (*ownerResolver)(nil)

// ownerDeleted is the disabledReason of the subscriptions of a deleted
// client, API key or user.
const ownerDeleted = "owner deleted"

// ownerResolver tells the dispatcher the current state of subscription
// owners from the auth store.
type ownerResolver struct {
	store authStore
	// external: an external issuer is trusted, whose clients share the
	// "client:" owner keys and have no local record, so a client that is
	// not found is unknown rather than deleted (deleting a built-in client
	// also disables its subscriptions in the store).
	external bool
}

// listAllOver is how many owners make one read of every principal cheaper
// than one lookup each.
const listAllOver = 8

// Owners answers the state of each key; keys it cannot judge are left out.
func (r *ownerResolver) Owners(ctx context.Context, keys []string) (map[string]dispatcher.Owner, error) {
	if len(keys) > listAllOver {
		return r.all(ctx, keys)
	}
	out := make(map[string]dispatcher.Owner, len(keys))
	for _, k := range keys {
		kind, id, _ := strings.Cut(k, ":")
		var perms []string
		var err error
		switch kind {
		case jqlgate.PrincipalClient:
			var c *jqlgate.Client
			if c, err = r.store.Client(ctx, id); err == nil {
				perms = c.Permissions
			}
		case jqlgate.PrincipalAPIKey:
			var a *jqlgate.APIKey
			if a, err = r.store.APIKey(ctx, id); err == nil {
				perms = a.Permissions
			}
		case jqlgate.PrincipalUser:
			var u *jqlgate.User
			if u, err = r.store.User(ctx, id); err == nil {
				perms = u.Permissions
			}
		default:
			continue
		}
		switch {
		case err == nil:
			out[k] = dispatcher.Owner{Permissions: perms}
		case jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND:
			return nil, err
		case kind != jqlgate.PrincipalClient || !r.external:
			out[k] = dispatcher.Owner{Gone: true}
		}
	}
	return out, nil
}

// all answers keys from one read of every client, API key and user.
func (r *ownerResolver) all(ctx context.Context, keys []string) (map[string]dispatcher.Owner, error) {
	known := map[string][]string{}
	clients, err := r.store.Clients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		known[jqlgate.PrincipalClient+":"+c.ID] = c.Permissions
	}
	keys2, err := r.store.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys2 {
		known[jqlgate.PrincipalAPIKey+":"+k.ID] = k.Permissions
	}
	users, err := r.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		known[jqlgate.PrincipalUser+":"+u.ID] = u.Permissions
	}
	out := make(map[string]dispatcher.Owner, len(keys))
	for _, k := range keys {
		kind, _, _ := strings.Cut(k, ":")
		perms, ok := known[k]
		switch {
		case ok:
			out[k] = dispatcher.Owner{Permissions: perms}
		case kind == jqlgate.PrincipalAPIKey || kind == jqlgate.PrincipalUser || kind == jqlgate.PrincipalClient && !r.external:
			out[k] = dispatcher.Owner{Gone: true}
		}
	}
	return out, nil
}

// Version is the auth store's principals change counter.
func (r *ownerResolver) Version(ctx context.Context) (int64, error) { return r.store.Version(ctx) }

// deletePrincipal deletes the client, API key or user id of kind with del,
// then disables its subscriptions with the reason "owner deleted", so they
// stop at once in every process (the dispatcher would also withhold them,
// see ownerResolver) and an operator sees why in listWebhooks.
// ownedDisabler disables every subscription of one owner.
type ownedDisabler interface {
	DisableOwned(ctx context.Context, owner, reason string) (int, error)
}

// principalDeleter deletes a principal and disables its subscriptions in
// one transaction (sqlite.AuthStore).
type principalDeleter interface {
	DeletePrincipal(ctx context.Context, kind, id, reason string) (int, error)
}

// deletePrincipal deletes kind:id with del and disables its subscriptions,
// in one transaction where principals (a principalDeleter) can, otherwise
// one after the other: the dispatcher's owner check stops the deliveries
// of a deleted principal's subscriptions either way.
func deletePrincipal(ctx context.Context, principals any, subs ownedDisabler, kind, id string, del func(context.Context, string) error) (int, error) {
	if pd, ok := principals.(principalDeleter); ok {
		return pd.DeletePrincipal(ctx, kind, id, ownerDeleted)
	}
	if err := del(ctx, id); err != nil {
		return 0, err
	}
	n, err := subs.DisableOwned(ctx, kind+":"+id, ownerDeleted)
	if err != nil {
		return 0, fmt.Errorf("%s %s deleted, but disabling its subscriptions failed (its deliveries stop anyway): %w", kind, id, err)
	}
	return n, nil
}

// setScope replaces the permissions of a principal with set; its
// subscriptions whose events the new permissions no longer let it read
// stop receiving them within a poll interval.
func setScope(ctx context.Context, scope, id string, set func(context.Context, string, []string) error) error {
	perms, err := auth.ParseScope(scope)
	if err != nil {
		return err
	}
	if perms == nil {
		perms = []string{}
	}
	return set(ctx, id, perms)
}
