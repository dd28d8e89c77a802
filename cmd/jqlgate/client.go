package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/sqlite"
)

// stdin is where user create reads the password; tests replace it.
var stdin io.Reader = os.Stdin

// storeOptions are the serve options the admin commands share with serve,
// so they find the same store, and --init.
func storeOptions() []option {
	var out []option
	for _, o := range serveOptions {
		switch o.flag {
		case "data-dir", "mongodb-uri", "database", "connect-timeout", "secret-key":
			out = append(out, o)
		}
	}
	return append(out, option{flag: "init", def: "false", isBool: true,
		usage: "create a new embedded store in --data-dir if it holds none (otherwise the command refuses, so one run from the wrong directory makes no empty store)"})
}

// findStore says where the admin command's store is. On the embedded
// store it refuses, unless init, a data dir that holds no store yet: serve
// would never see what the command writes there.
func findStore(cfg serveConfig, create bool) (string, error) {
	if cfg.MongoDBURI != "" {
		return fmt.Sprintf("MongoDB %s, database %s", maskURI(cfg.MongoDBURI), cfg.Database), nil
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return "", fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	_, err = os.Stat(filepath.Join(dir, sqlite.FileName))
	switch {
	case err == nil:
		return "embedded in " + dir, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("data dir %s: %w", dir, err)
	case create:
		if err := refuseLegacyStore(dir, filepath.Join(dir, sqlite.FileName)); err != nil {
			return "", err
		}
		return "embedded in " + dir + " (new)", nil
	}
	if err := refuseLegacyStore(dir, filepath.Join(dir, sqlite.FileName)); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no jqlgate store in the data dir %s: run the command where serve keeps its data, or give --data-dir (JQLGATE_DATA_DIR) or --mongodb-uri as serve has them; --url talks to a running server; --init creates a new store there", dir)
}

// adminAction is one subcommand of an admin command such as client create.
type adminAction struct {
	name, usage string
	opts        []option
	run         func(ctx context.Context, st *adminStore, o *optionSet, stdout io.Writer) error
}

// remoteAction runs an admin action against a running server (--url).
type remoteAction func(ctx context.Context, rc *remoteClient, o *optionSet, stdout io.Writer) error

// adminStore is an open store for one admin command.
type adminStore struct {
	store  *backend
	auth   authStore
	cfg    serveConfig
	unlock func()
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// runAdmin dispatches "jqlgate <cmd> <action> [options]". Actions with a
// remote variant take --url and the admin client's credentials and then
// call the server's admin intents instead of opening the store.
func runAdmin(cmd, summary string, actions []adminAction, remote map[string]remoteAction) func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
		names := make([]string, len(actions))
		for i, a := range actions {
			names[i] = a.name
		}
		if len(args) == 0 {
			return fmt.Errorf("jqlgate %s needs an action: %s (jqlgate %s --help describes them)", cmd, strings.Join(names, ", "), cmd)
		}
		if isHelp(args[0]) {
			adminUsage(stdout, cmd, summary, actions, remote)
			return nil
		}
		for _, a := range actions {
			if a.name == args[0] {
				return a.exec(ctx, cmd, args[1:], env, stdout, stderr, remote[a.name])
			}
		}
		return fmt.Errorf("jqlgate %s: unknown action %q (one of %s; jqlgate %s --help describes them)", cmd, args[0], strings.Join(names, ", "), cmd)
	}
}

// adminUsage prints a command's actions.
func adminUsage(w io.Writer, cmd, summary string, actions []adminAction, remote map[string]remoteAction) {
	fmt.Fprintf(w, "Usage: jqlgate %s <action> [options]\n\n%s\n\nActions:\n", cmd, summary)
	for _, a := range actions {
		fmt.Fprintf(w, "  %-14s %s\n", a.name, a.usage)
	}
	if remote != nil {
		fmt.Fprintf(w, "\nWith --url (or JQLGATE_URL) the action runs against a running server through its\n"+
			"system.* admin intents, authenticated as --client-id/--client-secret\n"+
			"(JQLGATE_ADMIN_CLIENT_ID/JQLGATE_ADMIN_CLIENT_SECRET); without it, it opens the\n"+
			"store directly, which the embedded store allows only while serve is stopped.\n")
	}
	fmt.Fprintf(w, "\nRun 'jqlgate %s <action> --help' for an action's options.\n", cmd)
}

