package jqlgate

import (
	"net/netip"
	"testing"
)

// Addresses that carry a special IPv4 address inside an IPv6 form, and the
// deprecated site-local range, are refused like the IPv4 address itself;
// the same forms around public IPv4 addresses stay reachable.
func TestAddrPolicyReach(t *testing.T) {
	def := AddrPolicy{}
	allow := AddrPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	cases := []struct {
		addr       string
		def, allow Reach
	}{
		{"8.8.8.8", ReachPublic, ReachPublic},
		{"2606:4700::1111", ReachPublic, ReachPublic},
		{"127.0.0.1", ReachBlocked, ReachAllowed},
		{"::ffff:127.0.0.1", ReachBlocked, ReachAllowed},
		{"169.254.169.254", ReachBlocked, ReachBlocked},
		{"fd00::1", ReachBlocked, ReachAllowed},
		// IPv4-compatible ::/96
		{"::127.0.0.2", ReachBlocked, ReachBlocked},
		{"::169.254.169.254", ReachBlocked, ReachBlocked},
		{"::8.8.8.8", ReachPublic, ReachPublic},
		// 6to4: IPv4 in bits 16-47
		{"2002:a9fe:a9fe::1", ReachBlocked, ReachBlocked},
		{"2002:7f00:1::1", ReachBlocked, ReachBlocked},
		{"2002:808:808::1", ReachPublic, ReachPublic},
		// Teredo: server IPv4 in bits 32-63, client IPv4 inverted in the last 32
		{"2001:0:a9fe:a9fe::1", ReachBlocked, ReachBlocked},
		{"2001:0:808:808::5601:fefe", ReachBlocked, ReachBlocked},  // client ^5601:fefe = 169.254.1.1
		{"2001:0:808:808:0:0:f7f7:f7f7", ReachPublic, ReachPublic}, // client 8.8.8.8
		// NAT64, well-known and local-use
		{"64:ff9b::a9fe:a9fe", ReachBlocked, ReachBlocked},
		{"64:ff9b:1::a9fe:a9fe", ReachBlocked, ReachBlocked},
		// SIIT IPv4-translated ::ffff:0:a.b.c.d
		{"::ffff:0:a9fe:a9fe", ReachBlocked, ReachBlocked},
		{"::ffff:0:7f00:1", ReachBlocked, ReachBlocked},
		// deprecated site-local
		{"fec0::1", ReachBlocked, ReachBlocked},
		{"feff::1", ReachBlocked, ReachBlocked},
		{"fe80::1%eth0", ReachBlocked, ReachBlocked},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.addr)
		if got := def.Reach(a); got != c.def {
			t.Errorf("default policy: Reach(%s) = %d, want %d", c.addr, got, c.def)
		}
		if got := allow.Reach(a); got != c.allow {
			t.Errorf("allowing 127.0.0.0/8: Reach(%s) = %d, want %d", c.addr, got, c.allow)
		}
		if def.AllowedAddr(a) != (c.def != ReachBlocked) {
			t.Errorf("AllowedAddr(%s) disagrees with Reach", c.addr)
		}
	}
	if allow.Public().Reach(netip.MustParseAddr("127.0.0.1")) != ReachBlocked {
		t.Error("Public() still allows 127.0.0.1")
	}
}
