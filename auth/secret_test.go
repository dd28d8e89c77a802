package auth

import (
	"strings"
	"testing"
	"time"
)

func TestNarrow(t *testing.T) {
	held := []string{"profile.Cust:*", "system.Webhook:subscribeToWebhook"}
	tests := []struct {
		requested string
		want      string // granted, or "!" when refused
	}{
		{"", "profile.Cust:* system.Webhook:subscribeToWebhook"},
		{"profile.Cust:create", "profile.Cust:create"},
		{"profile.Customer:create", "!"},
		{"profile.Customer:*", "!"},
		{"system.Webhook:*", "!"},
		{"system.Webhook:subscribeToWebhook system.Webhook:subscribeToWebhook", "system.Webhook:subscribeToWebhook"},
		{"*", "!"},
		{"profile.Cust", "!"},
	}
	for _, tt := range tests {
		got, ok := Narrow(held, tt.requested)
		s := strings.Join(got, " ")
		if !ok {
			s = "!"
		}
		if s != tt.want {
			t.Errorf("Narrow(%q) = %q, want %q", tt.requested, s, tt.want)
		}
	}
	if got, ok := Narrow([]string{"*"}, "profile.Customer:create"); !ok || got[0] != "profile.Customer:create" {
		t.Errorf("* should cover any permission, got %v %v", got, ok)
	}
	// system.Webhook:privateTargets is granted only by itself and *.
	if got, ok := Narrow([]string{"system.Webhook:*"}, "system.Webhook:privateTargets"); ok {
		t.Errorf("system.Webhook:* covered privateTargets: %v", got)
	}
	for _, held := range []string{"*", "system.Webhook:privateTargets"} {
		if _, ok := Narrow([]string{held}, "system.Webhook:privateTargets"); !ok {
			t.Errorf("%s does not cover privateTargets", held)
		}
	}
}

func TestParseAPIKey(t *testing.T) {
	secret := NewSecret()
	id, s, ok := ParseAPIKey(FormatAPIKey("ak_01abc", secret))
	if !ok || id != "ak_01abc" || s != secret {
		t.Errorf("round trip: got %q %q %v", id, s, ok)
	}
	for _, bad := range []string{"", "jqk_", "jqk_abc", "jqk_abc_short", "xyz_abc_" + secret, "jqk__" + secret} {
		if _, _, ok := ParseAPIKey(bad); ok {
			t.Errorf("ParseAPIKey(%q) accepted", bad)
		}
	}
}

func TestLimiterSet(t *testing.T) {
	s := limiterSet{limit: 1, burst: 2}
	now := time.Unix(1000, 0)
	for i, want := range []bool{true, true, false} {
		if ok, _ := s.allow("k", now); ok != want {
			t.Errorf("call %d: allowed %v, want %v", i, ok, want)
		}
	}
	if _, d := s.allow("k", now); retryAfterSeconds(d) != 1 {
		t.Errorf("retry after %v, want about 1s", d)
	}
	if ok, _ := s.allow("other", now); !ok {
		t.Error("another key shares the bucket")
	}
}
