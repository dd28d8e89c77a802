package test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// Antly's subscribe and unsubscribe examples, verbatim from its webhook
// page (spec/antly-jql.md §6.1); only the token is replaced.
const (
	antlySubscribe   = `{ "__meta__": { "namespace": "system.Webhook", "schema": "controller", "intent": "subscribeToWebhook", "authenticationClass": "oauth2", "authenticationToken": "your_oauth2_access_token" }, "prefix": "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": "https://yourapp.com/webhooks/handle" }`
	antlyUnsubscribe = `{ "__meta__": { "namespace": "system.Webhook", "schema": "controller", "intent": "unsubscribeFromWebhook", "authenticationClass": "oauth2", "authenticationToken": "your_oauth2_access_token" }, "prefix": "YourAppPrefix", "trigger": "profile.Customer:create", "webhookUrl": "https://yourapp.com/webhooks/handle" }`
)

func withToken(body, tok string) json.RawMessage {
	return json.RawMessage(strings.Replace(body, "your_oauth2_access_token", tok, 1))
}

type subView struct {
	ID       string
	Trigger  string
	Triggers []string
	Warnings []string
}

// Antly's exact bodies keep working beside triggers lists: subscribe (its
// own example URL is accepted whether or not yourapp.com resolves here),
// subscribe again (the same subscription), unsubscribe, unsubscribe again.
func TestSeedTriggersAntlyBodiesUnchanged(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)

	a := p.jql(withToken(antlySubscribe, tok)).must(t)
	var sub subView
	a.decode(t, &sub)
	if sub.Trigger != "profile.Customer:create" || !slices.Equal(sub.Triggers, []string{"profile.Customer:create"}) {
		t.Fatalf("subscribe answered %s, want trigger and triggers [trigger]", a.Data)
	}
	var again subView
	p.jql(withToken(antlySubscribe, tok)).must(t).decode(t, &again)
	if again.ID != sub.ID {
		t.Errorf("subscribing again made %s, want the existing %s", again.ID, sub.ID)
	}
	// A triggers list with the same prefix and URL is another subscription,
	// and Antly's unsubscribe does not touch it.
	multi := webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "YourAppPrefix",
		"triggers": []string{"profile.Customer:create", "profile.Customer:update"}, "webhookUrl": "https://yourapp.com/webhooks/handle"}).must(t)
	var multiSub subView
	multi.decode(t, &multiSub)

	u := p.jql(withToken(antlyUnsubscribe, tok)).must(t)
	var gone subView
	u.decode(t, &gone)
	if gone.ID != sub.ID {
		t.Errorf("unsubscribe removed %s, want %s", gone.ID, sub.ID)
	}
	if a := p.jql(withToken(antlyUnsubscribe, tok)); a.HTTPStatus != http.StatusNotFound {
		t.Errorf("second unsubscribe answered %d %s, want 404", a.HTTPStatus, a.Raw)
	}
	webhookCall(p, "getWebhook", tok, map[string]any{"id": multiSub.ID}).must(t)
}

// One subscription with triggers [create, update] receives both kinds of
// event and not delete, each delivery naming the trigger that matched; one
// whose triggers overlap receives each event once, named by its most
// specific trigger.
func TestSeedTriggersCreateAndUpdateNotDelete(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	pair, overlap, deletes := newReceiver(), newReceiver(), newReceiver()
	urls := map[*receiver]string{}
	for _, r := range []*receiver{pair, overlap, deletes} {
		srv := httptest.NewServer(r)
		defer srv.Close()
		urls[r] = srv.URL + "/hook"
	}
	subscribe := func(fields map[string]any) subView {
		var v subView
		webhookCall(p, "subscribeToWebhook", tok, fields).must(t).decode(t, &v)
		return v
	}
	pairSub := subscribe(map[string]any{"prefix": "Pair", "triggers": []string{"profile.Customer:create", "profile.Customer:update"}, "webhookUrl": urls[pair]})
	if pairSub.Trigger != "profile.Customer:create" || len(pairSub.Triggers) != 2 {
		t.Fatalf("subscribe answered %+v", pairSub)
	}
	overlapSub := subscribe(map[string]any{"prefix": "Overlap", "triggers": []string{"profile.Customer:*", "profile.Customer:create"}, "webhookUrl": urls[overlap]})
	subscribe(map[string]any{"prefix": "Deletes", "trigger": "profile.Customer:delete", "webhookUrl": urls[deletes]})

	var customer struct{ ID string }
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": "Ada Lovelace", "email": "ada@example.com"}).must(t).decode(t, &customer)
	upd := meta("profile.Customer", "model", "update", tok)
	upd["uniqueObject"] = map[string]any{"id": customer.ID}
	p.jql(map[string]any{"__meta__": upd, "name": "Ada King"}).must(t)
	del := meta("profile.Customer", "model", "deleteOne", tok)
	del["uniqueObject"] = map[string]any{"id": customer.ID}
	p.jql(map[string]any{"__meta__": del}).must(t)

	deletes.waitFor(t, 1, 30*time.Second)
	got := pair.waitFor(t, 2, 30*time.Second)
	over := overlap.waitFor(t, 3, 30*time.Second)
	time.Sleep(300 * time.Millisecond) // the delete was dispatched; let a wrong delivery arrive
	if n := pair.count(); n != 2 {
		t.Errorf("triggers [create, update] received %d webhooks, want 2 (not the delete)", n)
	}
	if n := overlap.count(); n != 3 {
		t.Errorf("triggers [profile.Customer:*, create] received %d webhooks, want 3 (each event once)", n)
	}
	for _, g := range got {
		ev := g.Header.Get("X-Webhook-Event")
		if ev == "profile.Customer:delete" || g.Header.Get("X-Webhook-Trigger") != ev {
			t.Errorf("pair delivery of %s named trigger %q", ev, g.Header.Get("X-Webhook-Trigger"))
		}
	}
	want := map[string]string{"profile.Customer:create": "profile.Customer:create",
		"profile.Customer:update": "profile.Customer:*", "profile.Customer:delete": "profile.Customer:*"}
	for _, g := range over {
		ev := g.Header.Get("X-Webhook-Event")
		if tr := g.Header.Get("X-Webhook-Trigger"); tr != want[ev] {
			t.Errorf("overlap delivery of %s named trigger %q, want %q", ev, tr, want[ev])
		}
	}

	// The attempt records (getWebhookLogs rows) name the trigger too.
	logs := waitLogs(t, p, tok, pairSub.ID, 2)
	var rows []struct{ Event, Trigger string }
	logs.decode(t, &rows)
	for _, r := range rows {
		if r.Trigger != r.Event {
			t.Errorf("log row of %s names trigger %q", r.Event, r.Trigger)
		}
	}
	var ol []struct{ Event, Trigger string }
	waitLogs(t, p, tok, overlapSub.ID, 3).decode(t, &ol)
	for _, r := range ol {
		if r.Trigger != want[r.Event] {
			t.Errorf("overlap log row of %s names trigger %q, want %q", r.Event, r.Trigger, want[r.Event])
		}
	}

	// listWebhooks shows triggers, and its trigger filter matches any of them.
	var listed []subView
	lm := meta("system.Webhook", "controller", "listWebhooks", tok)
	p.jql(map[string]any{"__meta__": lm, "trigger": "profile.Customer:update"}).must(t).decode(t, &listed)
	if len(listed) != 1 || listed[0].ID != pairSub.ID || !slices.Equal(listed[0].Triggers, []string{"profile.Customer:create", "profile.Customer:update"}) {
		t.Errorf("listWebhooks trigger=update = %+v, want the pair subscription", listed)
	}
}

