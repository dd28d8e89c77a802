package input

import (
	"time"

	"github.com/jqlgate/jqlgate"
)

// Paging of list intents (listWebhooks, listTrustedSites, client and user
// lists).
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// Owner returns the owner key of the caller.
func Owner(cmd *jqlgate.Command) (string, error) {
	if cmd.Principal == nil {
		return "", jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Authentication is required.")
	}
	return cmd.Principal.Owner(), nil
}

// Page reads limit and offset from the fields or __meta__ (fields win):
// limit def unless given, at most max.
func (r *Reader) Page(cmd *jqlgate.Command, def, max int) (limit, offset int) {
	limit = def
	if l := cmd.Meta.Limit; l != nil {
		limit = r.Integer("__meta__.limit", *l, 1, max)
	}
	if o := cmd.Meta.Offset; o != nil {
		offset = r.Integer("__meta__.offset", *o, 0, 1<<30)
	}
	if v, ok := cmd.Fields["limit"]; ok {
		limit = r.Integer("limit", v, 1, max)
	}
	if v, ok := cmd.Fields["offset"]; ok {
		offset = r.Integer("offset", v, 0, 1<<30)
	}
	return limit, offset
}

// Timestamp reads an RFC 3339 time.
func (r *Reader) Timestamp(field string, v any) time.Time {
	s := r.Str(field, v, 64)
	if r.Failed(field) {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.Fail(field, "must be an RFC 3339 time such as 2024-05-01T12:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}
