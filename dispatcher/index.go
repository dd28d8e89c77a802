package dispatcher

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate"
)

// target is one enabled subscription as the dispatcher uses it: parsed
// filter, limits and a cached receiver token source.
type target struct {
	sub         *jqlgate.Subscription
	conds       []jqlgate.Condition
	filterErr   error
	limiter     *rate.Limiter // nil: no rate limit
	tokens      oauth2.TokenSource
	maxInFlight int
	timeout     time.Duration
	// host is the receiver's host name, lower case, without the port: the
	// slot its deliveries share with other subscriptions to the host.
	host string
}

// receiverHost returns the host name of a receiver URL, "" if it has none.
func receiverHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
}

// matches reports whether ev passes the subscription's filter. A filter
// that does not parse matches nothing (it was validated when saved, so
// this only happens if the stored filter was damaged).
func (t *target) matches(ev *jqlgate.Event) bool {
	if t.filterErr != nil {
		return false
	}
	return len(t.conds) == 0 || jqlgate.MatchConditions(t.conds, ev.Data)
}

// index holds the enabled subscriptions whose owners may receive their
// events, by trigger (a subscription with several triggers under each): exact ("app.Model:action"), model wildcard
// ("app.Model:*") and "*". owners caches the state of every owner seen
// (nil: no local record), as of ownersVersion.
type index struct {
	mu            sync.RWMutex
	byID          map[string]*target
	byTrigger     map[string][]*target
	owners        map[string]*Owner
	version       int64
	ownersVersion int64
	loaded        bool
}

func newIndex() *index {
	return &index{byID: map[string]*target{}, byTrigger: map[string][]*target{}, owners: map[string]*Owner{}}
}

// match returns the ids of the subscriptions ev goes to, each once even
// when several of its triggers cover the event; a non-nil owner keeps only
// that owner's.
func (ix *index) match(ev *jqlgate.Event, owner *string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var ids []string
	var seen map[string]bool // only for subscriptions with several triggers
	for _, k := range jqlgate.TriggerCandidates(ev.Type) {
		for _, t := range ix.byTrigger[k] {
			if !t.matches(ev) || owner != nil && t.sub.Owner != *owner {
				continue
			}
			if len(t.sub.Triggers) > 1 {
				if seen[t.sub.ID] {
					continue
				}
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[t.sub.ID] = true
			}
			ids = append(ids, t.sub.ID)
		}
	}
	return ids
}

// get returns the target for an enabled subscription, or nil.
func (ix *index) get(id string) *target {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.byID[id]
}

// replace installs a full set of targets, with the owner states they were
// checked against, and returns the ids that were indexed before and are
// not now.
func (ix *index) replace(targets map[string]*target, owners map[string]*Owner, version, ownersVersion int64) []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var gone []string
	for id := range ix.byID {
		if targets[id] == nil {
			gone = append(gone, id)
		}
	}
	ix.byID = targets
	ix.rebuildLocked()
	ix.owners = owners
	ix.version, ix.ownersVersion = version, ownersVersion
	ix.loaded = true
	return gone
}

// put adds or replaces one target; a nil target removes id.
func (ix *index) put(id string, t *target) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if t == nil {
		delete(ix.byID, id)
	} else {
		ix.byID[id] = t
	}
	ix.rebuildLocked()
}

func (ix *index) rebuildLocked() {
	ix.byTrigger = make(map[string][]*target, len(ix.byID))
	for _, t := range ix.byID {
		for _, k := range t.sub.TriggerList() {
			ix.byTrigger[k] = append(ix.byTrigger[k], t)
		}
	}
}

func (ix *index) state() (loaded bool, version, ownersVersion int64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.loaded, ix.version, ix.ownersVersion
}

// owner returns the cached state of an owner key and whether it is cached.
func (ix *index) owner(key string) (*Owner, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	o, ok := ix.owners[key]
	return o, ok
}

// setOwner caches the state of an owner key.
func (ix *index) setOwner(key string, o *Owner) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.owners[key] = o
}
