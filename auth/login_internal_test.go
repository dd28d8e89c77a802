package auth

import (
	"context"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

func TestLoginHashingSlotsBounded(t *testing.T) {
	th := &LoginThrottle{MaxHashing: 2, MaxWait: 20 * time.Millisecond}
	ctx := context.Background()
	var releases []func()
	for range 2 {
		r, err := th.acquire(ctx)
		if err != nil {
			t.Fatalf("free slot: %v", err)
		}
		releases = append(releases, r)
	}
	// Every slot taken: the next login waits a little, then is told to
	// come back instead of queueing.
	_, err := th.acquire(ctx)
	if jqlgate.ErrorCode(err) != jqlgate.ERATELIMIT || jqlgate.AsError(err).RetryAfter <= 0 {
		t.Fatalf("all slots taken: got %v, want ERATELIMIT with RetryAfter", err)
	}
	// Too many waiters: refused at once.
	th.waiting.Store(16)
	if _, err := th.acquire(ctx); jqlgate.ErrorCode(err) != jqlgate.ERATELIMIT {
		t.Fatalf("waiters full: got %v, want ERATELIMIT", err)
	}
	th.waiting.Store(0)
	// A waiter gets the slot as soon as one is released.
	got := make(chan error, 1)
	th.MaxWait = 10 * time.Second
	go func() {
		r, err := th.acquire(ctx)
		if r != nil {
			r()
		}
		got <- err
	}()
	releases[0]()
	if err := <-got; err != nil {
		t.Fatalf("waiter after a release: %v", err)
	}
	releases[1]()
}
