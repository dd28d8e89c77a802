package test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// storeProxy forwards TCP connections to the store, and can cut them: the
// store then looks stopped to whoever connects through the proxy.
type storeProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

// newStoreProxy listens on a free loopback port and forwards to target
// (host:port) until the test ends.
func newStoreProxy(t testing.TB, target string) *storeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &storeProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
	})
	return p
}

// proxiedURI returns uri with its host replaced by the proxy's address, a
// direct connection, and short timeouts, or "" when uri names several
// hosts or a DNS seed list (a replica set's members would be reached
// around the proxy).
func (p *storeProxy) proxiedURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "mongodb" || strings.Contains(u.Host, ",") {
		return ""
	}
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Del("replicaSet")
	q.Set("directConnection", "true")
	q.Set("connectTimeoutMS", "1000")
	u.RawQuery = q.Encode()
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// targetOf returns the host:port of a single-host MongoDB URI.
func targetOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Host
}

func (p *storeProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

// forward pipes c to a new connection to the target, unless cut.
func (p *storeProxy) forward(c net.Conn) {
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	go p.pipe(up, c)
	p.pipe(c, up)
}

// track registers a forwarded pair, or closes it if the proxy was cut
// meanwhile.
func (p *storeProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies from src to dst, then closes both.
func (p *storeProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
	dst.Close()
	src.Close()
}

// Cut closes every forwarded connection and refuses new ones (they are
// accepted and closed at once) until Restore.
func (p *storeProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore forwards new connections again.
func (p *storeProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}
