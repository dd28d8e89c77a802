package jqlgate

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Signature schemes of Standard Webhooks a subscription may use.
const (
	// SchemeV1 signs with HMAC-SHA256 and a shared "whsec_" secret.
	SchemeV1 = "v1"
	// SchemeV1a signs with Ed25519: jqlgate keeps the "whsk_" signing key,
	// receivers verify with the "whpk_" public key.
	SchemeV1a = "v1a"
)

// Prefixes of the Standard Webhooks key formats.
const (
	SecretPrefix     = "whsec_" // base64 of 24 to 64 random bytes
	SigningKeyPrefix = "whsk_"  // base64 of the 64-byte Ed25519 private key (seed ‖ public key)
	PublicKeyPrefix  = "whpk_"  // base64 of the 32-byte Ed25519 public key
)

// Bounds of a "whsec_" secret's key, in bytes, as Standard Webhooks sets them.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// NewSigningSecret returns a fresh secret for scheme: "whsec_" and 32
// random bytes for SchemeV1 (and ""), a "whsk_" Ed25519 key for SchemeV1a.
func NewSigningSecret(scheme string) string {
	if scheme == SchemeV1a {
		_, priv, _ := ed25519.GenerateKey(rand.Reader) // crypto/rand never fails
		return SigningKeyPrefix + base64.StdEncoding.EncodeToString(priv)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SecretScheme returns the scheme a stored secret signs with: SchemeV1a for
// a "whsk_" key, SchemeV1 otherwise.
func SecretScheme(secret string) string {
	if strings.HasPrefix(secret, SigningKeyPrefix) {
		return SchemeV1a
	}
	return SchemeV1
}

// Ed25519Key decodes a "whsk_" signing key.
func Ed25519Key(secret string) (ed25519.PrivateKey, error) {
	raw, ok := strings.CutPrefix(secret, SigningKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %s", SigningKeyPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("must be %s and base64 of the %d-byte Ed25519 private key (seed and public key)", SigningKeyPrefix, ed25519.PrivateKeySize)
	}
	priv := ed25519.PrivateKey(b)
	if !ed25519.NewKeyFromSeed(priv.Seed()).Equal(priv) {
		return nil, errors.New("its public half does not belong to its seed")
	}
	return priv, nil
}

// PublicSecret returns what a receiver needs to verify a secret's
// signatures: the "whpk_" public key of a "whsk_" signing key, or the
// "whsec_" secret itself, which is shared.
func PublicSecret(secret string) string {
	if SecretScheme(secret) != SchemeV1a {
		return secret
	}
	priv, err := Ed25519Key(secret)
	if err != nil {
		return ""
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
}

// CheckSecret checks a secret a user supplies for scheme: a "whsec_"
// secret must be base64 of 24 to 64 bytes, a "whsk_" key a whole Ed25519
// private key, and either must look random: not text, not a repeated or
// counting pattern. The error says what is wrong, without the secret.
func CheckSecret(scheme, secret string) error {
	if scheme == SchemeV1a {
		priv, err := Ed25519Key(secret)
		if err != nil {
			return err
		}
		return checkRandom(priv.Seed())
	}
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return fmt.Errorf("must start with %s (a %s key is the signatureScheme v1a form)", SecretPrefix, SigningKeyPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return fmt.Errorf("must be %s followed by standard base64 (with padding)", SecretPrefix)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return fmt.Errorf("must encode %d to %d bytes, got %d", MinSecretBytes, MaxSecretBytes, len(key))
	}
	return checkRandom(key)
}

// checkRandom refuses keys that are plainly not random: printable text
// (the chance that 24 random bytes are all printable ASCII is below 1e-10),
// few distinct bytes, or few distinct steps between neighbours (counting
// and repeating patterns). Random keys of 24 to 64 bytes pass with
// overwhelming probability.
func checkRandom(key []byte) error {
	text := true
	bytes, steps := map[byte]bool{}, map[byte]bool{}
	for i, b := range key {
		if b < 0x20 || b > 0x7e {
			text = false
		}
		bytes[b] = true
		if i > 0 {
			steps[b-key[i-1]] = true
		}
	}
	switch {
	case text:
		return errors.New("is printable text, not random bytes; generate the key with a secure random generator (or let jqlgate generate it)")
	case len(bytes) < len(key)/2 || len(steps) < len(key)/2:
		return errors.New("is a repeating or counting pattern, not random bytes; generate the key with a secure random generator (or let jqlgate generate it)")
	}
	return nil
}
