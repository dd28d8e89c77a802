// Package namespaces routes JQL commands to their handlers. A Mux maps a
// (namespace, intent) pair to a jqlgate.Handler, the way http.ServeMux maps
// paths; each namespace package exposes a Register function that cmd/jqlgate
// calls explicitly, so the whole route table reads as one function.
// Handlers take (ctx, *jqlgate.Command) and never see HTTP.
package namespaces
