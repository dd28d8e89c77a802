package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/jqlgate/jqlgate"
)

// schemaOf names how a namespace is addressed: the system namespaces are
// controllers, every other one is a model.
func schemaOf(ns string) string {
	if strings.HasPrefix(ns, "system.") {
		return jqlgate.SchemaController
	}
	return jqlgate.SchemaModel
}

// call runs one intent as p, exactly as the JQL endpoint would: an intent
// that is not public needs a principal holding namespace:intent.
func (c *Console) call(ctx context.Context, p *jqlgate.Principal, meta jqlgate.Meta, fields map[string]any) (res *jqlgate.Result, err error) {
	if meta.Schema == "" {
		meta.Schema = schemaOf(meta.Namespace)
	}
	if !c.cfg.Public(meta.Namespace, meta.Intent) {
		if p == nil {
			return nil, jqlgate.Errorf(jqlgate.EUNAUTHORIZED, "Sign in first.")
		}
		if !p.Can(meta.Namespace, meta.Intent) {
			return nil, jqlgate.Errorf(jqlgate.EFORBIDDEN, "You do not have permission to run %s:%s.", meta.Namespace, meta.Intent)
		}
		ctx = jqlgate.NewContextWithPrincipal(ctx, p)
	}
	if fields == nil {
		fields = map[string]any{}
	}
	defer func() {
		if v := recover(); v != nil {
			err = jqlgate.Internal("console "+meta.Namespace+":"+meta.Intent, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	cmd := &jqlgate.Command{Meta: meta, Fields: fields, Principal: p, RequestID: jqlgate.RequestIDFromContext(ctx)}
	res, err = c.cfg.Handler.Handle(ctx, cmd)
	if err == nil && res == nil {
		res = &jqlgate.Result{}
	}
	return res, err
}

// run calls intent on ns as the request's principal and decodes the
// result's data into out (through JSON, as an API client would see it).
func (c *Console) run(q *req, ns, intent string, fields map[string]any, out any, opts ...func(*jqlgate.Meta)) (*jqlgate.Result, error) {
	meta := jqlgate.Meta{Namespace: ns, Intent: intent}
	for _, o := range opts {
		o(&meta)
	}
	res, err := c.call(q.r.Context(), q.p, meta, fields)
	if err != nil {
		return nil, err
	}
	if out != nil && res.Data != nil {
		b, err := json.Marshal(res.Data)
		if err != nil {
			return nil, jqlgate.Internal("console encode", err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			return nil, jqlgate.Internal("console decode", err)
		}
	}
	return res, nil
}

func page(limit, offset int) func(*jqlgate.Meta) {
	return func(m *jqlgate.Meta) { m.Limit, m.Offset = &limit, &offset }
}

func search(term string) func(*jqlgate.Meta) {
	return func(m *jqlgate.Meta) {
		if term != "" {
			m.Search = &jqlgate.Search{Value: term}
		}
	}
}

// fieldErrors maps each field a validation error names to its message;
// "" holds the message when no field is named.
func fieldErrors(err error) map[string]string {
	if err == nil {
		return nil
	}
	e := jqlgate.AsError(err)
	out := map[string]string{}
	for _, f := range e.Fields {
		if _, dup := out[f.Field]; !dup {
			out[f.Field] = f.Message
		}
	}
	if len(e.Fields) == 0 {
		out[e.Field] = e.Message
	}
	return out
}

// missing reports whether err says the server does not have an intent or
// namespace (a feature this server does not offer yet).
func missing(err error) bool {
	var e *jqlgate.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Field == "__meta__.namespace" || e.Field == "__meta__.intent"
}
