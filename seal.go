package jqlgate

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of the master key in bytes (AES-256).
const KeySize = 32

// sealPrefix marks a sealed value and its format version, so a future key
// or algorithm change can tell old values from new ones.
const sealPrefix = "v1:"

// Sealer encrypts secrets at rest (signing secrets, receiver passwords and
// client secrets) with AES-256-GCM under the master key. Each sealed value
// is bound to a context string such as "sub_…/secret", so a sealed value
// copied into another document or field does not open there.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// GenerateKey returns a new random master key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// Seal encrypts plaintext bound to context and returns "v1:" followed by
// base64 of the nonce and ciphertext. An empty plaintext seals to "".
func (s *Sealer) Seal(plaintext, context string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// ErrUnseal is returned when a sealed value can't be opened: it was sealed
// under another key or context, or was altered.
var ErrUnseal = errors.New("sealed value does not open with this master key")

// Open decrypts a value made by Seal with the same context.
func (s *Sealer) Open(sealed, context string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", ErrUnseal
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrUnseal
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}
