// Package jqlgate holds the domain vocabulary of the JQL command gateway: the
// envelope a client sends, the command a handler executes, the result and
// error it answers with, the authenticated principal, and the webhook types
// (subscriptions, events, deliveries) that the dispatcher works on.
//
// It imports nothing but the standard library. Every other package is an
// adapter around these types, and cmd/jqlgate wires them together.
package jqlgate
