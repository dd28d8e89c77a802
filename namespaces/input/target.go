package input

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Resolver resolves a receiver's host name (net.DefaultResolver does).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolveTimeout bounds the DNS lookup of a receiver host at save time.
const resolveTimeout = 5 * time.Second

// Targets checks the URLs requests will be sent to (webhook receivers,
// trusted sites, token endpoints) against the address policy.
type Targets struct {
	Policy   jqlgate.AddrPolicy
	Resolver Resolver
}

// CheckHost checks the URL in field and where its host resolves. A host
// that does not resolve yet (a receiver subscribed before it is deployed)
// is accepted with a warning; the dispatcher checks every address again
// when it connects (the guarded dialer), so a name that later resolves to
// a forbidden address is still never reached.
func (t Targets) CheckHost(ctx context.Context, p *jqlgate.Principal, field, raw string) (warning string, err error) {
	u, err := t.Policy.CheckURL(field, raw)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		return "", t.checkAddrs(p, field, host, []netip.Addr{addr})
	}
	if looksNumeric(host) {
		return "", jqlgate.Invalid(field, "host %s is not a valid IP address", host)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := t.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return field + ": host " + host + " does not resolve yet; deliveries will fail (and be retried) until it does.", nil
	}
	return "", t.checkAddrs(p, field, host, addrs)
}

// CheckResolves is CheckHost that also refuses a host that does not
// resolve (trusted sites are checked this way).
func (t Targets) CheckResolves(ctx context.Context, p *jqlgate.Principal, field, raw string) error {
	warning, err := t.CheckHost(ctx, p, field, raw)
	if err == nil && warning != "" {
		u, _ := t.Policy.CheckURL(field, raw)
		return jqlgate.Invalid(field, "host %s does not resolve", u.Hostname())
	}
	return err
}

func (t Targets) checkAddrs(p *jqlgate.Principal, field, host string, addrs []netip.Addr) error {
	private := false
	for _, a := range addrs {
		// A zone would make every prefix check miss: compare without it.
		switch t.Policy.Reach(a.WithZone("")) {
		case jqlgate.ReachPublic:
			continue
		case jqlgate.ReachAllowed:
			private = true
			continue
		}
		if a.String() == host {
			return jqlgate.Invalid(field, "address %s is loopback, private, link-local or otherwise reserved; webhooks may not reach it", host)
		}
		return jqlgate.Invalid(field, "host %s resolves to %s, a loopback, private, link-local or otherwise reserved address that webhooks may not reach", host, a)
	}
	if private && !CanReachPrivate(p) {
		return PrivateForbidden(field, host)
	}
	return nil
}

// CanReachPrivate reports whether p may use receivers that only the
// address policy's Allow list makes reachable.
func CanReachPrivate(p *jqlgate.Principal) bool {
	return p.Has(jqlgate.PermPrivateTargets)
}

// PrivateForbidden is the answer for a private target p may not use.
func PrivateForbidden(field, host string) error {
	return &jqlgate.Error{Code: jqlgate.EFORBIDDEN, Field: field,
		Message: "Host " + host + " is a private address that this server allows for webhooks; using it requires the permission " + jqlgate.PermPrivateTargets + "."}
}

// looksNumeric reports whether host is made of digits, dots and hex like a
// numeric address (2130706433, 0x7f.1) that some resolvers accept.
func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(strings.ToLower(last), "0x") {
		return true
	}
	return strings.Trim(last, "0123456789") == ""
}
