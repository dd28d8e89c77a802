package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// APIKeyPrefix starts every API key, so a leaked key is recognisable (and
// secret scanners can find it).
const APIKeyPrefix = "jqk_"

// NewSecret returns 256 random bits as 64 hex digits.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// HashSecret returns the keyed hash of a machine secret. The record id is
// the key, so a hash can't be moved to another record. Machine secrets
// carry 256 random bits, so a fast hash is enough.
func HashSecret(id, secret string) []byte {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// CheckSecret reports, in constant time, whether secret hashes to hash.
func CheckSecret(id, secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(id, secret), hash) == 1
}

// FormatAPIKey returns the key a client sends for the API key id with the
// given secret: "jqk_" + the id without its "ak_" prefix + "_" + secret.
func FormatAPIKey(id, secret string) string {
	return APIKeyPrefix + strings.TrimPrefix(id, "ak_") + "_" + secret
}

// ParseAPIKey splits a key made by FormatAPIKey into the id and secret.
func ParseAPIKey(key string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(key, APIKeyPrefix)
	if !ok {
		return "", "", false
	}
	idPart, secret, ok := strings.Cut(rest, "_")
	if !ok || idPart == "" || len(idPart) > 64 || len(secret) != 64 {
		return "", "", false
	}
	return "ak_" + idPart, secret, true
}

// ParseScope splits a space-separated scope into permission strings,
// checking each with jqlgate.ValidPermission. Duplicates are dropped.
func ParseScope(scope string) ([]string, error) {
	var perms []string
	seen := map[string]bool{}
	for _, p := range strings.Fields(scope) {
		if !jqlgate.ValidPermission(p) {
			return nil, jqlgate.Invalid("scope", "%q is not a permission (use app.Model:intent, app.Model:* or *)", p)
		}
		if !seen[p] {
			seen[p] = true
			perms = append(perms, p)
		}
	}
	return perms, nil
}

// covers reports whether holding permission held grants everything that
// permission want grants.
func covers(held, want string) bool {
	if held == "*" || held == want {
		return true
	}
	hns, hin, _ := strings.Cut(held, ":")
	wns, _, ok := strings.Cut(want, ":")
	return ok && hin == "*" && hns == wns && !jqlgate.ExplicitOnly(want)
}

// Narrow returns the permissions of a token asked for with requested by a
// principal holding held: all of held when nothing is requested, else the
// requested ones, each of which held must cover. ok is false when one of
// them is not covered or not a permission.
func Narrow(held []string, requested string) (granted []string, ok bool) {
	if strings.TrimSpace(requested) == "" {
		return held, true
	}
	want, err := ParseScope(requested)
	if err != nil {
		return nil, false
	}
	for _, w := range want {
		if !coveredBy(held, w) {
			return nil, false
		}
	}
	return want, true
}

func coveredBy(held []string, want string) bool {
	for _, h := range held {
		if covers(h, want) {
			return true
		}
	}
	return false
}
