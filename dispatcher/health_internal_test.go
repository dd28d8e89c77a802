package dispatcher

import (
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

// TestHealthStreaks: a streak of failures disables after maxFailed Failed
// deliveries or maxFor of failing, a Done ends it, and the verdict comes
// once.
func TestHealthStreaks(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(status string, after time.Duration) *jqlgate.Attempt {
		return &jqlgate.Attempt{Status: status, CreatedAt: t0.Add(after)}
	}
	const (
		resent = jqlgate.StatusResent
		failed = jqlgate.StatusFailed
		done   = jqlgate.StatusDone
	)
	tests := []struct {
		name     string
		attempts []*jqlgate.Attempt
		want     []string // reason substrings, "" for none
	}{
		{"three Failed in a row", []*jqlgate.Attempt{at(resent, 0), at(failed, 1), at(failed, 2), at(failed, 3), at(failed, 4)},
			[]string{"", "", "", "3 deliveries in a row", ""}},
		{"Done resets the count", []*jqlgate.Attempt{at(failed, 0), at(failed, 1), at(done, 2), at(failed, 3), at(failed, 4)},
			[]string{"", "", "", "", ""}},
		{"failing for the whole window", []*jqlgate.Attempt{at(resent, 0), at(resent, 47*time.Hour), at(resent, 48*time.Hour)},
			[]string{"", "", "kept failing for 48h0m0s"}},
		{"Done inside the window restarts it", []*jqlgate.Attempt{at(resent, 0), at(done, time.Hour), at(resent, 48*time.Hour)},
			[]string{"", "", ""}},
		{"Queued does not count", []*jqlgate.Attempt{at(jqlgate.StatusQueued, 0), at(resent, 48*time.Hour), at(resent, 49*time.Hour)},
			[]string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHealth(3, 48*time.Hour)
			for i, a := range tt.attempts {
				_, got := h.observe("sub_1", a)
				if (tt.want[i] == "") != (got == "") || !strings.Contains(got, tt.want[i]) {
					t.Errorf("attempt %d (%s): reason %q, want %q", i, a.Status, got, tt.want[i])
				}
			}
		})
	}
}
