package jqlgate

import "testing"

func TestURLUnder(t *testing.T) {
	for _, c := range []struct {
		url, base string
		want      bool
	}{
		{"https://a.example/hooks/x", "https://a.example/hooks", true},
		{"https://a.example/hooks", "https://a.example/hooks/", true},
		{"https://a.example/hooks/", "https://a.example/hooks", true},
		{"https://A.example:443/hooks/x?q=1", "https://a.example/hooks", true},
		{"https://a.example/x", "https://a.example", true},
		{"https://a.example/hooksmith", "https://a.example/hooks", false},
		{"https://a.example/hooks/../admin", "https://a.example/hooks", false},
		{"https://a.example/hooks/%2e%2e/admin", "https://a.example/hooks", false},
		{"http://a.example/hooks/x", "https://a.example/hooks", false},
		{"https://a.example:8443/hooks/x", "https://a.example/hooks", false},
		{"https://b.example/hooks/x", "https://a.example/hooks", false},
		{"https://a.example.evil/hooks/x", "https://a.example/hooks", false},
		{"https://a.example/other", "https://a.example/hooks", false},
	} {
		if got := URLUnder(c.url, c.base); got != c.want {
			t.Errorf("URLUnder(%q, %q) = %v, want %v", c.url, c.base, got, c.want)
		}
	}
}
