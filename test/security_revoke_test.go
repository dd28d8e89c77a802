package test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Revocation reaches subscriptions: deleting a principal or narrowing its
// permissions stops its deliveries, and an operator can list and disable
// any owner's subscriptions without seeing their secrets. The embedded
// store is locked while serve runs, so each admin command runs with serve
// stopped, as an operator on the embedded store would.

// cli runs `jqlgate args...` on dataDir's store (or MONGODB_URI's database
// for this test) and decodes its JSON output into out.
func cli(t *testing.T, dataDir string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "JQLGATE_DATA_DIR=" + dataDir}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+uri, "JQLGATE_DATABASE=e2e_"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("jqlgate %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("jqlgate %s printed %q: %v", strings.Join(args, " "), stdout.String(), err)
	}
}

type clientCreds struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func createClient(t *testing.T, dataDir, name, scope string) clientCreds {
	t.Helper()
	var c clientCreds
	cli(t, dataDir, &c, "client", "create", "--init", "--name", name, "--scope", scope)
	return c
}

// stop stops a serve process and waits for it to exit.
func (p *proc) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(60 * time.Second); code != 0 {
		p.t.Fatalf("serve exited with %d", code)
	}
}

// subscribeCustomers subscribes tok's owner to every customer event at url
// and returns the subscription's id and secret.
func subscribeCustomers(t *testing.T, p *proc, tok, url string) (id, secret string) {
	t.Helper()
	var s struct{ ID, Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", tok),
		"prefix": "Revoke", "trigger": "profile.Customer:*", "webhookUrl": url}).must(t).decode(t, &s)
	return s.ID, s.Secret
}

func revokeCustomer(t *testing.T, p *proc, tok, name string) {
	t.Helper()
	p.jql(map[string]any{"__meta__": meta("profile.Customer", "model", "create", tok), "name": name, "email": strings.ToLower(name) + "@example.com"}).must(t)
}

// revokeSetup creates a subscriber client, starts serve, subscribes it and
// the admin (the control) to customer events, and checks both get one.
func revokeSetup(t *testing.T) (dataDir string, c clientCreds, subID string, mine, control *receiver) {
	t.Helper()
	dataDir = t.TempDir()
	c = createClient(t, dataDir, "subscriber", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	p := serveWithAdmin(t, dataDir)
	admin := p.token(adminID, adminSecret)
	mine, control = newReceiver(), newReceiver()
	srvMine, srvControl := httptest.NewServer(mine), httptest.NewServer(control)
	t.Cleanup(srvMine.Close)
	t.Cleanup(srvControl.Close)
	subID, _ = subscribeCustomers(t, p, p.token(c.ClientID, c.ClientSecret), srvMine.URL)
	subscribeCustomers(t, p, admin, srvControl.URL)
	revokeCustomer(t, p, admin, "Ada")
	mine.waitFor(t, 1, 30*time.Second)
	control.waitFor(t, 1, 30*time.Second)
	p.stop()
	return dataDir, c, subID, mine, control
}

// afterwards restarts serve, creates a customer and checks the control
// receiver gets it while mine gets nothing more.
func afterwards(t *testing.T, dataDir string, mine, control *receiver) *proc {
	t.Helper()
	p := serveWithAdmin(t, dataDir)
	revokeCustomer(t, p, p.token(adminID, adminSecret), "Grace")
	control.waitFor(t, 2, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := mine.count(); n != 1 {
		t.Errorf("the revoked subscriber's receiver got %d webhooks, want 1 (none after the revocation)", n)
	}
	return p
}

// operatorList lists owner's subscriptions with tok and returns the raw
// answer and its rows.
func operatorList(t *testing.T, p *proc, tok, owner string) (answer, []map[string]any) {
	t.Helper()
	a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "listWebhooks", tok), "owner": owner})
	var rows []map[string]any
	if a.Status == "OK" {
		a.decode(t, &rows)
	}
	return a, rows
}

func TestSecurityRevokeDeletedClientGetsNoDeliveries(t *testing.T) {
	dataDir, c, subID, mine, control := revokeSetup(t)

	var out struct {
		Deleted  string `json:"deleted"`
		Disabled int    `json:"subscriptions_disabled"`
	}
	cli(t, dataDir, &out, "client", "delete", "--id", c.ClientID)
	if out.Deleted != c.ClientID || out.Disabled != 1 {
		t.Errorf("client delete printed %+v, want the client deleted and 1 subscription disabled", out)
	}
	p := afterwards(t, dataDir, mine, control)

	// An operator (the admin holds *) sees the subscription, disabled
	// because its owner was deleted.
	a, rows := operatorList(t, p, p.token(adminID, adminSecret), "client:"+c.ClientID)
	a.must(t)
	if len(rows) != 1 || rows[0]["id"] != subID || rows[0]["enabled"] != false || rows[0]["disabledReason"] != "owner deleted" || rows[0]["owner"] != "client:"+c.ClientID {
		t.Errorf("operator list of the deleted client's subscriptions = %s, want %s disabled with reason \"owner deleted\"", a.Data, subID)
	}
}

func TestSecurityRevokeNarrowedClientGetsNoCustomerEvents(t *testing.T) {
	dataDir, c, _, mine, control := revokeSetup(t)

	var out map[string]string
	cli(t, dataDir, &out, "client", "update", "--id", c.ClientID, "--scope", "system.Webhook:* system.Webhook:privateTargets profile.Customer:create")
	afterwards(t, dataDir, mine, control)
}

