package jqlgate

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

func TestCheckSecret(t *testing.T) {
	b64 := func(b []byte) string { return SecretPrefix + base64.StdEncoding.EncodeToString(b) }
	counting := make([]byte, 32)
	for i := range counting {
		counting[i] = byte(i)
	}
	tests := []struct {
		name, scheme, secret, err string
	}{
		{"spec vector", SchemeV1, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ""},
		{"generated", SchemeV1, NewSigningSecret(SchemeV1), ""},
		{"generated v1a", SchemeV1a, NewSigningSecret(SchemeV1a), ""},
		{"no prefix", SchemeV1, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with whsec_"},
		{"not base64", SchemeV1, "whsec_not base64!", "standard base64"},
		{"short", SchemeV1, b64([]byte("\x01\x92\x13\xf4\x05\x86\x17\xa8\x09\x1a\x2b\x3c\x4d\x5e\x6f\x70")), "24 to 64 bytes, got 16"},
		{"long", SchemeV1, b64(make([]byte, 65)), "24 to 64 bytes, got 65"},
		{"text", SchemeV1, b64([]byte("correct horse battery staple")), "printable text"},
		{"zeros", SchemeV1, b64(make([]byte, 32)), "pattern"},
		{"counting", SchemeV1, b64(counting), "pattern"},
		{"whsk for v1", SchemeV1, NewSigningSecret(SchemeV1a), "must start with whsec_"},
		{"whsec for v1a", SchemeV1a, NewSigningSecret(SchemeV1), "must start with whsk_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSecret(tt.scheme, tt.secret)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("CheckSecret = %v, want nil", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("CheckSecret = %v, want an error containing %q", err, tt.err)
			}
		})
	}
}

// Random keys of every allowed length pass the strength check.
func TestCheckSecretAcceptsRandomKeys(t *testing.T) {
	for n := MinSecretBytes; n <= MaxSecretBytes; n++ {
		for range 200 {
			b := make([]byte, n)
			_, _ = rand.Read(b)
			if err := CheckSecret(SchemeV1, SecretPrefix+base64.StdEncoding.EncodeToString(b)); err != nil {
				t.Fatalf("random %d-byte key refused: %v", n, err)
			}
		}
	}
}
