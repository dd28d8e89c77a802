package schemas

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jqlgate/jqlgate"
)

func ptr[T any](v T) *T { return &v }

func TestValidateMeta(t *testing.T) {
	tests := []struct {
		name string
		meta jqlgate.Meta
		want []jqlgate.FieldError
	}{
		{"valid", jqlgate.Meta{Namespace: "system.Schema", Schema: "controller", Intent: "describe"}, nil},
		{"everything wrong", jqlgate.Meta{Namespace: "System", Schema: "table", AuthenticationClass: "basic", Limit: ptr(-1), Offset: ptr(-2)}, []jqlgate.FieldError{
			{Field: "namespace", Message: "namespace must have the form app.Model"},
			{Field: "schema", Message: "schema must be one of: model, controller"},
			{Field: "intent", Message: "intent is required"},
			{Field: "authenticationClass", Message: "authenticationClass must be one of: oauth2, apiKey, jwt"},
			{Field: "limit", Message: "limit must be at least 0"},
			{Field: "offset", Message: "offset must be at least 0"},
		}},
		{"limit too big", jqlgate.Meta{Namespace: "a.B", Schema: "model", Intent: "retrieve", Limit: ptr(1001)}, []jqlgate.FieldError{
			{Field: "limit", Message: "limit must be at most 1000"},
		}},
		{"empty ordering item", jqlgate.Meta{Namespace: "a.B", Schema: "model", Intent: "retrieve", Ordering: []string{"pk", ""}}, []jqlgate.FieldError{
			{Field: "ordering[1]", Message: "ordering[1] must not be empty"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Default().Validate(&tt.meta)
			var got []jqlgate.FieldError
			var e *jqlgate.Error
			if errors.As(err, &e) {
				if e.Code != jqlgate.EINVALID {
					t.Fatalf("code = %q, want %q", e.Code, jqlgate.EINVALID)
				}
				got = e.Fields
			} else if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVar(t *testing.T) {
	if err := Default().Var("trigger", "profile.Customer:create", "permission"); err != nil {
		t.Errorf("Var(valid) = %v, want nil", err)
	}
	err := Default().Var("trigger", "nope", "permission")
	if got := jqlgate.ErrorCode(err); got != jqlgate.EINVALID {
		t.Errorf("Var(invalid) code = %q, want %q", got, jqlgate.EINVALID)
	}
}
