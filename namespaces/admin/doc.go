// Package admin serves the principals' intents: system.Client and
// system.ApiKey (create, list, get, update, delete and secrets, for holders
// of *), system.User (the same, and authenticate for the console's
// sign-in). It stores through PrincipalAdmin, which cmd/jqlgate backs with
// the auth store. It imports the root, namespaces and namespaces/input,
// never another namespace package.
package admin
