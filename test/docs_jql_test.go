package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// docReceiver is the receiver URL docs/jql.md's examples use; the test
// points it at a real receiver.
const docReceiver = "http://127.0.0.1:9000"

// docToken stands for an access token in docs/jql.md's examples.
const docToken = "YOUR_ACCESS_TOKEN"

// docID matches the ids jqlgate makes: cus_…, sub_…, evt_…, msg_…
var docID = regexp.MustCompile(`\b[a-z]{2,5}_(?:test_)?[0-9a-z]{20,}\b`)

// docRunner runs docs/jql.md's examples in order against one server.
type docRunner struct {
	t        *testing.T
	p        *proc
	token    string
	receiver string
	ids      map[string]string // id in the document -> id on the server
	latest   map[string]string // id prefix -> newest id the server returned
	seen     map[string]bool   // "namespace intent" pairs with an example
}

// run sends one example request and checks the answer against the
// documented response. It returns the request with mapped ids and the
// response as the server gave it, for -update-docs.
func (r *docRunner) run(reqBlk, respBlk docBlock) (string, docBlock) {
	r.t.Helper()
	req := docID.ReplaceAllStringFunc(reqBlk.body, r.mapID)
	var env struct {
		Meta struct{ Namespace, Intent string } `json:"__meta__"`
	}
	_ = json.Unmarshal([]byte(req), &env)
	r.seen[env.Meta.Namespace+" "+env.Meta.Intent] = true
	send := strings.ReplaceAll(strings.ReplaceAll(req, docToken, r.token), docReceiver, r.receiver)

	// Deliveries are asynchronous: reads may need a moment to show them.
	readOnly := strings.HasPrefix(env.Meta.Intent, "get") || strings.HasPrefix(env.Meta.Intent, "list")
	if readOnly && *updateDocs {
		time.Sleep(time.Second)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := r.post(send)
		got := docBlock{info: fmt.Sprintf("http=%d", status), body: body}
		diff := r.compare(respBlk, got)
		if diff == "" || *updateDocs {
			r.learnIDs(env.Meta.Intent, respBlk.body, body)
			return req, got
		}
		if !readOnly || time.Now().After(deadline) {
			r.t.Errorf("docs/jql.md example %s %s:\n%s\nrequest:\n%s\ngot %s:\n%s", env.Meta.Namespace, env.Meta.Intent, diff, req, got.info, body)
			return req, got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mapID replaces an id of the document by the server's: the one learnt
// from the documented response, else the newest with the same prefix.
func (r *docRunner) mapID(id string) string {
	if real, ok := r.ids[id]; ok {
		return real
	}
	prefix, _, _ := strings.Cut(id, "_")
	if real, ok := r.latest[prefix]; ok {
		return real
	}
	return id
}

// post sends a JQL request body as is and returns the status and the
// indented answer, with the receiver's URL shown as the document's.
func (r *docRunner) post(body string) (int, string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.p.URL+"/jql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("POST /jql: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		r.t.Fatalf("POST /jql answered %d with a body that is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, strings.ReplaceAll(pretty.String(), r.receiver, docReceiver)
}

// learnIDs records which server id stands for each id of the documented
// response, and the first id, deliveryId and eventId of each prefix in the
// answer (the record made, or the newest entry of a list). Example payloads
// (listEvents, testWebhook) hold made-up ids and are skipped.
func (r *docRunner) learnIDs(intent, want, got string) {
	if intent != "listEvents" && intent != "testWebhook" {
		first := map[string]bool{}
		dec := json.NewDecoder(strings.NewReader(got))
		prev := ""
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			s, _ := tok.(string)
			if (prev == "id" || prev == "deliveryId" || prev == "eventId") && docID.MatchString(s) {
				if prefix, _, _ := strings.Cut(s, "_"); !first[prefix] {
					first[prefix] = true
					r.latest[prefix] = s
				}
			}
			prev = s
		}
	}
	w, g := docID.FindAllString(want, -1), docID.FindAllString(got, -1)
	for i := 0; i < len(w) && i < len(g); i++ {
		if _, ok := r.ids[w[i]]; !ok && w[i] != g[i] {
			r.ids[w[i]] = g[i]
		}
	}
}

// compare returns what differs between a documented and a real response,
// or "" when they match.
func (r *docRunner) compare(want, got docBlock) string {
	if want.info != got.info {
		return fmt.Sprintf("status: got %s, documented %s", got.info, want.info)
	}
	var w, g any
	if err := json.Unmarshal([]byte(want.body), &w); err != nil {
		return fmt.Sprintf("the documented response is not JSON: %v", err)
	}
	_ = json.Unmarshal([]byte(got.body), &g)
	return diffJSON("", w, g)
}

// diffJSON compares documented and real JSON values tolerantly: objects
// must have the same keys, arrays the same emptiness (elements compared
// pairwise), strings the same text unless volatile, numbers only by type.
func diffJSON(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, documented an object", path, got)
		}
		if wk, gk := keys(w), keys(g); strings.Join(wk, ",") != strings.Join(gk, ",") {
			return fmt.Sprintf("%s: got keys %v, documented %v", path, gk, wk)
		}
		for k := range w {
			if d := diffJSON(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || (len(w) == 0) != (len(g) == 0) {
			return fmt.Sprintf("%s: got %v, documented %d elements", path, got, len(w))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			if d := diffJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
	case string:
		g, ok := got.(string)
		if !ok || (g != w && !volatile(w, g)) {
			return fmt.Sprintf("%s: got %#v, documented %#v", path, got, w)
		}
	case float64:
		if _, ok := got.(float64); !ok {
			return fmt.Sprintf("%s: got %#v, documented a number", path, got)
		}
	default:
		if want != got {
			return fmt.Sprintf("%s: got %#v, documented %#v", path, got, want)
		}
	}
	return ""
}

// volatile reports whether two strings differ only by what changes from
// run to run: ids, times, secrets, tokens, signatures, or JSON text that
// matches tolerantly.
func volatile(want, got string) bool {
	if strings.HasPrefix(want, "{") {
		var w, g any
		return json.Unmarshal([]byte(want), &w) == nil && json.Unmarshal([]byte(got), &g) == nil && diffJSON("", w, g) == ""
	}
	if isHex(want) && isHex(got) && len(want) == len(got) && len(want) >= 32 {
		return true // a client secret or a generated password
	}
	for _, prefix := range []string{"whsec_", "whpk_", "eyJ", "v1,", "v1a,", "jqk_"} {
		if strings.HasPrefix(want, prefix) && strings.HasPrefix(got, prefix) {
			return true
		}
	}
	if docID.ReplaceAllString(want, "ID") == docID.ReplaceAllString(got, "ID") {
		return true
	}
	return isTime(want) && isTime(got) || isDigits(want) && isDigits(got)
}

func isTime(s string) bool {
	_, err1 := time.Parse(time.RFC3339Nano, s)
	_, err2 := time.Parse(http.TimeFormat, s)
	return err1 == nil || err2 == nil
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// checkCoverage fails for every intent system.Schema describe lists that
// docs/jql.md has no example of.
func (r *docRunner) checkCoverage() {
	r.t.Helper()
	a := r.p.jql(map[string]any{"__meta__": meta("system.Schema", "controller", "describe", r.token)}).must(r.t)
	var namespaces []struct {
		Namespace string
		Intents   []struct{ Intent string }
	}
	a.decode(r.t, &namespaces)
	for _, ns := range namespaces {
		for _, in := range ns.Intents {
			if !r.seen[ns.Namespace+" "+in.Intent] {
				r.t.Errorf("docs/jql.md has no jql-request example of %s %s", ns.Namespace, in.Intent)
			}
		}
	}
}
