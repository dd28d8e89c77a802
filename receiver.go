package jqlgate

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// blockedPrefixes are the address ranges a webhook may not reach unless
// configuration allows them: loopback, private, link-local (including the
// cloud metadata address 169.254.169.254), CGNAT, multicast, unspecified,
// documentation and other special ranges, the NAT64 prefixes (well-known
// and local-use: the IPv4 address they reach depends on the translator) and
// the deprecated IPv6 site-local range.
var blockedPrefixes = mustPrefixes(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7",
	"fe80::/10", "fec0::/10", "ff00::/8", "fd00:ec2::254/128",
)

// IPv6 ranges that carry an IPv4 address inside them: a packet to one of
// them may end up at that IPv4 address (through a 6to4 relay, a Teredo
// server, a translator or the host's own stack), so the IPv4 address is
// checked too.
var (
	compatPrefix = netip.MustParsePrefix("::/96")           // IPv4-compatible (deprecated)
	siitPrefix   = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated
	sixToFour    = netip.MustParsePrefix("2002::/16")       // 6to4: IPv4 in bits 16-47
	teredo       = netip.MustParsePrefix("2001::/32")       // Teredo: server IPv4 in bits 32-63, client IPv4 inverted in the last 32
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48")  // NAT64 local-use (RFC 8215)
)

// embeddedIPv4 returns the IPv4 addresses an IPv6 address carries in one of
// the forms above, none for any other address.
func embeddedIPv4(a netip.Addr) []netip.Addr {
	if !a.Is6() {
		return nil
	}
	b := a.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	switch {
	case compatPrefix.Contains(a), siitPrefix.Contains(a), nat64Prefix.Contains(a), nat64Local.Contains(a):
		return []netip.Addr{v4(12)}
	case sixToFour.Contains(a):
		return []netip.Addr{v4(2)}
	case teredo.Contains(a):
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return []netip.Addr{v4(4), client}
	}
	return nil
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// AddrPolicy decides which receiver addresses webhooks may reach. The zero
// value blocks every special-purpose range.
type AddrPolicy struct {
	// Allow lists ranges that are reachable even though they are blocked
	// by default (JQLGATE_WEBHOOK_ALLOW_CIDRS).
	Allow []netip.Prefix
	// RequireHTTPS refuses plain http receiver URLs.
	RequireHTTPS bool
}

// ParseCIDRs parses a comma- or space-separated list of CIDR ranges or
// single addresses.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range or address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Reach is how the address policy treats one receiver address.
type Reach int

const (
	// ReachPublic: an address webhooks may reach by default.
	ReachPublic Reach = iota
	// ReachAllowed: a loopback, private or otherwise special address that
	// is reachable only because AddrPolicy.Allow lists it. Pointing a
	// webhook at one takes the permission PermPrivateTargets.
	ReachAllowed
	// ReachBlocked: an address webhooks may not reach.
	ReachBlocked
)

// Reach classifies a receiver address. Allow ranges are matched against
// the address itself; an IPv6 address that embeds an IPv4 one (IPv4-
// compatible, SIIT, 6to4, Teredo, NAT64) is special when the IPv4 address
// is, and so reachable only when Allow lists the IPv6 address.
func (p AddrPolicy) Reach(addr netip.Addr) Reach {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return ReachBlocked
	}
	if !specialAddr(addr) {
		return ReachPublic
	}
	for _, a := range p.Allow {
		if a.Contains(addr) {
			return ReachAllowed
		}
	}
	return ReachBlocked
}

// specialAddr reports whether addr, or an IPv4 address it embeds, is in
// one of the blocked ranges.
func specialAddr(addr netip.Addr) bool {
	for _, b := range blockedPrefixes {
		if b.Contains(addr) {
			return true
		}
	}
	for _, v4 := range embeddedIPv4(addr) {
		if specialAddr(v4) {
			return true
		}
	}
	return false
}

// AllowedAddr reports whether a receiver at addr may be contacted: a
// public address, or a special one that Allow lists.
func (p AddrPolicy) AllowedAddr(addr netip.Addr) bool {
	return p.Reach(addr) != ReachBlocked
}

// Public returns the policy without its Allow list: only public addresses.
// It is the policy for principals without PermPrivateTargets.
func (p AddrPolicy) Public() AddrPolicy {
	p.Allow = nil
	return p
}

// CheckURL validates a receiver URL's form: absolute http or https (https
// only when required), a host, no user info, no fragment. It does not
// resolve the host; callers check the resolved addresses with AllowedAddr.
// The returned error is an EINVALID *Error about field.
func (p AddrPolicy) CheckURL(field, raw string) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, Invalid(field, "must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return nil, Invalid(field, "must be an absolute http or https URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if p.RequireHTTPS {
			return nil, Invalid(field, "must use https")
		}
	default:
		return nil, Invalid(field, "must be an absolute http or https URL, not %s", u.Scheme)
	}
	switch {
	case u.Hostname() == "":
		return nil, Invalid(field, "must name a host")
	case u.User != nil:
		return nil, Invalid(field, "must not contain user info; use basicAuth")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, Invalid(field, "must not contain a fragment")
	case !validPort(u):
		return nil, Invalid(field, "port must be a number from 1 to 65535")
	}
	return u, nil
}

// validPort reports whether u has no port (the scheme's), or one from 1 to
// 65535.
func validPort(u *url.URL) bool {
	p := u.Port()
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