// remoteOptions are the options of an action that can run against a
// running server.
var remoteOptions = []option{
	{flag: "url", env: "JQLGATE_URL", usage: "base URL of a running jqlgate server; the action then calls its admin intents instead of opening the store"},
	{flag: "client-id", env: "JQLGATE_ADMIN_CLIENT_ID", usage: "with --url: id of an OAuth2 client holding the admin permission (e.g. the bootstrap client)"},
	{flag: "client-secret", env: "JQLGATE_ADMIN_CLIENT_SECRET", usage: "with --url: that client's secret", secret: true},
}

func (a adminAction) exec(ctx context.Context, cmd string, args []string, env func(string) string, stdout, stderr io.Writer, remote remoteAction) error {
	opts := append(slices.Clone(a.opts), storeOptions()...)
	if remote != nil {
		opts = append(opts, remoteOptions...)
	}
	o := newOptionSet(cmd+" "+a.name, "Usage: jqlgate "+cmd+" "+a.name+" [options]\n\n"+a.usage, opts, env)
	if err := o.parse(args, stderr); err != nil {
		return err
	}
	if remote != nil && o.str("url") != "" {
		rc, err := newRemoteClient(ctx, o.str("url"), o.str("client-id"), o.str("client-secret"))
		if err != nil {
			return err
		}
		return remote(ctx, rc, o, stdout)
	}
	st, err := openAdminStore(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer st.close()
	return cliError(a.run(ctx, st, o, stdout))
}

// cliError shortens a jqlgate error to its message for the terminal;
// internal errors keep their cause, which the operator needs.
func cliError(err error) error {
	var e *jqlgate.Error
	if !errors.As(err, &e) || e.Code == jqlgate.EINTERNAL || e.Code == jqlgate.EUNAVAILABLE {
		return err
	}
	if e.Field != "" {
		return fmt.Errorf("--%s: %s", e.Field, e.Message)
	}
	return errors.New(e.Message)
}

func openAdminStore(ctx context.Context, o *optionSet, stderr io.Writer) (*adminStore, error) {
	cfg := serveConfig{DataDir: o.str("data-dir"), MongoDBURI: o.str("mongodb-uri"), Database: o.str("database")}
	cfg.Webhook.SecretKey = strings.TrimSpace(o.str("secret-key"))
	timeout, err := o.duration("connect-timeout")
	if err != nil {
		return nil, err
	}
	create, err := o.bool("init")
	if err != nil {
		return nil, err
	}
	where, err := findStore(cfg, create)
	if err != nil {
		return nil, err
	}
	unlock, err := lockDataDir(cfg.MongoDBURI, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(stderr, "jqlgate: store:", where)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := openBackend(ctx, storeConfig{DataDir: cfg.DataDir, MongoDBURI: cfg.MongoDBURI, Database: cfg.Database, ConnectTimeout: timeout}, quiet)
	if err != nil {
		unlock()
		return nil, err
	}
	return &adminStore{store: db, auth: db.auth, cfg: cfg, unlock: unlock}, nil
}

func (st *adminStore) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = st.store.close(ctx)
	if st.unlock != nil {
		st.unlock()
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var (
	nameOpt  = option{flag: "name", usage: "a name to recognise it by"}
	scopeOpt = option{flag: "scope", usage: `space-separated permissions, e.g. "system.Webhook:* profile.Customer:create" or "*"`}
	idOpt    = option{flag: "id", usage: "its id"}
)

func clientActions() []adminAction {
	return []adminAction{
		{"create", "Creates an OAuth2 client and prints its id and secret once, as JSON.", []option{nameOpt, scopeOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				cc, err := auth.CreateClient(ctx, st.auth, o.str("name"), o.str("scope"))
				if err != nil {
					return err
				}
				return printJSON(w, cc)
			}},
		{"list", "Lists the OAuth2 clients (never their secrets).", nil,
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				cs, err := st.auth.Clients(ctx)
				if err != nil {
					return err
				}
				out := make([]map[string]any, len(cs))
				for i, c := range cs {
					out[i] = map[string]any{"client_id": c.ID, "name": c.Name, "scope": strings.Join(c.Permissions, " "), "created_at": c.CreatedAt}
				}
				return printJSON(w, out)
			}},
		{"delete", "Deletes an OAuth2 client and disables its webhook subscriptions (\"owner deleted\"); its tokens stop working.", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return st.deletePrincipal(ctx, w, jqlgate.PrincipalClient, o.str("id"), st.auth.DeleteClient)
			}},
		{"update", "Replaces a client's permissions; its tokens and webhooks get only what the new ones allow.", []option{idOpt, scopeOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return updated(w, o, setScope(ctx, o.str("scope"), o.str("id"), st.auth.SetClientPermissions))
			}},
		{"rotate-secret", "Gives a client a new secret, printed once as JSON; the old one stops working.", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				cc, err := auth.RotateClientSecret(ctx, st.auth, o.str("id"))
				if err != nil {
					return err
				}
				return printJSON(w, cc)
			}},
	}
}