func TestSecurityRevokeOperatorListsAndDisables(t *testing.T) {
	dataDir := t.TempDir()
	sub := createClient(t, dataDir, "subscriber", "system.Webhook:* system.Webhook:privateTargets profile.Customer:*")
	op := createClient(t, dataDir, "operator", "system.Webhook:listWebhooks system.Webhook:disableWebhook system.Webhook:operate")
	p := serveWithAdmin(t, dataDir)
	admin := p.token(adminID, adminSecret)
	subTok, opTok := p.token(sub.ClientID, sub.ClientSecret), p.token(op.ClientID, op.ClientSecret)
	mine, control := newReceiver(), newReceiver()
	srvMine, srvControl := httptest.NewServer(mine), httptest.NewServer(control)
	defer srvMine.Close()
	defer srvControl.Close()
	var created struct{ ID, Secret string }
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "subscribeToWebhook", subTok),
		"prefix": "Revoke", "trigger": "profile.Customer:*", "webhookUrl": srvMine.URL,
		"headers": map[string]string{"X-Api-Key": "receiver-credential-123"}}).must(t).decode(t, &created)
	subID, secret := created.ID, created.Secret
	subscribeCustomers(t, p, admin, srvControl.URL)

	// Another subscriber, holding system.Webhook:* but not operate, may
	// not list the subscriber's webhooks.
	if a, _ := operatorList(t, p, admin, "client:"+sub.ClientID); a.Status != "OK" {
		t.Fatalf("admin (*) list: %s", a.Raw)
	}
	nosy := p.token(adminID, adminSecret, "system.Webhook:*")
	if a, _ := operatorList(t, p, nosy, "client:"+sub.ClientID); a.HTTPStatus != 403 {
		t.Errorf("a system.Webhook:* token listing another owner's webhooks got %d %s, want 403", a.HTTPStatus, a.Raw)
	}

	a, rows := operatorList(t, p, opTok, "*")
	a.must(t)
	var found map[string]any
	for _, r := range rows {
		if r["id"] == subID {
			found = r
		}
	}
	if found == nil || found["owner"] != "client:"+sub.ClientID {
		t.Fatalf("operator list of every owner = %s, want %s owned by client:%s", a.Data, subID, sub.ClientID)
	}
	if strings.Contains(a.Raw, secret) || strings.Contains(a.Raw, "whsec_") || strings.Contains(a.Raw, "receiver-credential-123") {
		t.Errorf("operator list reveals a secret: %s", a.Raw)
	}

	d := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "disableWebhook", opTok), "id": subID}).must(t)
	if strings.Contains(d.Raw, secret) || strings.Contains(d.Raw, "receiver-credential-123") {
		t.Errorf("operator disable reveals a secret: %s", d.Raw)
	}
	revokeCustomer(t, p, admin, "Ada")
	control.waitFor(t, 1, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := mine.count(); n != 0 {
		t.Errorf("the subscription an operator disabled got %d webhooks, want 0", n)
	}
	var own []map[string]any
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "listWebhooks", subTok)}).must(t).decode(t, &own)
	if len(own) != 1 || own[0]["enabled"] != false || own[0]["disabledReason"] != "Disabled by an operator." {
		t.Errorf("the owner sees %v, want its subscription disabled by an operator", own)
	}
}

// Taking system.Webhook:privateTargets from a client whose webhook points
// at a loopback receiver stops new deliveries there; its logs no longer
// show what the private receiver answered, and it can no longer retry or
// replay to it.
func TestSecurityRevokePrivateTargetsStopsPrivateDeliveries(t *testing.T) {
	dataDir, c, subID, mine, control := revokeSetup(t)

	var out map[string]string
	cli(t, dataDir, &out, "client", "update", "--id", c.ClientID, "--scope", "system.Webhook:* profile.Customer:*")
	p := afterwards(t, dataDir, mine, control)
	tok := p.token(c.ClientID, c.ClientSecret)

	var rows []struct {
		DeliveryID, EventID, Status, Error string
		ResponseHidden                     bool
		Response                           *struct {
			Code int
			Body string
		}
	}
	p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "getWebhookLogs", tok), "id": subID}).must(t).decode(t, &rows)
	var done string
	for _, r := range rows {
		if r.Response != nil && r.Response.Code != 0 {
			if !r.ResponseHidden || r.Response.Body != "" {
				t.Errorf("getWebhookLogs shows the private receiver's answer to an owner without privateTargets: %+v", r)
			}
			done = r.DeliveryID
		}
	}
	if done == "" {
		t.Fatalf("no delivered attempt in the logs: %+v", rows)
	}
	a := p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "retryDelivery", tok), "deliveryId": done})
	if a.HTTPStatus != 403 || !strings.Contains(a.Raw, "privateTargets") {
		t.Errorf("retryDelivery to the private receiver answered %d %s, want 403 naming privateTargets", a.HTTPStatus, a.Raw)
	}
	a = p.jql(map[string]any{"__meta__": meta("system.Webhook", "controller", "replayEvent", tok), "eventId": rows[len(rows)-1].EventID})
	if a.HTTPStatus != 403 {
		t.Errorf("replayEvent to the private receiver answered %d %s, want 403", a.HTTPStatus, a.Raw)
	}
	time.Sleep(time.Second)
	if n := mine.count(); n != 1 {
		t.Errorf("the private receiver got %d webhooks, want 1 (none after privateTargets was taken)", n)
	}
}
