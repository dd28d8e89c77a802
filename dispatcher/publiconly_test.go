package dispatcher_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// A subscription marked PublicOnly (made without
// system.Webhook:privateTargets) is refused at connect time when its host
// resolves to an address only the policy's Allow list makes reachable, as
// after DNS rebinding; the same subscription without the mark is delivered.
func TestPublicOnlyRefusesAllowedPrivate(t *testing.T) {
	rc := newReceiver(t, nil)
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	resolve := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	for _, publicOnly := range []bool{true, false} {
		s := sub("sub_rebind", "*", "http://hooks.example.com:"+port+"/in")
		s.PublicOnly = publicOnly
		e := start(t, newSource(s), dispatcher.Config{Policy: loopback, Resolve: resolve})
		publish(t, e, event("a.B:create", "1", nil))
		as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
		refused := as[0].Status == jqlgate.StatusResent && strings.Contains(as[0].Error, "not allowed")
		if refused != publicOnly {
			t.Errorf("PublicOnly %v: attempt %s %q", publicOnly, as[0].Status, as[0].Error)
		}
	}
	if len(rc.reqs) != 1 {
		t.Errorf("receiver got %d requests, want only the one not marked PublicOnly", len(rc.reqs))
	}
}