func apiKeyActions() []adminAction {
	return []adminAction{
		{"create", "Creates an API key and prints it once, as JSON.", []option{nameOpt, scopeOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				key, k, err := auth.CreateAPIKey(ctx, st.auth, o.str("name"), o.str("scope"))
				if err != nil {
					return err
				}
				return printJSON(w, map[string]string{"id": k.ID, "api_key": key})
			}},
		{"list", "Lists the API keys (never the keys).", nil,
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				ks, err := st.auth.APIKeys(ctx)
				if err != nil {
					return err
				}
				out := make([]map[string]any, len(ks))
				for i, k := range ks {
					out[i] = map[string]any{"id": k.ID, "name": k.Name, "scope": strings.Join(k.Permissions, " "), "created_at": k.CreatedAt}
				}
				return printJSON(w, out)
			}},
		{"delete", "Deletes an API key (serve processes forget it within 10 seconds) and disables its webhook subscriptions (\"owner deleted\").", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return st.deletePrincipal(ctx, w, jqlgate.PrincipalAPIKey, o.str("id"), st.auth.DeleteAPIKey)
			}},
		{"rotate", "Gives an API key a new secret and prints the new key once, as JSON; the old key stops working (within 10 seconds in every serve process).", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				key, k, err := auth.RotateAPIKey(ctx, st.auth, o.str("id"))
				if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
					return fmt.Errorf("nothing with id %q", o.str("id"))
				}
				if err != nil {
					return err
				}
				return printJSON(w, map[string]string{"id": k.ID, "api_key": key})
			}},
		{"update", "Replaces an API key's permissions; its webhooks stop receiving events it may no longer read.", []option{idOpt, scopeOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return updated(w, o, setScope(ctx, o.str("scope"), o.str("id"), st.auth.SetAPIKeyPermissions))
			}},
	}
}

