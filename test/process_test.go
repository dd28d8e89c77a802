// Package test holds end-to-end tests: they build the jqlgate binary, run it
// as a real process on the embedded store (or MONGODB_URI), and talk to it
// over HTTP like a client would.
package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the jqlgate binary built once for the whole test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jqlgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "jqlgate")
	build := exec.Command("go", "build", "-o", binary, "../cmd/jqlgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building jqlgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running jqlgate process.
type proc struct {
	t     testing.TB
	cmd   *exec.Cmd
	URL   string
	logs  *syncBuffer
	done  chan error
	ready chan string
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc runs `jqlgate args...` with env added to a clean environment.
func startProc(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	p := &proc{t: t, cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "jqlgate ready" {
				ready <- rec.URL
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("jqlgate output:\n%s", p.logs.String())
		}
	})
	p.ready = ready
	return p
}

// waitReady waits until a serve process logs that it is ready.
func (p *proc) waitReady() {
	p.t.Helper()
	select {
	case p.URL = <-p.ready:
	case err := <-p.done:
		p.done <- err
		p.t.Fatalf("jqlgate exited before it was ready (%v):\n%s", err, p.logs.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("jqlgate not ready after 60s:\n%s", p.logs.String())
	}
}

// serve starts `jqlgate serve` on a free port with the given data dir.
func serve(t testing.TB, dataDir string, env ...string) *proc {
	t.Helper()
	env = append(env, "JQLGATE_ADDR=127.0.0.1:0", "JQLGATE_DATA_DIR="+dataDir)
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		env = append(env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	}
	p := startProc(t, env, "serve")
	p.waitReady()
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("jqlgate still running after %s", timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// get fetches path and returns the status and body.
func (p *proc) get(path string) (int, string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
