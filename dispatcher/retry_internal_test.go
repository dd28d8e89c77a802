package dispatcher

import (
	"net/http"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"junk", 0},
		{"-5", 0},
		{"0", time.Second},
		{"1", time.Second},
		{"120", 2 * time.Minute},
		{"999999999", time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), time.Second},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNextDelay(t *testing.T) {
	d := New(Config{Rand: func() float64 { return 0.5 }}) // no jitter
	sched := []time.Duration{time.Second, 10 * time.Second, time.Minute}
	sub := &jqlgate.Subscription{RetryPolicy: jqlgate.RetryPolicy{Schedule: sched}}
	tests := []struct {
		name       string
		attempt    int
		code       int
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{"500 follows the schedule", 1, 500, 0, time.Second, true},
		{"429 without Retry-After takes the next step", 1, 429, 0, 10 * time.Second, true},
		{"503 without Retry-After takes the next step", 2, 503, 0, time.Minute, true},
		{"429 on the last step keeps it", 3, 429, 0, time.Minute, true},
		{"Retry-After longer than the step wins", 1, 429, 30 * time.Second, 30 * time.Second, true},
		{"Retry-After shorter than the step loses", 3, 503, 2 * time.Second, time.Minute, true},
		{"exhausted", 4, 500, 0, 0, false},
		{"exhausted despite Retry-After", 4, 429, time.Second, 0, false},
	}
	for _, tt := range tests {
		got, ok := d.nextDelay(sub, tt.attempt, tt.code, tt.retryAfter)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: nextDelay = %s, %v; want %s, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestPresets checks the retry presets: Antavo's is five attempts ten
// seconds apart, the default ten attempts.
func TestPresets(t *testing.T) {
	d := New(Config{Rand: func() float64 { return 0.5 }})
	tests := []struct {
		name     string
		schedule []time.Duration
		attempts int
	}{
		{"antavo", jqlgate.AntavoRetrySchedule, 5},
		{"default", nil, 10},
	}
	for _, tt := range tests {
		sub := &jqlgate.Subscription{RetryPolicy: jqlgate.RetryPolicy{Preset: tt.name, Schedule: tt.schedule}}
		n := 1
		for {
			wait, ok := d.nextDelay(sub, n, 500, 0)
			if !ok {
				break
			}
			if tt.name == "antavo" && wait != 10*time.Second {
				t.Errorf("antavo wait after attempt %d = %s, want 10s", n, wait)
			}
			n++
		}
		if n != tt.attempts {
			t.Errorf("%s: %d attempts, want %d", tt.name, n, tt.attempts)
		}
	}
}
