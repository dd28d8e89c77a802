package dispatcher

import (
	"slices"
	"testing"

	"github.com/jqlgate/jqlgate"
)

func TestIndexMatchesAnyTriggerOnce(t *testing.T) {
	multi := &jqlgate.Subscription{ID: "sub_multi", Owner: "client:a"}
	multi.SetTriggers([]string{"profile.Customer:*", "profile.Customer:create", "*"})
	single := &jqlgate.Subscription{ID: "sub_single", Owner: "client:a", Trigger: "profile.Customer:update"}
	ix := newIndex()
	ix.put(multi.ID, &target{sub: multi})
	ix.put(single.ID, &target{sub: single})

	tests := []struct {
		event   string
		ids     []string
		matched string // multi's matched trigger
	}{
		{"profile.Customer:create", []string{"sub_multi"}, "profile.Customer:create"},
		{"profile.Customer:update", []string{"sub_multi", "sub_single"}, "profile.Customer:*"},
		{"fleet.Vehicle:create", []string{"sub_multi"}, "*"},
	}
	for _, tt := range tests {
		got := ix.match(&jqlgate.Event{Type: tt.event}, nil)
		slices.Sort(got)
		if !slices.Equal(got, tt.ids) {
			t.Errorf("match %s = %v, want %v (each subscription once)", tt.event, got, tt.ids)
		}
		if m := multi.MatchedTrigger(tt.event); m != tt.matched {
			t.Errorf("matched trigger of %s = %q, want %q", tt.event, m, tt.matched)
		}
	}
}

func TestWithheldNeedsEveryTrigger(t *testing.T) {
	sub := &jqlgate.Subscription{ID: "sub_1", Owner: "client:a"}
	sub.SetTriggers([]string{"profile.Customer:create", "fleet.Vehicle:create"})
	if r := withheld(sub, &Owner{Permissions: []string{"profile.Customer:retrieve", "fleet.Vehicle:retrieve"}}); r != "" {
		t.Errorf("owner reading both triggers: withheld %q", r)
	}
	if r := withheld(sub, &Owner{Permissions: []string{"profile.Customer:retrieve"}}); r != reasonOwnerDenied {
		t.Errorf("owner no longer reading fleet.Vehicle: withheld %q, want the whole subscription withheld", r)
	}
}
