package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/jqlgate/jqlgate"
)

// KeySet keeps the signing keys in memory, so signing and verifying a
// token costs no store round trip. It reloads from the store when a token
// names a key it doesn't know (at most once per RefreshInterval) and
// whenever its copy is older than MaxAge, so a rotation made by another
// process is picked up.
type KeySet struct {
	Store KeyStore
	// Secret seals private keys in the store with AES-256-GCM; empty keeps
	// them unsealed (they are still never logged).
	Secret          string
	RefreshInterval time.Duration // default 10s
	MaxAge          time.Duration // default 1m
	Now             func() time.Time

	refreshMu sync.Mutex // one reload at a time
	mu        sync.RWMutex
	keys      map[string]*loadedKey
	signing   *loadedKey
	loadedAt  time.Time
	triedAt   time.Time
}

type loadedKey struct {
	id       string
	public   *ecdsa.PublicKey
	private  *ecdsa.PrivateKey
	notAfter time.Time
	signers  map[string]jose.Signer // by token type
}

func (ks *KeySet) now() time.Time {
	if ks.Now != nil {
		return ks.Now()
	}
	return time.Now()
}

// Load reads the keys from the store, creating a signing key when none can
// sign. Call it once at start; it fails when a signing key exists but
// can't be unsealed with Secret.
func (ks *KeySet) Load(ctx context.Context) error {
	if err := ks.reload(ctx); err != nil {
		return err
	}
	ks.mu.RLock()
	have := ks.signing != nil
	ks.mu.RUnlock()
	if have {
		return nil
	}
	if _, err := ks.create(ctx); err != nil {
		return err
	}
	return ks.reload(ctx)
}

// Rotate creates a new signing key and retires the others: they keep
// verifying tokens until grace has passed, which must exceed the lifetime
// of the tokens they signed.
func (ks *KeySet) Rotate(ctx context.Context, grace time.Duration) (*jqlgate.SigningKey, error) {
	k, err := ks.create(ctx)
	if err != nil {
		return nil, err
	}
	if err := ks.Store.RetireSigningKeys(ctx, k.ID, ks.now().Add(grace)); err != nil {
		return nil, err
	}
	return k, ks.reload(ctx)
}

func (ks *KeySet) create(ctx context.Context) (*jqlgate.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, jqlgate.Internal("auth.KeySet.create", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, jqlgate.Internal("auth.KeySet.create", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, jqlgate.Internal("auth.KeySet.create", err)
	}
	k := &jqlgate.SigningKey{ID: jqlgate.NewID("key"), Algorithm: string(jose.ES256), PrivateKey: der, PublicKey: pub, CreatedAt: ks.now().UTC()}
	if ks.Secret != "" {
		k.PrivateKey, k.Encrypted = seal(ks.Secret, k.ID, der), true
	}
	return k, ks.Store.CreateSigningKey(ctx, k)
}

// reload replaces the in-memory keys with the store's.
func (ks *KeySet) reload(ctx context.Context) error {
	ks.refreshMu.Lock()
	defer ks.refreshMu.Unlock()
	return ks.reloadLocked(ctx)
}

func (ks *KeySet) reloadLocked(ctx context.Context) error {
	stored, err := ks.Store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	keys := map[string]*loadedKey{}
	var signing *loadedKey
	var signingCreated time.Time
	for _, sk := range stored {
		lk, err := ks.load(sk)
		if err != nil {
			return err
		}
		keys[sk.ID] = lk
		if lk.private != nil && sk.NotAfter.IsZero() && sk.CreatedAt.After(signingCreated) {
			signing, signingCreated = lk, sk.CreatedAt
		}
	}
	ks.mu.Lock()
	ks.keys, ks.signing, ks.loadedAt = keys, signing, ks.now()
	ks.mu.Unlock()
	return nil
}

// load decodes one stored key. Retired keys keep only their public half.
func (ks *KeySet) load(sk *jqlgate.SigningKey) (*loadedKey, error) {
	op := "auth.KeySet.load"
	pub, err := x509.ParsePKIXPublicKey(sk.PublicKey)
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if err != nil || !ok || sk.Algorithm != string(jose.ES256) {
		return nil, jqlgate.Internal(op, fmt.Errorf("signing key %s: unreadable public key", sk.ID))
	}
	lk := &loadedKey{id: sk.ID, public: ecPub, notAfter: sk.NotAfter}
	if !sk.NotAfter.IsZero() {
		return lk, nil
	}
	if lk.private, err = ks.privateKey(sk); err != nil {
		return nil, jqlgate.Internal(op, err)
	}
	lk.signers = map[string]jose.Signer{}
	for _, typ := range []string{TypeAccessToken, TypeUserToken} {
		opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: lk.private, KeyID: sk.ID}}, opts)
		if err != nil {
			return nil, jqlgate.Internal(op, err)
		}
		lk.signers[typ] = s
	}
	return lk, nil
}