// A receiver host that does not resolve yet is accepted with a warning;
// literal private addresses are still refused.
func TestSeedTriggersUnresolvedHostWarns(t *testing.T) {
	p := serve(t, t.TempDir(), "JQLGATE_BOOTSTRAP_CLIENT_ID="+adminID, "JQLGATE_BOOTSTRAP_CLIENT_SECRET="+adminSecret)
	tok := p.token(adminID, adminSecret)
	a := webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "Later", "trigger": "profile.Customer:create", "webhookUrl": "http://receiver.invalid/hook"}).must(t)
	var sub subView
	a.decode(t, &sub)
	if len(sub.Warnings) != 1 || !strings.Contains(sub.Warnings[0], "receiver.invalid does not resolve yet") {
		t.Errorf("warnings = %v, want one saying the host does not resolve yet", sub.Warnings)
	}
	if !strings.Contains(a.Message, "does not resolve yet") {
		t.Errorf("message %q does not warn", a.Message)
	}
	for _, url := range []string{"http://10.0.0.1/hook", "http://127.0.0.1/hook", "http://[::1]/hook", "http://169.254.169.254/latest"} {
		a := webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "Private", "trigger": "profile.Customer:create", "webhookUrl": url})
		wantFieldError(t, url, a, http.StatusBadRequest, "webhookUrl")
	}
}

// Bad input answers every problem at once, each under its full path.
func TestSeedTriggersBadInputEveryProblem(t *testing.T) {
	p := serveWithAdmin(t, t.TempDir())
	tok := p.token(adminID, adminSecret)
	a := webhookCall(p, "subscribeToWebhook", tok, map[string]any{
		"prefix":      "",
		"triggers":    []any{"profile.Customer:create", "nope.Thing:create", "profile.Customer:create", 7},
		"webhookUrl":  "ftp://example.com/x",
		"basicAuth":   map[string]any{"username": "a:b", "password": 5},
		"retryPolicy": map[string]any{"schedule": []any{5, 10, "soon"}},
		"headers":     map[string]any{"X-Foo": 1, "Host": "x"},
		"maxInFlight": 0,
		"bogus":       true,
	})
	if a.HTTPStatus != http.StatusBadRequest {
		t.Fatalf("answered %d %s, want 400", a.HTTPStatus, a.Raw)
	}
	var fields []string
	for _, e := range a.Errors {
		fields = append(fields, e.Field)
		if e.ErrorMessage == "" {
			t.Errorf("error on %s has no message", e.Field)
		}
	}
	for _, f := range []string{"prefix", "triggers[1]", "triggers[2]", "triggers[3]", "webhookUrl", "basicAuth.username",
		"basicAuth.password", "retryPolicy.schedule[2]", "headers.X-Foo", "headers.Host", "maxInFlight", "bogus"} {
		if !slices.Contains(fields, f) {
			t.Errorf("errors %v lack %s", fields, f)
		}
	}
	both := webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "P", "trigger": "*", "triggers": []string{"*"}, "webhookUrl": "https://example.com/"})
	wantFieldError(t, "trigger and triggers", both, http.StatusBadRequest, "triggers")
	neither := webhookCall(p, "subscribeToWebhook", tok, map[string]any{"prefix": "P", "webhookUrl": "https://example.com/"})
	wantFieldError(t, "neither trigger nor triggers", neither, http.StatusBadRequest, "trigger")
}
