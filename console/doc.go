// Package console is jqlgate's web console: server-rendered pages for
// webhooks, their deliveries, logs and queue, records and trusted sites.
//
// It is a second door to the same namespace handlers the JQL endpoint
// uses: every page builds a jqlgate.Command with the signed-in user's
// Principal and renders the Result, so every permission, isolation and
// validation rule of the API holds here unchanged. It never imports the
// gateway, the namespaces, the store or the dispatcher; cmd/jqlgate wires
// it. Layout follows miniflux's ui package: one route table (routes.go),
// a file per page or action, templates and assets embedded with go:embed.
package console
