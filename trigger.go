package jqlgate

import (
	"slices"
	"strings"
)

// MaxTriggers is the most triggers one subscription may have.
const MaxTriggers = 50

// TriggerCandidates are the triggers that cover eventType, most specific
// first: the event itself ("app.Model:action"), its model's wildcard
// ("app.Model:*"), then "*".
func TriggerCandidates(eventType string) []string {
	keys := make([]string, 0, 3)
	keys = append(keys, eventType)
	if i := strings.LastIndexByte(eventType, ':'); i > 0 {
		keys = append(keys, eventType[:i]+":*")
	}
	if eventType != "*" {
		keys = append(keys, "*")
	}
	return keys
}

// TriggerList returns the subscription's triggers: Triggers, or the single
// Trigger of a subscription made before a subscription could have several.
func (s *Subscription) TriggerList() []string {
	if len(s.Triggers) > 0 {
		return s.Triggers
	}
	if s.Trigger == "" {
		return nil
	}
	return []string{s.Trigger}
}

// SetTriggers sets the subscription's triggers; Trigger, which Antly's
// clients read, is the first.
func (s *Subscription) SetTriggers(triggers []string) {
	s.Triggers = slices.Clone(triggers)
	s.Trigger = ""
	if len(triggers) > 0 {
		s.Trigger = triggers[0]
	}
}

// MatchedTrigger returns the most specific of the subscription's triggers
// that covers eventType, or "" if none does.
func (s *Subscription) MatchedTrigger(eventType string) string {
	list := s.TriggerList()
	for _, c := range TriggerCandidates(eventType) {
		if slices.Contains(list, c) {
			return c
		}
	}
	return ""
}

// TriggerKey is the triggers as one stable string, for the key that makes
// (owner, prefix, triggers, webhookUrl) one subscription: a single trigger
// is itself (so Antly's subscribe and unsubscribe by trigger find it), and
// several are sorted and joined by commas (no trigger contains one).
func TriggerKey(triggers []string) string {
	if len(triggers) == 1 {
		return triggers[0]
	}
	sorted := slices.Clone(triggers)
	slices.Sort(sorted)
	return strings.Join(sorted, ",")
}
