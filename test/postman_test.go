package test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// postmanItem is a request or a folder of the Postman collection (v2.1).
type postmanItem struct {
	Name    string        `json:"name"`
	Item    []postmanItem `json:"item"`
	Request *struct {
		URL  any `json:"url"`
		Body *struct {
			Raw string `json:"raw"`
		} `json:"body"`
	} `json:"request"`
	Event []struct {
		Listen string `json:"listen"`
		Script struct {
			Exec []string `json:"exec"`
		} `json:"script"`
	} `json:"event"`
}

// postmanCalls walks items and returns "namespace intent" for every JQL
// request body, and fails on a JQL request without a test script.
func postmanCalls(t *testing.T, items []postmanItem, calls map[string]bool) {
	t.Helper()
	for _, it := range items {
		postmanCalls(t, it.Item, calls)
		if it.Request == nil || it.Request.Body == nil || !strings.Contains(it.Request.Body.Raw, "__meta__") {
			continue
		}
		var body struct {
			Meta struct{ Namespace, Intent string } `json:"__meta__"`
		}
		if err := json.Unmarshal([]byte(it.Request.Body.Raw), &body); err != nil {
			continue // the deliberately malformed request
		}
		calls[body.Meta.Namespace+" "+body.Meta.Intent] = true
		tested := false
		for _, ev := range it.Event {
			if ev.Listen == "test" && strings.Contains(strings.Join(ev.Script.Exec, "\n"), "pm.test(") {
				tested = true
			}
		}
		if !tested {
			t.Errorf("postman request %q has no pm.test on its answer", it.Name)
		}
	}
}

// The Postman collection calls every intent system.Schema describe lists,
// so it stays complete as intents are added.
func TestPostmanCollectionCoversEveryIntent(t *testing.T) {
	raw, err := os.ReadFile("../postman/jqlgate.postman_collection.json")
	if err != nil {
		t.Fatal(err)
	}
	var coll struct {
		Event []struct {
			Listen string `json:"listen"`
			Script struct {
				Exec []string `json:"exec"`
			} `json:"script"`
		} `json:"event"`
		Item []postmanItem `json:"item"`
	}
	if err := json.Unmarshal(raw, &coll); err != nil {
		t.Fatalf("postman/jqlgate.postman_collection.json: %v", err)
	}
	if strings.Contains(string(raw), "setNextRequest") {
		t.Error("the collection uses the deprecated setNextRequest")
	}
	refreshes := false
	for _, ev := range coll.Event {
		s := strings.Join(ev.Script.Exec, "\n")
		if ev.Listen == "prerequest" && strings.Contains(s, "pm.sendRequest") && strings.Contains(s, "/oauth2/token") {
			refreshes = true
		}
	}
	if !refreshes {
		t.Error("the collection has no collection-level pre-request script fetching a token")
	}
	calls := map[string]bool{}
	postmanCalls(t, coll.Item, calls)

	p := serve(t, t.TempDir())
	a := p.jql(map[string]any{"__meta__": map[string]any{"namespace": "system.Schema", "schema": "controller", "intent": "describe"}}).must(t)
	var namespaces []struct {
		Namespace string
		Intents   []struct{ Intent string }
	}
	a.decode(t, &namespaces)
	n := 0
	for _, ns := range namespaces {
		for _, in := range ns.Intents {
			n++
			if !calls[ns.Namespace+" "+in.Intent] {
				t.Errorf("the Postman collection never calls %s %s (add it to postman/build.py and run it)", ns.Namespace, in.Intent)
			}
		}
	}
	if n < 40 {
		t.Errorf("describe listed only %d intents", n)
	}
}
