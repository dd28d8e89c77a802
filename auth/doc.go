// Package auth authenticates JQL requests and runs the built-in OAuth2
// authorization server.
//
// Three authentication classes exist and none accepts another's tokens:
// oauth2 (RFC 9068 access tokens, "typ: at+jwt", from the built-in server
// or a trusted external issuer), apiKey ("jqk_" keys, stored hashed) and
// jwt (system.User login tokens, "typ: jqlgate-user+jwt", their own
// audience). Tokens are ES256 JWTs signed by keys kept in the store and
// cached in memory (KeySet), so every serve process sharing a store
// accepts the others' tokens and verifying one costs no store round trip.
//
// The package depends on the root package only; the store is reached
// through the interfaces in store.go, implemented by mongodb.AuthStore.
package auth
