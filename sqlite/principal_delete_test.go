package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/test/storetest"
)

// Deleting a principal disables its subscriptions in the same transaction,
// and leaves another owner's alone; a principal that is not there is
// ENOTFOUND and disables nothing.
func TestDeletePrincipalDisablesItsSubscriptions(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	auth, subs := sqlite.NewAuthStore(db), sqlite.NewSubscriptionStore(db, mustSealer(t))
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, id := range []string{"a", "b"} {
		if err := auth.CreateClient(ctx, &jqlgate.Client{ID: id, Name: id, Permissions: []string{"*"}, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := subs.Create(ctx, storetest.FullSubscription("client:"+id, "https://example.com/"+id)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := subs.Version(ctx)
	n, err := auth.DeletePrincipal(ctx, jqlgate.PrincipalClient, "a", "owner deleted")
	if err != nil || n != 1 {
		t.Fatalf("DeletePrincipal = %d, %v; want 1 subscription disabled", n, err)
	}
	if _, err := auth.Client(ctx, "a"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		t.Errorf("client a after delete: %v, want ENOTFOUND", err)
	}
	if after, _ := subs.Version(ctx); after != before+1 {
		t.Errorf("subscriptions version %d -> %d, want one bump", before, after)
	}
	enabled, err := subs.ListEnabled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(enabled) != 1 || enabled[0].Owner != "client:b" {
		t.Errorf("enabled after delete = %+v, want only client:b's", enabled)
	}
	if n, err := auth.DeletePrincipal(ctx, jqlgate.PrincipalClient, "a", "owner deleted"); jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND || n != 0 {
		t.Errorf("second DeletePrincipal = %d, %v; want 0, ENOTFOUND", n, err)
	}
	if _, err := auth.DeletePrincipal(ctx, "robot", "x", "owner deleted"); jqlgate.ErrorCode(err) != jqlgate.EINVALID {
		t.Errorf("DeletePrincipal of an unknown kind = %v, want EINVALID", err)
	}
}
