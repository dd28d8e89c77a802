package jqlgate

import (
	"context"
	"testing"
)

// Store reads made under WithoutQueryCounter are not counted; the
// request's own still are.
func TestWithoutQueryCounter(t *testing.T) {
	ctx, c := NewContextWithQueryCounter(context.Background())
	CountQuery(ctx)
	CountQuery(WithoutQueryCounter(ctx))
	CountQuery(WithoutQueryCounter(context.Background()))
	if got := c.Count(); got != 1 {
		t.Errorf("counted %d round trips, want 1", got)
	}
}
