package dispatcher

import (
	"context"

	"github.com/jqlgate/jqlgate"
)

// Owners tells the dispatcher what the owners of subscriptions may still
// do, so a principal that was deleted, or whose permissions no longer let
// it read a subscription's events, stops receiving them.
//
// The answer is cached in the index: the dispatcher asks once per owner
// when the index is rebuilt (on the subscription or owners version
// changing, or OwnersChanged in this process) and when this process saves
// a subscription of an owner it has not seen; fan-out only looks at the
// index, so it pays nothing per event.
type Owners interface {
	// Owners returns the current state of each owner key ("client:<id>",
	// "apiKey:<id>", "user:<id>"). A key missing from the answer is an
	// owner without a local record (a client of an external issuer): its
	// subscriptions keep the permission that was checked when they were
	// saved.
	Owners(ctx context.Context, keys []string) (map[string]Owner, error)
	// Version grows whenever a principal is deleted or its permissions
	// change, in any process sharing the store.
	Version(ctx context.Context) (int64, error)
}

// Owner is the current state of a subscription's owner.
type Owner struct {
	// Gone: the principal was deleted.
	Gone bool
	// Permissions are its current permission strings.
	Permissions []string
}

// Reasons a subscription's owner holds it back (logged; the store keeps the
// subscription as it is).
const (
	reasonOwnerDeleted = "owner deleted"
	reasonOwnerDenied  = "owner may no longer read one of its triggers"
)

// withheld returns why sub's owner, in the state o (nil: unknown), may not
// receive sub's events, or "" if it may. A subscription with several
// triggers is withheld whole when its owner may no longer read any one of
// them: the owner's rights no longer match what the subscription was
// granted for, and holding back all of it (until the owner narrows the
// triggers or regains the permission) is the simple, safe choice.
func withheld(sub *jqlgate.Subscription, o *Owner) string {
	switch {
	case o == nil:
		return ""
	case o.Gone:
		return reasonOwnerDeleted
	}
	p := &jqlgate.Principal{Permissions: o.Permissions}
	for _, t := range sub.TriggerList() {
		if !p.CanReceive(t) {
			return reasonOwnerDenied
		}
	}
	return ""
}

// effective returns sub as its owner may use it now: one saved by a
// principal holding PermPrivateTargets is held to public addresses once its
// owner no longer holds that permission (o nil, an owner without a local
// record: as it was saved).
func effective(sub *jqlgate.Subscription, o *Owner) *jqlgate.Subscription {
	if sub.PublicOnly || o == nil || o.Gone {
		return sub
	}
	if (&jqlgate.Principal{Permissions: o.Permissions}).Has(jqlgate.PermPrivateTargets) {
		return sub
	}
	held := *sub
	held.PublicOnly = true
	return &held
}

// ownerStates asks the Owners about every owner of subs; with no Owners
// configured every owner is unknown.
func (d *Dispatcher) ownerStates(ctx context.Context, subs []*jqlgate.Subscription) (map[string]*Owner, int64, error) {
	out := map[string]*Owner{}
	if d.cfg.Owners == nil {
		return out, 0, nil
	}
	version, err := d.cfg.Owners.Version(ctx)
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	var keys []string
	for _, s := range subs {
		if !seen[s.Owner] {
			seen[s.Owner] = true
			keys = append(keys, s.Owner)
		}
	}
	if len(keys) == 0 {
		return out, version, nil
	}
	states, err := d.cfg.Owners.Owners(ctx, keys)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range keys {
		if o, ok := states[k]; ok {
			out[k] = &o
		} else {
			out[k] = nil
		}
	}
	return out, version, nil
}

// ownerOf returns the cached state of owner, asking the Owners when the
// index has not seen it yet.
func (d *Dispatcher) ownerOf(ctx context.Context, sub *jqlgate.Subscription) (*Owner, error) {
	if o, ok := d.idx.owner(sub.Owner); ok {
		return o, nil
	}
	states, _, err := d.ownerStates(ctx, []*jqlgate.Subscription{sub})
	if err != nil {
		return nil, err
	}
	o := states[sub.Owner]
	d.idx.setOwner(sub.Owner, o)
	return o, nil
}

// OwnersChanged rebuilds the index at once after this process deleted a
// principal or changed its permissions: deliveries of subscriptions whose
// owner may no longer receive them are parked, and new events no longer
// go to them. Other processes notice through the Owners version poll.
func (d *Dispatcher) OwnersChanged(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	return d.reload(ctx)
}
