package jqlgate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

func TestSealer(t *testing.T) {
	key, _ := jqlgate.GenerateKey()
	other, _ := jqlgate.GenerateKey()
	s, err := jqlgate.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := jqlgate.NewSealer(other)
	sealed, err := s.Seal("whsec_abc", "sub_1/secrets")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "whsec_abc") || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("sealed = %q, want an opaque v1: value", sealed)
	}
	if got, err := s.Open(sealed, "sub_1/secrets"); err != nil || got != "whsec_abc" {
		t.Errorf("Open = %q, %v; want whsec_abc", got, err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	tests := []struct {
		name   string
		sealer *jqlgate.Sealer
		sealed string
		ctx    string
	}{
		{"other context", s, sealed, "sub_2/secrets"},
		{"other key", wrongKey, sealed, "sub_1/secrets"},
		{"tampered", s, tampered, "sub_1/secrets"},
		{"not sealed", s, "whsec_abc", "sub_1/secrets"},
		{"bad base64", s, "v1:!!!", "sub_1/secrets"},
	}
	for _, tt := range tests {
		if _, err := tt.sealer.Open(tt.sealed, tt.ctx); !errors.Is(err, jqlgate.ErrUnseal) {
			t.Errorf("%s: Open err = %v, want ErrUnseal", tt.name, err)
		}
	}
	if _, err := jqlgate.NewSealer(key[:16]); err == nil {
		t.Error("NewSealer with a 16-byte key: got nil error")
	}
}
