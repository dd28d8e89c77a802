package jqlgate

import (
	"context"
	"net/http"
)

// Command is one request ready to execute: the envelope plus who sent it.
type Command struct {
	Meta      Meta
	Fields    map[string]any
	Principal *Principal
	RequestID string
}

// Result is what a handler answers. Data is rendered as the envelope's data,
// Message as its message; Filtered and Display fill extras (for a list,
// the number of matching records and the number returned).
type Result struct {
	Data     any
	Message  string
	Filtered int
	Display  int
	// Cookies are set on the HTTP response (the jwt login cookie).
	Cookies []*http.Cookie
}

// A Handler executes one intent on one namespace.
type Handler interface {
	Handle(ctx context.Context, cmd *Command) (*Result, error)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, cmd *Command) (*Result, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, cmd *Command) (*Result, error) { return f(ctx, cmd) }