func (ks *KeySet) privateKey(sk *jqlgate.SigningKey) (*ecdsa.PrivateKey, error) {
	der := sk.PrivateKey
	if sk.Encrypted {
		var err error
		if der, err = unseal(ks.Secret, sk.ID, der); err != nil {
			return nil, fmt.Errorf("signing key %s can't be unsealed: check the signing key secret", sk.ID)
		}
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	ec, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("signing key %s: unreadable private key", sk.ID)
	}
	return ec, nil
}

// signer returns the signer for tokens of type typ, reloading first when
// the keys in memory are older than MaxAge.
func (ks *KeySet) signer(ctx context.Context, typ string) (jose.Signer, error) {
	ks.mu.RLock()
	stale := ks.now().Sub(ks.loadedAt) > orDefault(ks.MaxAge, time.Minute)
	ks.mu.RUnlock()
	if stale {
		// A failed reload keeps the keys already loaded.
		_ = ks.reload(ctx)
	}
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.signing == nil {
		return nil, jqlgate.Internal("auth.KeySet.signer", errors.New("no signing key loaded"))
	}
	return ks.signing.signers[typ], nil
}

// publicKey returns the key with id kid, if it still verifies.
func (ks *KeySet) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, bool) {
	lk, ok := ks.lookup(kid)
	if !ok {
		ks.reloadForUnknown(ctx)
		lk, ok = ks.lookup(kid)
	}
	if !ok || (!lk.notAfter.IsZero() && ks.now().After(lk.notAfter)) {
		return nil, false
	}
	return lk.public, true
}

func (ks *KeySet) lookup(kid string) (*loadedKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	lk, ok := ks.keys[kid]
	return lk, ok
}

// reloadForUnknown reloads the keys because a token named an unknown kid,
// at most once per RefreshInterval however many such tokens arrive: a
// flood of made-up kids costs one store read per interval.
func (ks *KeySet) reloadForUnknown(ctx context.Context) {
	ks.refreshMu.Lock()
	defer ks.refreshMu.Unlock()
	now := ks.now()
	if !ks.triedAt.IsZero() && now.Sub(ks.triedAt) < orDefault(ks.RefreshInterval, 10*time.Second) {
		return
	}
	ks.triedAt = now
	_ = ks.reloadLocked(ctx)
}

// JWKS returns the public keys that still verify, as a JSON Web Key Set.
func (ks *KeySet) JWKS() jose.JSONWebKeySet {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	now := ks.now()
	for _, lk := range ks.keys {
		if lk.notAfter.IsZero() || now.Before(lk.notAfter) {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: lk.public, KeyID: lk.id, Algorithm: string(jose.ES256), Use: "sig"})
		}
	}
	return set
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func sealKey(secret string) cipher.AEAD {
	k := sha256.Sum256([]byte("jqlgate signing key\x00" + secret))
	block, _ := aes.NewCipher(k[:])
	aead, _ := cipher.NewGCM(block)
	return aead
}

// seal encrypts plain with AES-256-GCM under secret, bound to the key id.
func seal(secret, id string, plain []byte) []byte {
	aead := sealKey(secret)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, []byte(id))
}

func unseal(secret, id string, sealed []byte) ([]byte, error) {
	aead := sealKey(secret)
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed key too short")
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
}
