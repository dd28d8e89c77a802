package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/oauth2"

	"github.com/jqlgate/jqlgate"
)

// TestTransportOutcome: connection refused, timeouts and anything else.
func TestTransportOutcome(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		err  error
		want string
	}{
		{refused, jqlgate.OutcomeRefused},
		{&url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, jqlgate.OutcomeTimeout},
		{&url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}}, jqlgate.OutcomeTimeout},
		{&url.Error{Op: "Post", URL: "http://x", Err: errors.New("tls: bad certificate")}, jqlgate.OutcomeError},
	}
	for _, tt := range tests {
		if got := transportOutcome(tt.err); got != tt.want {
			t.Errorf("transportOutcome(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	for code, want := range map[int]string{200: "2xx", 204: "2xx", 301: "3xx", 410: "4xx", 503: "5xx", 99: "error"} {
		if got := codeOutcome(code); got != want {
			t.Errorf("codeOutcome(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestLoggedErrorHoldsNoSecrets: a failure line names the receiver's
// scheme and host but not its path, query or user, and a token endpoint's
// refusal by its status, not its body.
func TestLoggedErrorHoldsNoSecrets(t *testing.T) {
	const secret = "s3cret-token"
	dial := &url.Error{Op: "Post", URL: "https://user:" + secret + "@hooks.example.com/p/" + secret + "?token=" + secret,
		Err: errors.New("dial tcp 192.0.2.1:443: connect: connection refused")}
	retrieve := fmt.Errorf("receiver OAuth2 token: %w", &oauth2.RetrieveError{
		Response: &http.Response{Status: "401 Unauthorized"}, Body: []byte(`{"error":"` + secret + `"}`)})
	tests := []struct {
		failure error
		want    string
	}{
		{dial, "Post https://hooks.example.com: dial tcp 192.0.2.1:443: connect: connection refused"},
		{retrieve, "receiver OAuth2 token: the token endpoint answered 401 Unauthorized"},
		{nil, "receiver answered Service Unavailable"},
	}
	for _, tt := range tests {
		got := loggedError(&jqlgate.Attempt{Error: "receiver answered Service Unavailable"}, tt.failure)
		if got != tt.want || strings.Contains(got, secret) {
			t.Errorf("loggedError(%v) = %q, want %q", tt.failure, got, tt.want)
		}
	}
}
