package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreImportBadInput checks that a corrupt, truncated or foreign file,
// a wrong key and a target that holds data are clear errors naming the
// line, not panics.
func TestStoreImportBadInput(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	b := openTestBackend(t, storeConfig{DataDir: src})
	seedStore(t, b)
	_ = b.close(context.Background())
	file := filepath.Join(tmp, "all.jsonl")
	if _, err := runCLI(t, "store", "export", "--data-dir", src, "--secret-key", storeTestKey, "--out", file); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(file)
	lines := strings.SplitAfter(string(raw), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	write := func(name string, ls []string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(strings.Join(ls, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	with := func(i int, line string) []string {
		out := append([]string{}, lines...)
		out[i] = line
		return out
	}
	other := base64.StdEncoding.EncodeToString([]byte("another key, 32 bytes long......"))
	cases := []struct {
		name, file, key, want string
	}{
		{"corrupt", write("corrupt", with(3, "{\"kind\": \"client\", nope\n")), storeTestKey, "line 4: not a JSON object"},
		{"unknown kind", write("kind", with(2, "{\"kind\":\"gizmo\",\"id\":\"x\"}\n")), storeTestKey, `line 3: unknown kind "gizmo"`},
		{"truncated", write("trunc", lines[:len(lines)-40]), storeTestKey, "truncated"},
		{"cut line", write("cut", append(append([]string{}, lines[:10]...), lines[10][:20])), storeTestKey, "line 11: the file ends inside a line"},
		{"no header", write("nohead", lines[1:]), storeTestKey, "line 1: not a jqlgate store export"},
		{"wrong key", file, other, "does not open with this master key"},
	}
	for i, c := range cases {
		dir := filepath.Join(tmp, "dst", string(rune('a'+i)))
		_, err := runCLI(t, "store", "import", "--data-dir", dir, "--secret-key", c.key, "--in", c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	// A store that holds data: refused without --merge, a conflict with it.
	if _, err := runCLI(t, "store", "import", "--data-dir", src, "--secret-key", storeTestKey, "--in", file); err == nil ||
		!strings.Contains(err.Error(), "already holds clients") {
		t.Errorf("non-empty target: %v", err)
	}
	if _, err := runCLI(t, "store", "import", "--merge", "--data-dir", src, "--secret-key", storeTestKey, "--in", file); err == nil ||
		!strings.Contains(err.Error(), "line 2: conflict: the target store already holds client cl_1") {
		t.Errorf("merge conflict: %v", err)
	}
}
