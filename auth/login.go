package auth

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jqlgate/jqlgate"
)

// LoginThrottle guards system.User logins against password guessing and
// against bcrypt starving the API.
//
// Per account (the username as sent, whether or not it exists, so the
// throttle tells nothing about which users exist): failed logins are
// answered 401, and after FreeFailures of them in a row the account is
// locked for LockBase, doubling with each further failure up to LockMax. While
// locked, logins are answered 429 JQL:RateLimitException with Retry-After
// and no password is checked, right or wrong. A success clears the count;
// so does LockMax with no failure once the lock has ended.
//
// Concurrency: at most MaxHashing passwords are checked at once; a login
// that finds every slot taken waits at most MaxWait among at most
// 8×MaxHashing waiters, else it is answered 429 with Retry-After.
//
// The state is per process: behind a load balancer each process throttles
// on its own.
type LoginThrottle struct {
	FreeFailures int           // default 5
	LockBase     time.Duration // default 1s
	LockMax      time.Duration // default 15m
	MaxHashing   int           // default GOMAXPROCS/2, at least 1
	MaxWait      time.Duration // default 1s
	Now          func() time.Time

	once    sync.Once
	slots   chan struct{}
	waiting atomic.Int64

	mu       sync.Mutex
	accounts map[string]*loginFailures
	sweptAt  time.Time
}

type loginFailures struct {
	count       int
	last        time.Time // the last failure
	lockedUntil time.Time
}

func (t *LoginThrottle) init() {
	t.once.Do(func() {
		n := t.MaxHashing
		if n <= 0 {
			n = max(1, runtime.GOMAXPROCS(0)/2)
		}
		t.slots = make(chan struct{}, n)
		t.accounts = map[string]*loginFailures{}
	})
}

func (t *LoginThrottle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *LoginThrottle) freeFailures() int {
	if t.FreeFailures <= 0 {
		return 5
	}
	return t.FreeFailures
}

// locked returns how long the account stays locked; zero when it is not.
func (t *LoginThrottle) locked(username string) time.Duration {
	t.init()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.accounts[username]; ok && now.Before(f.lockedUntil) {
		return f.lockedUntil.Sub(now)
	}
	return 0
}

// failed records a failed login of username and locks the account once
// its free failures are used up.
func (t *LoginThrottle) failed(username string) {
	t.init()
	now := t.now()
	lockMax := orDefault(t.LockMax, 15*time.Minute)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now, lockMax)
	f, ok := t.accounts[username]
	if !ok || t.forgotten(f, now, lockMax) {
		f = &loginFailures{}
		t.accounts[username] = f
	}
	f.count++
	f.last = now
	if extra := f.count - t.freeFailures() + 1; extra > 0 {
		d := orDefault(t.LockBase, time.Second)
		for i := 1; i < extra && d < lockMax; i++ {
			d *= 2
		}
		f.lockedUntil = now.Add(min(d, lockMax))
	}
}

// succeeded clears username's failures.
func (t *LoginThrottle) succeeded(username string) {
	t.init()
	t.mu.Lock()
	delete(t.accounts, username)
	t.mu.Unlock()
}

// forgotten reports whether f is old enough to start counting afresh.
func (t *LoginThrottle) forgotten(f *loginFailures, now time.Time, lockMax time.Duration) bool {
	return now.Sub(f.last) > lockMax && now.Sub(f.lockedUntil) > lockMax
}

func (t *LoginThrottle) sweep(now time.Time, lockMax time.Duration) {
	if now.Sub(t.sweptAt) < time.Minute {
		return
	}
	t.sweptAt = now
	for k, f := range t.accounts {
		if t.forgotten(f, now, lockMax) {
			delete(t.accounts, k)
		}
	}
}

// acquire takes a hashing slot, waiting at most MaxWait; release gives it
// back.
func (t *LoginThrottle) acquire(ctx context.Context) (release func(), err error) {
	t.init()
	release = func() { <-t.slots }
	select {
	case t.slots <- struct{}{}:
		return release, nil
	default:
	}
	busy := &jqlgate.Error{Code: jqlgate.ERATELIMIT, Message: "Too many logins at once; retry shortly.", RetryAfter: time.Second}
	if t.waiting.Add(1) > int64(8*cap(t.slots)) {
		t.waiting.Add(-1)
		return nil, busy
	}
	defer t.waiting.Add(-1)
	timer := time.NewTimer(orDefault(t.MaxWait, time.Second))
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, busy
	case <-ctx.Done():
		return nil, busy
	}
}

func lockedOut(d time.Duration) error {
	return &jqlgate.Error{Code: jqlgate.ERATELIMIT, Message: "Too many failed logins; retry later.", RetryAfter: d}
}
