package auth

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet keeps one token bucket per key (a client id or a remote IP),
// dropping buckets idle for ten minutes so the set can't grow without
// bound.
type limiterSet struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	m       map[string]*bucket
	sweptAt time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// allow takes one token for key; when none is left it reports how long
// until one is.
func (s *limiterSet) allow(key string, now time.Time) (bool, time.Duration) {
	if s.limit <= 0 {
		return true, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*bucket{}
	}
	s.sweep(now)
	b, ok := s.m[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(s.limit, s.burst)}
		s.m[key] = b
	}
	b.seen = now
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (s *limiterSet) sweep(now time.Time) {
	if now.Sub(s.sweptAt) < time.Minute {
		return
	}
	s.sweptAt = now
	for k, b := range s.m {
		if now.Sub(b.seen) > 10*time.Minute {
			delete(s.m, k)
		}
	}
}

// retryAfterSeconds rounds d up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
