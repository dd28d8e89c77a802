package test

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeHealthAndGracefulStop(t *testing.T) {
	dir := t.TempDir()
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		p := serve(t, dir)
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := p.get(path); code != 200 {
				t.Fatalf("GET %s = %d %s, want 200", path, code, body)
			}
		}
		p.signal(sig)
		if code := p.wait(20 * time.Second); code != 0 {
			t.Fatalf("exit code after %v = %d, want 0", sig, code)
		}
		if !strings.Contains(p.logs.String(), `"msg":"stopped"`) {
			t.Errorf("no orderly stop logged after %v", sig)
		}
	}
}

func TestServeRefusesBadStoreURI(t *testing.T) {
	tests := []struct{ name, uri, want string }{
		{"bad scheme", "http://admin:hunter2@localhost:27017", "invalid URI"},
		{"unreachable host", "mongodb://admin:hunter2@127.0.0.1:9/?connectTimeoutMS=500", "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProc(t, []string{"MONGODB_URI=" + tt.uri, "JQLGATE_ADDR=127.0.0.1:0", "JQLGATE_CONNECT_TIMEOUT=5s"}, "serve")
			if code := p.wait(15 * time.Second); code == 0 {
				t.Fatal("exit code 0, want non-zero")
			}
			out := p.logs.String()
			if !strings.Contains(out, tt.want) || !strings.Contains(out, "xxxxx") {
				t.Errorf("output does not name the masked URI and the cause %q:\n%s", tt.want, out)
			}
			if strings.Contains(out, "hunter2") {
				t.Errorf("output leaks the password:\n%s", out)
			}
		})
	}
}

func TestHelpExplainsEveryOption(t *testing.T) {
	p := startProc(t, nil, "serve", "--help")
	p.wait(10 * time.Second)
	out := p.logs.String()
	for _, want := range []string{"--addr", "JQLGATE_ADDR", "--data-dir", "--mongodb-uri", "MONGODB_URI", "--log-level", "--shutdown-timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help does not mention %s:\n%s", want, out)
		}
	}
}
