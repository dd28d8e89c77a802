package mongodb_test

import (
	"context"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
	"github.com/jqlgate/jqlgate/test/storetest"
)

// contractSealer returns a sealer under a fresh master key.
func contractSealer(tb testing.TB) *jqlgate.Sealer {
	tb.Helper()
	key, err := jqlgate.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	return sealer
}

func TestSubscriptionsContract(t *testing.T) {
	storetest.Subscriptions(t, func(t *testing.T) storetest.SubscriptionStore {
		s := mongodb.NewSubscriptionStore(mongotest.New(t), contractSealer(t))
		if err := s.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestTrustedSitesContract(t *testing.T) {
	storetest.TrustedSites(t, func(t *testing.T) (storetest.TrustedSiteStore, storetest.SubscriptionStore) {
		db, sealer := mongotest.New(t), contractSealer(t)
		sites, subs := mongodb.NewTrustedSiteStore(db, sealer), mongodb.NewSubscriptionStore(db, sealer)
		for _, ensure := range []func(context.Context) error{subs.EnsureIndexes, sites.EnsureIndexes} {
			if err := ensure(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		return sites, subs
	})
}

func TestAuthContract(t *testing.T) {
	storetest.Auth(t, func(t *testing.T) storetest.AuthStore {
		s := mongodb.NewAuthStore(mongotest.New(t))
		if err := s.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
