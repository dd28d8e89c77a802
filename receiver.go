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
// documentation and other special ranges.
var blockedPrefixes = mustPrefixes(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001:db8::/32", "fc00::/7",
	"fe80::/10", "ff00::/8", "fd00:ec2::254/128",
)

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

// AllowedAddr reports whether a receiver at addr may be contacted.
func (p AddrPolicy) AllowedAddr(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, a := range p.Allow {
		if a.Contains(addr) {
			return true
		}
	}
	for _, b := range blockedPrefixes {
		if b.Contains(addr) {
			return false
		}
	}
	return true
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
