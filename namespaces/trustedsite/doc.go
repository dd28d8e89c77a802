// Package trustedsite serves system.TrustedSite: named base URLs with the
// credentials that authenticate requests to them (basic, OAuth2 client
// credentials, or headers), which subscriptions and deliveries name instead
// of repeating them. It stores through Store and tells the dispatcher of
// changes through Notifier. It imports the root, schemas, namespaces and
// namespaces/input, never another namespace package.
package trustedsite
