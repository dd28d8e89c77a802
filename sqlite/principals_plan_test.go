package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jqlgate/jqlgate"
)

// The selective reads of subscriptions, trusted sites and principals go
// through an index, and the lists come out of one in order (no sort).
func TestPrincipalsQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), FileName)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	yes := true
	page := func(q jqlgate.SubscriptionQuery) string { s, _ := subscriptionPage(q); return s }
	count := func(q jqlgate.SubscriptionQuery) string {
		w, _ := subscriptionWhere(q)
		return `SELECT count(*) FROM subscriptions` + w
	}
	cases := []struct {
		name, query, index string
		args               int
	}{
		{"Get", selectSubscription, "sqlite_autoindex_subscriptions_1", 1},
		{"GetOwned", selectOwnedSubscription, "sqlite_autoindex_subscriptions_1", 2},
		{"FindByKey", selectSubscriptionByKey, "subscriptions_key", 2},
		{"List", page(jqlgate.SubscriptionQuery{Owner: "o"}), "subscriptions_owner", 3},
		{"List count", count(jqlgate.SubscriptionQuery{Owner: "o"}), "subscriptions_owner", 1},
		{"List filtered", page(jqlgate.SubscriptionQuery{Owner: "o", Prefix: "p", Trigger: "t", Enabled: &yes}), "subscriptions_owner", 6},
		{"ListEnabled", selectEnabledSubs, "subscriptions_enabled", 0},
		{"DisableOwned", disableOwnedSubs, "subscriptions_owner", 3},
		{"Disable", disableSubscription, "sqlite_autoindex_subscriptions_1", 3},
		{"Uses", selectSiteUses, "subscriptions_trusted_site", 1},
		{"site GetOwned", selectOwnedSite, "sqlite_autoindex_trusted_sites_1", 2},
		{"site List", pageOwnerSites, "trusted_sites_owner", 3},
		{"site List count", countOwnerSites, "trusted_sites_", 1},
		{"UserByUsername", `SELECT ` + userColumns + ` FROM auth_users WHERE username = ?`, "auth_users_username", 1},
		{"Users", `SELECT ` + userColumns + ` FROM auth_users ORDER BY created_at, id`, "auth_users_created", 0},
		{"Clients", `SELECT ` + clientColumns + ` FROM auth_clients ORDER BY created_at, id`, "auth_clients_created", 0},
	}
	for _, c := range cases {
		args := make([]any, c.args)
		for i := range args {
			args[i] = "x"
		}
		rows, err := db.Query(ctx, `EXPLAIN QUERY PLAN `+c.query, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "INDEX "+c.index) {
			t.Errorf("%s does not use %s: %s", c.name, c.index, text)
		}
		if strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s sorts: %s", c.name, text)
		}
		for _, d := range plan {
			if strings.HasPrefix(d, "SCAN ") && !strings.Contains(d, "INDEX") && !strings.Contains(d, "json_each") {
				t.Errorf("%s scans a table: %s", c.name, text)
			}
		}
	}
}