func userActions() []adminAction {
	return []adminAction{
		{"create", "Creates a system.User; the password is read from the first line of standard input.",
			[]option{{flag: "username", usage: "the login name"}, scopeOpt, {flag: "password-stdin", def: "true", usage: "read the password from standard input (the only way)"}},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				pw, err := readPassword()
				if err != nil {
					return err
				}
				u, err := (&auth.Users{Store: st.auth}).Create(ctx, o.str("username"), pw, o.str("scope"))
				if err != nil {
					return err
				}
				return printJSON(w, map[string]string{"id": u.ID, "username": u.Username})
			}},
		{"list", "Lists the system users.", nil,
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				us, err := st.auth.Users(ctx)
				if err != nil {
					return err
				}
				out := make([]map[string]any, len(us))
				for i, u := range us {
					out[i] = map[string]any{"id": u.ID, "username": u.Username, "scope": strings.Join(u.Permissions, " "), "created_at": u.CreatedAt}
				}
				return printJSON(w, out)
			}},
		{"delete", "Deletes a system user and disables its webhook subscriptions (\"owner deleted\"); its tokens and console sessions end.", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return st.deletePrincipal(ctx, w, jqlgate.PrincipalUser, o.str("id"), st.auth.DeleteUser)
			}},
		{"set-password", "Replaces a user's password with the first line of standard input; the user's tokens and console sessions end.", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				pw, err := readPassword()
				if err != nil {
					return err
				}
				err = (&auth.Users{Store: st.auth}).SetPassword(ctx, st.auth, o.str("id"), pw)
				if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
					return fmt.Errorf("nothing with id %q", o.str("id"))
				}
				if err != nil {
					return err
				}
				return printJSON(w, map[string]string{"updated": o.str("id")})
			}},
		{"update", "Replaces a user's permissions; its webhooks stop receiving events it may no longer read, and its tokens and console sessions end.", []option{idOpt, scopeOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return updated(w, o, setScope(ctx, o.str("scope"), o.str("id"), st.auth.SetUserPermissions))
			}},
	}
}

func keyActions() []adminAction {
	return []adminAction{
		{"rotate", "Creates a new token signing key; the old ones keep verifying for --grace (longer than any token lives).",
			[]option{{flag: "grace", def: "24h", usage: "how long the replaced keys still verify tokens"}},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				grace, err := o.duration("grace")
				if err != nil {
					return err
				}
				ks, err := st.keySet()
				if err != nil {
					return err
				}
				k, err := ks.Rotate(ctx, grace)
				if err != nil {
					return err
				}
				return printJSON(w, map[string]any{"kid": k.ID, "old_keys_verify_until": time.Now().Add(grace).UTC()})
			}},
		{"list", "Lists the token signing keys (public parts only).", nil,
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				ks, err := st.auth.SigningKeys(ctx)
				if err != nil {
					return err
				}
				out := make([]map[string]any, len(ks))
				for i, k := range ks {
					out[i] = map[string]any{"kid": k.ID, "alg": k.Algorithm, "created_at": k.CreatedAt, "sealed": k.Encrypted, "verifies_until": verifiesUntil(k.NotAfter)}
				}
				return printJSON(w, out)
			}},
	}
}

func (st *adminStore) keySet() (*auth.KeySet, error) {
	secret, err := loadSecretKey(st.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	return &auth.KeySet{Store: st.auth, Secret: string(secret)}, nil
}

// deletePrincipal deletes a client, API key or user and disables its
// subscriptions, and prints what it did.
func (st *adminStore) deletePrincipal(ctx context.Context, w io.Writer, kind, id string, del func(context.Context, string) error) error {
	// Disabling reads no secret, so the store needs no master key here.
	n, err := deletePrincipal(ctx, st.auth, st.store.subscriptions, kind, id, del)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return fmt.Errorf("nothing with id %q", id)
	}
	if err != nil {
		return err
	}
	return printJSON(w, map[string]any{"deleted": id, "subscriptions_disabled": n})
}

func updated(w io.Writer, o *optionSet, err error) error {
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return fmt.Errorf("nothing with id %q", o.str("id"))
	}
	if err != nil {
		return err
	}
	return printJSON(w, map[string]string{"updated": o.str("id"), "scope": strings.Join(strings.Fields(o.str("scope")), " ")})
}

// verifiesUntil is "signing" for the key in use, else when it stops verifying.
func verifiesUntil(t time.Time) any {
	if t.IsZero() {
		return "signing"
	}
	return t
}

// readPassword reads a password from the first line of standard input.
func readPassword() (string, error) {
	pw, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return strings.TrimRight(pw, "\r\n"), nil
}
