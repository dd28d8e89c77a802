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
