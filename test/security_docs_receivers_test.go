package test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docSnippet returns the first fenced block of lang after heading in
// docs/webhooks.md.
func docSnippet(t *testing.T, heading, lang string) string {
	t.Helper()
	raw, err := os.ReadFile("../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("docs/webhooks.md has no %q", heading)
	}
	doc = doc[i:]
	start := strings.Index(doc, "```"+lang+"\n")
	if start < 0 {
		t.Fatalf("no %s block under %q", lang, heading)
	}
	doc = doc[start+len("```"+lang+"\n"):]
	return doc[:strings.Index(doc, "```")]
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The Python and Node receivers of docs/webhooks.md verify and decode every
// kind of delivery jqlgate makes (JSON POST, form POST, GET) and still
// refuse a request whose signature does not match.
func TestSecurityDocsReceiversVerifyEveryDelivery(t *testing.T) {
	runners := []struct{ name, heading, lang, bin, file string }{
		{"python", "### Python (standard library only)", "python", "python3", "receiver.py"},
		{"node", "### Node (standard library only)", "js", "node", "receiver.js"},
	}
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)

	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			bin, err := exec.LookPath(r.bin)
			if err != nil {
				t.Skipf("%s not installed", r.bin)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, r.file)
			if err := os.WriteFile(file, []byte(docSnippet(t, r.heading, r.lang)), 0o600); err != nil {
				t.Fatal(err)
			}
			port := freePort(t)
			var out syncBuffer
			cmd := exec.Command(bin, file)
			cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, fmt.Sprintf("PORT=%d", port))
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			waitFor(t, func() bool {
				resp, err := http.Get(base + "/")
				if err == nil {
					resp.Body.Close()
				}
				return err == nil
			})

			// A forged request is refused.
			req, _ := http.NewRequest(http.MethodPost, base+"/webhooks", strings.NewReader(`{"id":"evt_x","event":"profile.Customer:create","data":{}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("webhook-id", "msg_forged")
			req.Header.Set("webhook-timestamp", fmt.Sprint(time.Now().Unix()))
			req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("forged request: %d, want 401", resp.StatusCode)
			}

			kinds := []map[string]any{
				{"method": "POST", "contentType": "application/json"},
				{"method": "POST", "contentType": "application/x-www-form-urlencoded"},
				{"method": "GET"},
			}
			subs := map[string]string{}
			for i, k := range kinds {
				body := map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
					"prefix": r.name + fmt.Sprint(i), "trigger": "profile.Customer:create",
					"webhookUrl": fmt.Sprintf("%s/webhooks/%d?tenant=acme", base, i), "secret": secret}
				for f, v := range k {
					body[f] = v
				}
				var sub struct{ ID string }
				p.jql(body).must(t).decode(t, &sub)
				subs[fmt.Sprint(k)] = sub.ID
			}
			email := fmt.Sprintf("%s.%d@example.com", r.name, time.Now().UnixNano())
			p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Ada " + r.name, "email": email}).must(t)

			for kind, id := range subs {
				var rows []struct {
					Status       string
					ResponseCode int
				}
				deadline := time.Now().Add(15 * time.Second)
				for {
					p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "getWebhookLogs", tok), "id": id}).must(t).decode(t, &rows)
					if len(rows) > 0 && rows[0].Status != "Queued" || time.Now().After(deadline) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				if len(rows) == 0 || rows[0].Status != "Done" || rows[0].ResponseCode != 200 {
					t.Errorf("%s delivery %v: %+v, want Done with 200\nreceiver output:\n%s", r.name, kind, rows, out.String())
				}
			}
			if n := strings.Count(out.String(), email); n != len(kinds) {
				t.Errorf("%s receiver printed the record %d times, want %d:\n%s", r.name, n, len(kinds), out.String())
			}
		})
	}
}
