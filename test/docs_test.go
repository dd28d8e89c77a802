package test

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// helpOption is one option as jqlgate serve --help prints it.
type helpOption struct{ flag, env, def string }

var helpLine = regexp.MustCompile(`^  --(\S+)\s+(\S+)\s+default (.*)$`)

// serveHelp runs jqlgate serve --help and returns its options in order.
func serveHelp(t *testing.T) []helpOption {
	t.Helper()
	p := startProc(t, nil, "serve", "--help")
	if code := p.wait(10 * time.Second); code != 0 {
		t.Fatalf("serve --help exited %d:\n%s", code, p.logs.String())
	}
	var opts []helpOption
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if m := helpLine.FindStringSubmatch(line); m != nil {
			opts = append(opts, helpOption{flag: m[1], env: m[2], def: m[3]})
		}
	}
	if len(opts) < 10 {
		t.Fatalf("found %d options in serve --help, want them all:\n%s", len(opts), p.logs.String())
	}
	return opts
}

var readmeRow = regexp.MustCompile("^\\| `--([^`]+)` \\| `?([^`|]*?)`? \\| ([^|]*?) \\|")

// readmeOptions returns README.md's configuration table: flag to
// environment variable and default, as written.
func readmeOptions(t *testing.T) map[string]helpOption {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]helpOption{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := readmeRow.FindStringSubmatch(line); m != nil {
			rows[m[1]] = helpOption{flag: m[1], env: m[2], def: strings.Trim(m[3], "`")}
		}
	}
	return rows
}

// README's configuration table lists every option of serve --help, with the
// same environment variable and default, and nothing else: a new option
// without a row fails here.
func TestReadmeConfigurationTableMatchesServeHelp(t *testing.T) {
	rows := readmeOptions(t)
	help := serveHelp(t)
	for _, o := range help {
		row, ok := rows[o.flag]
		if !ok {
			t.Errorf("README.md's configuration table has no row for --%s (%s, default %s)", o.flag, o.env, o.def)
			continue
		}
		if row.env != o.env && !(o.env == "-" && row.env == "") {
			t.Errorf("README.md: --%s environment variable is %q, serve --help says %q", o.flag, row.env, o.env)
		}
		if want := strings.Trim(o.def, `"`); row.def != want && !(want == "" && row.def == "(empty)") {
			t.Errorf("README.md: --%s default is %q, serve --help says %q", o.flag, row.def, o.def)
		}
		delete(rows, o.flag)
	}
	for flag := range rows {
		t.Errorf("README.md documents --%s, which serve --help does not have", flag)
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/jql.md's responses (and the ids in its requests) from a real server")

// docBlock is one ```json jql-request or jql-response block of a document.
type docBlock struct {
	kind, info, body string
	start, end       int // the block's fenced text in the document
}

var fence = regexp.MustCompile("(?s)```json jql-(request|response)([^\n]*)\n(.*?)\n```")

func docBlocks(doc string) []docBlock {
	var blocks []docBlock
	for _, m := range fence.FindAllStringSubmatchIndex(doc, -1) {
		blocks = append(blocks, docBlock{kind: doc[m[2]:m[3]], info: strings.TrimSpace(doc[m[4]:m[5]]), body: doc[m[6]:m[7]], start: m[0], end: m[1]})
	}
	return blocks
}

// Every example in docs/jql.md runs, top to bottom, against a real server
// and its answer must match the documented one: same HTTP status, same keys
// and the same strings, ignoring ids, timestamps, secrets, tokens and
// numbers. Ids in later requests are mapped to the ones the server made.
// Every intent system.Schema describe lists must have an example.
func TestJQLReferenceExamples(t *testing.T) {
	b, err := os.ReadFile("../docs/jql.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	dir := t.TempDir()
	createDocUser(t, dir)
	schemaDir, _ := filepath.Abs("../examples/schemas")
	p := serve(t, dir, "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret,
		"JQLGATE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8", "JQLGATE_SCHEMA_DIR="+schemaDir)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer rcv.Close()
	r := &docRunner{t: t, p: p, token: p.token(adminID, adminSecret), receiver: rcv.URL, ids: map[string]string{}, latest: map[string]string{}, seen: map[string]bool{}}

	var out strings.Builder
	last := 0
	blocks := docBlocks(doc)
	for i, blk := range blocks {
		if blk.kind != "request" {
			continue
		}
		if i+1 >= len(blocks) || blocks[i+1].kind != "response" {
			t.Fatalf("docs/jql.md: the request at byte %d has no ```json jql-response block after it", blk.start)
		}
		req, resp := r.run(blk, blocks[i+1])
		out.WriteString(doc[last:blk.start])
		out.WriteString("```json jql-request\n" + req + "\n```")
		out.WriteString(doc[blk.end:blocks[i+1].start])
		out.WriteString("```json jql-response " + resp.info + "\n" + resp.body + "\n```")
		last = blocks[i+1].end
	}
	out.WriteString(doc[last:])
	r.checkCoverage()
	if *updateDocs && !t.Failed() {
		if err := os.WriteFile("../docs/jql.md", []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// createDocUser makes the system.User the authenticate example logs in as,
// before the server takes the data dir.
func createDocUser(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(binary, "user", "create", "--init", "--username", "ada", "--scope", "profile.Customer:retrieve", "--data-dir", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(t.Name()))
	}
	cmd.Stdin = strings.NewReader("correct horse battery staple\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jqlgate user create: %v\n%s", err, out)
	}
}
