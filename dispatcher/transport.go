package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/jqlgate/jqlgate"
)

// ResolveFunc resolves a receiver host name to addresses.
type ResolveFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// BlockedAddrError is the failure of a connection the address policy
// refused: the receiver's name resolved to a private or special address.
type BlockedAddrError struct {
	Addr netip.Addr
}

func (e *BlockedAddrError) Error() string {
	return fmt.Sprintf("receiver address %s is not allowed (private or special-purpose range)", e.Addr)
}

// newTransport returns the transport for receivers: it resolves each host
// itself and checks every address at connect time against policy (so a
// name that resolved public when the subscription was made and private now,
// as in DNS rebinding, is still refused), ignores proxy settings from the
// environment, and keeps connections alive for reuse.
func newTransport(policy jqlgate.AddrPolicy, resolve ResolveFunc) *http.Transport {
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if !policy.AllowedAddr(ap.Addr()) {
				return &BlockedAddrError{Addr: ap.Addr().Unmap()}
			}
			return nil
		},
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           guardedDial(dialer, resolve),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 0, // bounded by each attempt's context
	}
}

// guardedDial resolves host with resolve and dials the addresses in turn;
// the dialer's Control func refuses disallowed ones.
func guardedDial(dialer *net.Dialer, resolve ResolveFunc) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var ips []netip.Addr
		if ip, perr := netip.ParseAddr(host); perr == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = resolve(ctx, host); err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s: no addresses", host)
		}
		var firstErr error
		for _, ip := range ips {
			conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil || isBlocked(firstErr) && !isBlocked(err) {
				firstErr = err
			}
		}
		return nil, firstErr
	}
}

func isBlocked(err error) bool {
	var be *BlockedAddrError
	return errors.As(err, &be)
}

// newClient returns the HTTP client for receivers: redirects are not
// followed (a 3xx is a failed attempt) and each attempt's context bounds it.
func newClient(t http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
