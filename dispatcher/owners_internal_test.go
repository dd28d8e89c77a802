package dispatcher

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/jqlgate/jqlgate"
)

// ownersSource is an in-memory subscription source and owner directory.
type ownersSource struct {
	mu      sync.Mutex
	subs    []*jqlgate.Subscription
	owners  map[string]Owner
	version int64
	asked   int
	ownersV int64
}

func (s *ownersSource) ListEnabled(context.Context) ([]*jqlgate.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subs), nil
}

func (s *ownersSource) Get(_ context.Context, id string) (*jqlgate.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		if sub.ID == id {
			return sub, nil
		}
	}
	return nil, jqlgate.Errorf(jqlgate.ENOTFOUND, "no subscription %s", id)
}

func (s *ownersSource) Version(context.Context) (int64, error) { return s.version, nil }

type ownersDir struct{ *ownersSource }

func (o ownersDir) Owners(_ context.Context, keys []string) (map[string]Owner, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asked++
	out := map[string]Owner{}
	for _, k := range keys {
		if st, ok := o.owners[k]; ok {
			out[k] = st
		}
	}
	return out, nil
}

func (o ownersDir) Version(context.Context) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ownersV, nil
}

func newOwnersDispatcher(src *ownersSource, withOwners bool) *Dispatcher {
	cfg := Config{Source: src, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if withOwners {
		cfg.Owners = ownersDir{src}
	}
	return New(cfg)
}

func ownedSub(id, owner, trigger string) *jqlgate.Subscription {
	return &jqlgate.Subscription{ID: id, Owner: owner, Trigger: trigger, Enabled: true}
}

func matched(d *Dispatcher, typ string) []string {
	ids := d.idx.match(&jqlgate.Event{Type: typ}, nil)
	slices.Sort(ids)
	return ids
}

// A deleted owner's subscriptions, and those whose trigger the owner may
// no longer read, get no events; an owner without a local record keeps
// its subscriptions; a change of owners is picked up by the version poll
// and by OwnersChanged.
func TestOwnersWithholdSubscriptions(t *testing.T) {
	ctx := context.Background()
	src := &ownersSource{
		subs: []*jqlgate.Subscription{
			ownedSub("s_ok", "client:ok", "profile.Customer:*"),
			ownedSub("s_gone", "client:gone", "profile.Customer:*"),
			ownedSub("s_narrow", "client:narrow", "profile.Customer:create"),
			ownedSub("s_star", "apiKey:partial", "*"),
			ownedSub("s_ext", "client:external", "profile.Customer:*"),
		},
		owners: map[string]Owner{
			"client:ok":      {Permissions: []string{"profile.Customer:retrieve"}},
			"client:gone":    {Gone: true},
			"client:narrow":  {Permissions: []string{"system.Webhook:*", "profile.Customer:create"}},
			"apiKey:partial": {Permissions: []string{"profile.Customer:*"}},
		},
	}
	d := newOwnersDispatcher(src, true)
	if err := d.ensureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := matched(d, "profile.Customer:create"), []string{"s_ext", "s_ok"}; !slices.Equal(got, want) {
		t.Fatalf("profile.Customer:create goes to %v, want %v", got, want)
	}

	// Narrowing client:ok in another process: seen on the next poll.
	src.mu.Lock()
	src.owners["client:ok"] = Owner{Permissions: []string{"profile.Customer:create"}}
	src.ownersV++
	src.mu.Unlock()
	d.pollSubscriptions(ctx)
	if got, want := matched(d, "profile.Customer:create"), []string{"s_ext"}; !slices.Equal(got, want) {
		t.Fatalf("after narrowing, profile.Customer:create goes to %v, want %v", got, want)
	}

	// Widening again in this process: OwnersChanged brings it back at once.
	src.mu.Lock()
	src.owners["client:ok"] = Owner{Permissions: []string{"*"}}
	src.mu.Unlock()
	if err := d.OwnersChanged(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := matched(d, "profile.Customer:create"), []string{"s_ext", "s_ok"}; !slices.Equal(got, want) {
		t.Fatalf("after widening, profile.Customer:create goes to %v, want %v", got, want)
	}

	// A subscription saved in this process by a deleted owner stays out.
	src.mu.Lock()
	src.subs = append(src.subs, ownedSub("s_gone2", "client:gone", "profile.Customer:create"))
	src.mu.Unlock()
	asked := src.asked
	if err := d.SubscriptionChanged(ctx, "s_gone2"); err != nil {
		t.Fatal(err)
	}
	if d.idx.get("s_gone2") != nil {
		t.Fatal("a deleted owner's new subscription entered the index")
	}
	if src.asked != asked {
		t.Errorf("the cached owner was asked about again (%d calls, want %d)", src.asked, asked)
	}
}

// BenchmarkFanOut measures the in-memory fan-out of one event (index
// match and the deliveries built for it) over 200 subscriptions of 50
// owners, without and with the owner check; the check is done when the
// index is built, so both should cost the same.
func BenchmarkFanOut(b *testing.B) {
	for _, withOwners := range []bool{false, true} {
		b.Run(fmt.Sprintf("owners=%v", withOwners), func(b *testing.B) {
			src := &ownersSource{owners: map[string]Owner{}}
			for i := range 200 {
				owner := fmt.Sprintf("client:c%d", i%50)
				src.owners[owner] = Owner{Permissions: []string{"profile.Customer:*"}}
				trigger := []string{"profile.Customer:create", "profile.Customer:*", "profile.Customer:update", "profile.Order:create"}[i%4]
				src.subs = append(src.subs, ownedSub(fmt.Sprintf("sub%d", i), owner, trigger))
			}
			d := newOwnersDispatcher(src, withOwners)
			if err := d.ensureIndex(context.Background()); err != nil {
				b.Fatal(err)
			}
			ev := &jqlgate.Event{ID: "evt_bench", Type: "profile.Customer:create", Data: map[string]any{"id": "cus_1"}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f := &jqlgate.Fanout{Event: ev, Targets: d.idx.match(ev, nil)}
				if dels := d.fanDeliveries([]*jqlgate.Fanout{f}); len(dels) != 100 {
					b.Fatalf("%d deliveries, want 100", len(dels))
				}
			}
		})
	}
}
