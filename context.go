package jqlgate

import (
	"context"
	"sync/atomic"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
	queryCounterKey
	clientAddrKey
)

// NewContextWithPrincipal returns a context carrying p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the principal of the request, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// NewContextWithRequestID returns a context carrying the request id.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFromContext returns the request id, or "".
func RequestIDFromContext(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// NewContextWithClientAddr returns a context carrying the address of the
// client that sent the request (the peer, or the address a trusted proxy
// named).
func NewContextWithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey, addr)
}

// ClientAddrFromContext returns the client's address, or "".
func ClientAddrFromContext(ctx context.Context) string {
	s, _ := ctx.Value(clientAddrKey).(string)
	return s
}

// QueryCounter counts the store round trips one request makes; the count is
// reported as extras.queries.
type QueryCounter struct{ n atomic.Int64 }

// Count returns the number of round trips counted so far.
func (c *QueryCounter) Count() int { return int(c.n.Load()) }

// NewContextWithQueryCounter returns a context that counts store round trips.
func NewContextWithQueryCounter(ctx context.Context) (context.Context, *QueryCounter) {
	c := &QueryCounter{}
	return context.WithValue(ctx, queryCounterKey, c), c
}

// CountQuery records one store round trip on ctx's counter, if it has one.
// The store calls it once per command it sends.
func CountQuery(ctx context.Context) {
	if c, ok := ctx.Value(queryCounterKey).(*QueryCounter); ok && c != nil {
		c.n.Add(1)
	}
}

// WithoutQueryCounter returns ctx without its query counter, for store
// reads a request makes that are not its command's (a cache of
// authentication state filling itself), so that extras.queries does not
// depend on what happened to be cached.
func WithoutQueryCounter(ctx context.Context) context.Context {
	if c, _ := ctx.Value(queryCounterKey).(*QueryCounter); c == nil {
		return ctx
	}
	return context.WithValue(ctx, queryCounterKey, (*QueryCounter)(nil))
}
