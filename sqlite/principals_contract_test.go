package sqlite_test

import (
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/storetest"
)

// mustSealer returns a sealer under a fresh master key.
func mustSealer(tb testing.TB) *jqlgate.Sealer {
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
		return sqlite.NewSubscriptionStore(MustOpenDB(t), mustSealer(t))
	})
}

func TestTrustedSitesContract(t *testing.T) {
	storetest.TrustedSites(t, func(t *testing.T) (storetest.TrustedSiteStore, storetest.SubscriptionStore) {
		db, sealer := MustOpenDB(t), mustSealer(t)
		return sqlite.NewTrustedSiteStore(db, sealer), sqlite.NewSubscriptionStore(db, sealer)
	})
}

func TestAuthContract(t *testing.T) {
	storetest.Auth(t, func(t *testing.T) storetest.AuthStore { return sqlite.NewAuthStore(MustOpenDB(t)) })
}
