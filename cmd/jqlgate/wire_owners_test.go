package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/webhook"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// A running dispatcher notices, through the principals version it polls,
// a client narrowed or deleted by another process (the admin commands
// write the same store), without a restart.
func TestOwnersRevokedWhileRunning(t *testing.T) {
	ctx := context.Background()
	db := mongotest.New(t)
	key, _ := jqlgate.GenerateKey()
	sealer, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	subs, deliveries, principals := mongodb.NewSubscriptionStore(db, sealer), mongodb.NewDeliveryStore(db), mongodb.NewAuthStore(db)
	for _, ensure := range []func(context.Context) error{subs.EnsureIndexes, deliveries.EnsureIndexes, principals.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cc, err := auth.CreateClient(ctx, principals, "subscriber", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	if err != nil {
		t.Fatal(err)
	}
	d := dispatcher.New(dispatcher.Config{Store: deliveries, Source: subs, Disabler: subs, Owners: &ownerResolver{store: principals},
		Node: "owners-test", Policy: opsLoopback, Logger: quiet, Tick: 50 * time.Millisecond})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.Close(ctx)
		_ = deliveries.Close(ctx)
	})
	mux := namespaces.NewMux()
	webhook.Register(mux, webhook.Deps{Store: subs, Catalogue: opsCatalogue{}, Notifier: notifier{d, quiet}, Policy: opsLoopback})

	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	t.Cleanup(recv.Close)
	p := &jqlgate.Principal{ID: cc.ClientID, Kind: jqlgate.PrincipalClient, Permissions: []string{"system.Webhook:*", jqlgate.PermPrivateTargets, "profile.Customer:*"}}
	_, err = mux.Serve(ctx, &jqlgate.Command{Principal: p, Meta: jqlgate.Meta{Namespace: webhook.Namespace, Schema: jqlgate.SchemaController, Intent: "subscribeToWebhook"},
		Fields: map[string]any{"prefix": "owners", "trigger": "profile.Customer:*", "webhookUrl": recv.URL}})
	if err != nil {
		t.Fatal(err)
	}

	// deliveredWithin publishes one customer event and reports whether it
	// arrived; a withheld subscription gets nothing.
	deliveredWithin := func(want bool) {
		t.Helper()
		before := got.Load()
		if err := d.Publish(ctx, &jqlgate.Event{Type: "profile.Customer:update", EntityID: "cus_1", Data: map[string]any{"id": "cus_1"}}); err != nil {
			t.Fatal(err)
		}
		wait := 5 * time.Second
		if !want {
			wait = 1500 * time.Millisecond
		}
		deadline := time.Now().Add(wait)
		for got.Load() == before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if arrived := got.Load() > before; arrived != want {
			t.Fatalf("delivered %v, want %v", arrived, want)
		}
	}
	// waitPoll lets the dispatcher's version poll run a few times.
	waitPoll := func() { time.Sleep(300 * time.Millisecond) }

	deliveredWithin(true)
	if err := setScope(ctx, "system.Webhook:* system.Webhook:privateTargets profile.Customer:create", cc.ClientID, principals.SetClientPermissions); err != nil {
		t.Fatal(err)
	}
	waitPoll()
	deliveredWithin(false)
	if err := setScope(ctx, "system.Webhook:* system.Webhook:privateTargets profile.Customer:retrieve", cc.ClientID, principals.SetClientPermissions); err != nil {
		t.Fatal(err)
	}
	waitPoll()
	deliveredWithin(true)

	n, err := deletePrincipal(ctx, principals, subs, jqlgate.PrincipalClient, cc.ClientID, principals.DeleteClient)
	if err != nil || n != 1 {
		t.Fatalf("deletePrincipal = %d, %v; want 1 subscription disabled", n, err)
	}
	waitPoll()
	deliveredWithin(false)
	list, _, err := subs.List(ctx, jqlgate.SubscriptionQuery{Owner: p.Owner()})
	if err != nil || len(list) != 1 || list[0].Enabled || list[0].DisabledReason != ownerDeleted {
		t.Fatalf("the deleted client's subscriptions: %+v, %v; want one disabled with reason %q", list, err, ownerDeleted)
	}
}
