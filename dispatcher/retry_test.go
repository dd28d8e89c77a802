package dispatcher_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// TestFailsTwiceThenDone: a receiver that fails twice then succeeds gets
// the event on the third attempt, and the log shows Resent, Resent, Done
// with the response codes.
func TestFailsTwiceThenDone(t *testing.T) {
	codes := []int{500, 503, 200}
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(codes[min(n, len(codes))-1])
	})
	s := sub("sub_3rd", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
	e := start(t, newSource(s), dispatcher.Config{})
	publish(t, e, event("a.B:create", "1", nil))
	as := sortAttempts(e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 3 }))
	want := []string{jqlgate.StatusResent, jqlgate.StatusResent, jqlgate.StatusDone}
	for i, a := range as {
		if a.Status != want[i] || a.ResponseCode != codes[i] || a.Attempt != i+1 {
			t.Errorf("attempt %d = #%d %s %d, want #%d %s %d", i, a.Attempt, a.Status, a.ResponseCode, i+1, want[i], codes[i])
		}
	}
	if len(rc.reqs) != 3 {
		t.Errorf("receiver got %d requests, want 3", len(rc.reqs))
	}
}

// TestServiceUnavailableSlowsDown: a 503 without Retry-After waits the
// schedule's next step, not the current one.
func TestServiceUnavailableSlowsDown(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	s := sub("sub_503", "*", rc.URL)
	s.RetryPolicy.Schedule = []time.Duration{time.Second, time.Hour}
	e := start(t, newSource(s), dispatcher.Config{})
	publish(t, e, event("a.B:create", "1", nil))
	as := e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) == 1 })
	if wait := time.Until(as[0].NextAttemptAt); wait < 50*time.Minute {
		t.Errorf("next attempt in %s, want about an hour (the next step)", wait)
	}
}
