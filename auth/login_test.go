package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

// clock is a settable time for the login throttle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLoginLockoutGrows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e.users.Throttle.Now = clk.now
	if _, err := e.users.Create(ctx, "ada", "correct horse", "*"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ada", "nobody"} { // unknown users are throttled alike
		for i := range 5 {
			if _, err := e.users.Login(ctx, name, "wrong password"); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
				t.Fatalf("%s guess %d: got %v, want EUNAUTHORIZED", name, i+1, err)
			}
		}
		// The 5th failure locked the account for 1s: even the right
		// password is refused, unchecked.
		_, err := e.users.Login(ctx, name, "correct horse")
		if jqlgate.ErrorCode(err) != jqlgate.ERATELIMIT || jqlgate.AsError(err).RetryAfter != time.Second {
			t.Fatalf("%s while locked: got %v, want ERATELIMIT retry after 1s", name, err)
		}
	}
	// Each further failure doubles the lock.
	for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		clk.add(time.Hour / 7) // past the lock, not past forgetting
		_, _ = e.users.Login(ctx, "ada", "wrong password")
		_, err := e.users.Login(ctx, "ada", "wrong password")
		if got := jqlgate.AsError(err).RetryAfter; jqlgate.ErrorCode(err) != jqlgate.ERATELIMIT || got != want {
			t.Fatalf("lock after another failure: got %v (%s), want %s", err, got, want)
		}
	}
	// The lock never passes 15 minutes.
	for range 20 {
		clk.add(time.Hour / 4)
		_, _ = e.users.Login(ctx, "ada", "wrong password")
	}
	if _, err := e.users.Login(ctx, "ada", "x"); jqlgate.AsError(err).RetryAfter != 15*time.Minute {
		t.Fatalf("capped lock: got %v, want 15m", err)
	}
	// The right password after the lock works, and clears the count.
	clk.add(15 * time.Minute)
	if _, err := e.users.Login(ctx, "ada", "correct horse"); err != nil {
		t.Fatalf("right password after the lock: %v", err)
	}
	if _, err := e.users.Login(ctx, "ada", "wrong password"); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
		t.Fatalf("first failure after a success: got %v, want EUNAUTHORIZED", err)
	}
}

// from is a request context whose client address is addr.
func from(addr string) context.Context {
	return jqlgate.NewContextWithClientAddr(context.Background(), addr)
}

// The lock-out keys on the username and the client's address together: a
// guesser locks out only itself; the user signs in from their own address
// with the right password at once. Before, five guesses from anywhere
// locked the username for everyone.
func TestLoginLockoutPerAddress(t *testing.T) {
	e := newEnv(t)
	if _, err := e.users.Create(context.Background(), "admin", "correct horse", "*"); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		_, _ = e.users.Login(from("203.0.113.66"), "admin", "wrong password")
	}
	if _, err := e.users.Login(from("203.0.113.66"), "admin", "correct horse"); jqlgate.ErrorCode(err) != jqlgate.ERATELIMIT {
		t.Errorf("the guesser's address: got %v, want ERATELIMIT", err)
	}
	if _, err := e.users.Login(from("198.51.100.7"), "admin", "correct horse"); err != nil {
		t.Errorf("the right password from another address while the guesser is locked out: %v", err)
	}
}

// Guesses from many addresses reach the per-username ceiling: every login
// of that username is then delayed, never refused, and the right password
// still signs in from a new address.
func TestLoginCeilingSlowsNeverLocks(t *testing.T) {
	e := newEnv(t)
	e.users.Throttle.UserFailures = 6
	e.users.Throttle.UserDelay = 300 * time.Millisecond
	if _, err := e.users.Create(context.Background(), "admin", "correct horse", "*"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := e.users.Login(from("198.51.100.1"), "admin", "correct horse"); err != nil || time.Since(start) > 250*time.Millisecond {
		t.Fatalf("before any guess: %v after %s, want a prompt success", err, time.Since(start))
	}
	for i := range 6 { // three addresses, two guesses each: none locked out
		if _, err := e.users.Login(from("203.0.113."+string(rune('1'+i/2))), "admin", "wrong password"); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED {
			t.Fatalf("guess %d: got %v, want EUNAUTHORIZED", i+1, err)
		}
	}
	start = time.Now()
	if _, err := e.users.Login(from("198.51.100.2"), "admin", "correct horse"); err != nil {
		t.Fatalf("the right password from a new address past the ceiling: %v, want success", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("a login past the ceiling took %s, want it delayed by 300ms", d)
	}
	start = time.Now()
	if _, err := e.users.Login(from("203.0.113.9"), "admin", "wrong password"); jqlgate.ErrorCode(err) != jqlgate.EUNAUTHORIZED || time.Since(start) < 300*time.Millisecond {
		t.Errorf("a guess past the ceiling: %v after %s, want EUNAUTHORIZED after the delay", err, time.Since(start))
	}
	// Another username is not slowed.
	if _, err := e.users.Create(context.Background(), "bob", "correct horse", "*"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := e.users.Login(from("203.0.113.1"), "bob", "correct horse"); err != nil || time.Since(start) > 250*time.Millisecond {
		t.Errorf("another username: %v after %s, want a prompt success", err, time.Since(start))
	}
}
