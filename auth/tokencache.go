package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxCachedTokens bounds the verified-token cache; past it, expired
// entries go first, then arbitrary ones.
const maxCachedTokens = 10000

// tokenCache remembers access tokens whose signature and claims verified,
// keyed by a hash of the token (the token itself is never kept), so a
// client sending the same token on every request pays for one ECDSA
// verification, not one per request. An entry is used only while the
// token has not expired, its signing key still verifies (a retired or
// removed key ends it), and the issuer and audience are still the ones it
// was checked against.
type tokenCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	claims   *Claims
	kid      string
	iss, aud string
	exp      time.Time
}

func (tc *tokenCache) get(token string, now time.Time) (cachedToken, [sha256.Size]byte, bool) {
	h := sha256.Sum256([]byte(token))
	tc.mu.Lock()
	e, ok := tc.m[h]
	if ok && !now.Before(e.exp) {
		delete(tc.m, h)
		ok = false
	}
	tc.mu.Unlock()
	return e, h, ok
}

func (tc *tokenCache) put(h [sha256.Size]byte, e cachedToken, now time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.m == nil {
		tc.m = map[[sha256.Size]byte]cachedToken{}
	}
	if len(tc.m) >= maxCachedTokens {
		for k, v := range tc.m {
			if !now.Before(v.exp) {
				delete(tc.m, k)
			}
		}
		for k := range tc.m {
			if len(tc.m) < maxCachedTokens*9/10 {
				break
			}
			delete(tc.m, k)
		}
	}
	tc.m[h] = e
}
