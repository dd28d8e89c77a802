package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/auth"
	"github.com/jqlgate/jqlgate/mongodb"
)

// stdin is where user create reads the password; tests replace it.
var stdin io.Reader = os.Stdin

// storeOptions are the serve options the admin commands share with serve,
// so they find the same store.
func storeOptions() []option {
	var out []option
	for _, o := range serveOptions {
		switch o.flag {
		case "data-dir", "mongodb-uri", "database", "connect-timeout", "secret-key":
			out = append(out, o)
		}
	}
	return out
}

// adminAction is one subcommand of an admin command such as client create.
type adminAction struct {
	name, usage string
	opts        []option
	run         func(ctx context.Context, st *adminStore, o *optionSet, stdout io.Writer) error
}

// adminStore is an open store for one admin command.
type adminStore struct {
	db     *mongodb.DB
	auth   *mongodb.AuthStore
	cfg    serveConfig
	unlock func()
}

// runAdmin dispatches "jqlgate <cmd> <action> [options]".
func runAdmin(cmd string, actions []adminAction) func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
		names := make([]string, len(actions))
		for i, a := range actions {
			names[i] = a.name
		}
		if len(args) == 0 {
			return fmt.Errorf("jqlgate %s needs an action: %s", cmd, strings.Join(names, ", "))
		}
		for _, a := range actions {
			if a.name == args[0] {
				return a.exec(ctx, cmd, args[1:], env, stdout, stderr)
			}
		}
		return fmt.Errorf("jqlgate %s: unknown action %q (one of %s)", cmd, args[0], strings.Join(names, ", "))
	}
}

func (a adminAction) exec(ctx context.Context, cmd string, args []string, env func(string) string, stdout, stderr io.Writer) error {
	o := newOptionSet(cmd+" "+a.name, "Usage: jqlgate "+cmd+" "+a.name+" [options]\n\n"+a.usage, append(a.opts, storeOptions()...), env)
	if err := o.parse(args, stderr); err != nil {
		return err
	}
	st, err := openAdminStore(ctx, o)
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

func openAdminStore(ctx context.Context, o *optionSet) (*adminStore, error) {
	cfg := serveConfig{DataDir: o.str("data-dir"), MongoDBURI: o.str("mongodb-uri"), Database: o.str("database")}
	cfg.Webhook.SecretKey = strings.TrimSpace(o.str("secret-key"))
	timeout, err := o.duration("connect-timeout")
	if err != nil {
		return nil, err
	}
	unlock, err := lockDataDir(cfg.MongoDBURI, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := mongodb.Open(ctx, mongodb.Config{URI: cfg.MongoDBURI, Database: cfg.Database, DataDir: cfg.DataDir, ConnectTimeout: timeout, Logger: quiet})
	if err != nil {
		unlock()
		return nil, err
	}
	st := &adminStore{db: db, auth: mongodb.NewAuthStore(db.Database), cfg: cfg, unlock: unlock}
	if err := st.auth.EnsureIndexes(ctx); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

func (st *adminStore) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = st.db.Close(ctx)
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
		{"delete", "Deletes an OAuth2 client and disables its webhook subscriptions (\"owner deleted\"); its tokens stay valid until they expire.", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return st.deletePrincipal(ctx, w, jqlgate.PrincipalClient, o.str("id"), st.auth.DeleteClient)
			}},
		{"update", "Replaces a client's permissions; its webhooks stop receiving events it may no longer read. Tokens already issued keep their scope until they expire.", []option{idOpt, scopeOpt},
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
				pw, err := bufio.NewReader(stdin).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("reading the password from standard input: %w", err)
				}
				u, err := (&auth.Users{Store: st.auth}).Create(ctx, o.str("username"), strings.TrimRight(pw, "\r\n"), o.str("scope"))
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
		{"delete", "Deletes a system user and disables its webhook subscriptions (\"owner deleted\"); tokens already issued stay valid until they expire.", []option{idOpt},
			func(ctx context.Context, st *adminStore, o *optionSet, w io.Writer) error {
				return st.deletePrincipal(ctx, w, jqlgate.PrincipalUser, o.str("id"), st.auth.DeleteUser)
			}},
		{"update", "Replaces a user's permissions; its webhooks stop receiving events it may no longer read. Tokens already issued keep their scope until they expire.", []option{idOpt, scopeOpt},
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
	n, err := deletePrincipal(ctx, mongodb.NewSubscriptionStore(st.db.Database, nil), kind, id, del)
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
