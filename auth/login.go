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
// against bcrypt starving the API, without letting anyone lock a user out.
//
// Per username and client address together (the username as sent,
// whether or not it exists, so the throttle tells nothing about which
// users exist): failed logins are answered 401, and after FreeFailures of
// them in a row that address is locked out of that username for LockBase,
// doubling with each further failure up to LockMax. While locked, its
// logins are answered 429 JQL:RateLimitException with Retry-After and no
// password is checked, right or wrong. A success clears the count; so does
// LockMax with no failure once the lock has ended. Other addresses are not
// affected: a guesser can lock out only itself.
//
// Per username, from every address (the ceiling): failures fill a bucket
// of UserFailures that empties by one every UserRefill. While it is full,
// every login of that username waits UserDelay before its password is
// checked; a right password still succeeds. Guessing from many addresses
// is slowed, and the user is never locked out by it.
//
// Concurrency: at most MaxHashing passwords are checked at once; a login
// that finds every slot taken waits at most MaxWait among at most
// 8×MaxHashing waiters, else it is answered 429 with Retry-After.
//
// The state is per process: behind a load balancer each process throttles
// on its own.
type LoginThrottle struct {
	FreeFailures int           // per username and address; default 5
	LockBase     time.Duration // default 1s
	LockMax      time.Duration // default 15m
	UserFailures int           // per username; default 20
	UserRefill   time.Duration // default 30s
	UserDelay    time.Duration // default 2s
	MaxHashing   int           // default GOMAXPROCS/2, at least 1
	MaxWait      time.Duration // default 1s
	Now          func() time.Time

	once    sync.Once
	slots   chan struct{}
	waiting atomic.Int64

	mu       sync.Mutex
	accounts map[string]*loginFailures // by username and address
	users    map[string]*userFailures  // by username
	sweptAt  time.Time
}

type loginFailures struct {
	count       int
	last        time.Time // the last failure
	lockedUntil time.Time
}

// userFailures is a username's bucket of failures from every address: its
// level as of at, draining by one per UserRefill.
type userFailures struct {
	level float64
	at    time.Time
}

func (t *LoginThrottle) init() {
	t.once.Do(func() {
		n := t.MaxHashing
		if n <= 0 {
			n = max(1, runtime.GOMAXPROCS(0)/2)
		}
		t.slots = make(chan struct{}, n)
		t.accounts = map[string]*loginFailures{}
		t.users = map[string]*userFailures{}
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

func (t *LoginThrottle) userFailures() float64 {
	if t.UserFailures <= 0 {
		return 20
	}
	return float64(t.UserFailures)
}

// accountKey is the key of username's failures from addr.
func accountKey(username, addr string) string { return username + "\x00" + addr }

// locked returns how long addr stays locked out of username; zero when it
// is not.
func (t *LoginThrottle) locked(username, addr string) time.Duration {
	t.init()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.accounts[accountKey(username, addr)]; ok && now.Before(f.lockedUntil) {
		return f.lockedUntil.Sub(now)
	}
	return 0
}

// delay returns how long a login of username waits before its password is
// checked: UserDelay once the username's ceiling is reached, else zero.
func (t *LoginThrottle) delay(username string) time.Duration {
	t.init()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	// Past UserFailures-1 rather than at UserFailures: the bucket drains
	// between failures, so UserFailures quick ones leave a little less.
	if u, ok := t.users[username]; ok && t.drained(u, now) > t.userFailures()-1 {
		return orDefault(t.UserDelay, 2*time.Second)
	}
	return 0
}

// drained is u's level at now.
func (t *LoginThrottle) drained(u *userFailures, now time.Time) float64 {
	return max(0, u.level-float64(now.Sub(u.at))/float64(orDefault(t.UserRefill, 30*time.Second)))
}

// slow waits out username's delay, if any.
func (t *LoginThrottle) slow(ctx context.Context, username string) error {
	d := t.delay(username)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return &jqlgate.Error{Code: jqlgate.ERATELIMIT, Message: "Too many failed logins; retry later.", RetryAfter: d}
	}
}

// failed records a failed login of username from addr: it locks addr out
// of username once its free failures are used up, and fills username's
// bucket.
func (t *LoginThrottle) failed(username, addr string) {
	t.init()
	now := t.now()
	lockMax := orDefault(t.LockMax, 15*time.Minute)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now, lockMax)
	key := accountKey(username, addr)
	f, ok := t.accounts[key]
	if !ok || t.forgotten(f, now, lockMax) {
		f = &loginFailures{}
		t.accounts[key] = f
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
	u, ok := t.users[username]
	if !ok {
		u = &userFailures{}
		t.users[username] = u
	}
	// The bucket holds at most twice the ceiling, so it drains within
	// 2×UserFailures×UserRefill of the last failure.
	u.level, u.at = min(t.drained(u, now)+1, 2*t.userFailures()), now
}

// succeeded clears username's failures from addr. The username's bucket
// is left to drain: a guesser gains nothing from the user's own login.
func (t *LoginThrottle) succeeded(username, addr string) {
	t.init()
	t.mu.Lock()
	delete(t.accounts, accountKey(username, addr))
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
	for k, u := range t.users {
		if t.drained(u, now) == 0 {
			delete(t.users, k)
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
