package gateway

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what one request may cost. Zero fields take the default
// (DefaultLimits); a negative Rate turns rate limiting off.
type Limits struct {
	// BodyBytes is the largest request body accepted (413 above it).
	BodyBytes int64
	// RequestTimeout bounds reading the body and running the handler (503).
	RequestTimeout time.Duration
	// Rate and Burst size each client's token bucket: requests per second
	// and the bucket size. Clients are keyed by principal, or by remote IP
	// before authentication.
	Rate  float64
	Burst int
	// MaxDepth is how deeply objects and arrays may nest.
	MaxDepth int
	// MaxFields is how many object keys the whole body may hold.
	MaxFields int
	// MaxItems is how many array elements the whole body may hold.
	MaxItems int
	// MaxStringBytes bounds each string value; MaxKeyBytes each object key.
	MaxStringBytes int
	MaxKeyBytes    int
}

// DefaultLimits returns the limits used where none are configured.
func DefaultLimits() Limits {
	return Limits{
		BodyBytes:      1 << 20,
		RequestTimeout: 30 * time.Second,
		Rate:           200,
		Burst:          400,
		MaxDepth:       32,
		MaxFields:      1000,
		MaxItems:       10000,
		MaxStringBytes: 256 << 10,
		MaxKeyBytes:    256,
	}
}

// withDefaults fills every zero field from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	orDefault(&l.BodyBytes, d.BodyBytes)
	orDefault(&l.RequestTimeout, d.RequestTimeout)
	orDefault(&l.Rate, d.Rate)
	orDefault(&l.Burst, d.Burst)
	orDefault(&l.MaxDepth, d.MaxDepth)
	orDefault(&l.MaxFields, d.MaxFields)
	orDefault(&l.MaxItems, d.MaxItems)
	orDefault(&l.MaxStringBytes, d.MaxStringBytes)
	orDefault(&l.MaxKeyBytes, d.MaxKeyBytes)
	return l
}

func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// limiter holds one token bucket per client key.
type limiter struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond < 0 {
		return nil
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// wait returns 0 when key may make a request now, else how long until it
// may. A nil limiter allows everything.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return 0
	}
	r := b.lim.ReserveN(now, 1)
	defer r.CancelAt(now)
	if !r.OK() {
		return time.Second
	}
	return r.DelayFrom(now)
}

// sweep forgets buckets idle long enough to have refilled: forgetting a
// full bucket changes nothing, and keeps the map as small as the set of
// recent clients.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	refill := time.Duration(float64(l.burst)/float64(l.rate)*float64(time.Second)) + time.Minute
	for k, b := range l.buckets {
		if now.Sub(b.seen) > refill {
			delete(l.buckets, k)
		}
	}
}

// retryAfterSeconds renders a delay as a Retry-After value: whole seconds,
// at least 1.
func retryAfterSeconds(d time.Duration) int {
	return int(max(1, math.Ceil(d.Seconds())))
}
