package test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBenchHTTP runs jqlgate bench --http end to end on a few creates: it
// starts serve as a child, subscribes two receivers through /jql, and every
// delivery arrives once with a good signature. It checks the figures are
// printed, never their values.
func TestBenchHTTP(t *testing.T) {
	cmd := exec.Command(binary, "bench", "--http", "--events", "40", "--publishers", "4", "--subscriptions", "2", "--verify-every", "1", "--timeout", "60s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+uri)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench --http: %v\n%s", err, out)
	}
	for _, want := range []string{
		`creates:\s+40 in \S+ = \d+ creates/s`,
		`deliveries: 80 unique in \S+ = \d+ deliveries/s, \d+ duplicates`,
		`latency \(create request start to receipt\): p50 \S+\s+p90 \S+\s+p99 \S+\s+max \S+`,
		`signatures: \d+ verified, 0 bad`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "serve: ") {
		t.Errorf("serve logged a warning or error during the bench:\n%s", out)
	}
}
