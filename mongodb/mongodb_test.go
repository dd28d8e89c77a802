package mongodb_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate/mongodb"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestOpenFailsFastOnBadURI(t *testing.T) {
	tests := []struct {
		name, uri, want string
	}{
		{"bad scheme", "postgres://u:secretpw@localhost/db", "invalid URI"},
		{"unreachable", "mongodb://u:secretpw@127.0.0.1:1/?connectTimeoutMS=200", "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := mongodb.Open(context.Background(), mongodb.Config{URI: tt.uri, ConnectTimeout: 2 * time.Second, Logger: quietLogger()})
			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error %q leaks the password", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Open took %s, want it bounded by the connect timeout", d)
			}
		})
	}
}

func TestMaskURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mongodb://user:pw@host:27017/db", "mongodb://user:xxxxx@host:27017/db"},
		{"mongodb://host/db", "mongodb://host/db"},
		{"mongodb+srv://a:b@cluster.example/x?tls=true", "mongodb+srv://a:xxxxx@cluster.example/x?tls=true"},
		{"://weird:pw@host", "://xxxxx@host"},
	}
	for _, tt := range tests {
		if got := mongodb.MaskURI(tt.in); got != tt.want {
			t.Errorf("MaskURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
