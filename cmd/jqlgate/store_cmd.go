package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/model"
	"github.com/jqlgate/jqlgate/schemas"
	"github.com/jqlgate/jqlgate/sqlite"
	"github.com/jqlgate/jqlgate/storeio"
)

// runStore dispatches "jqlgate store export|import".
func runStore(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	const usage = "Usage: jqlgate store <export|import> [options]\n\n" +
		"Moves everything a store holds (principals, signing keys, trusted sites, subscriptions, records,\n" +
		"events, attempts, node checkpoints) to or from a file of JSON lines, between any two stores:\n" +
		"backup and restore, and the embedded store to MongoDB. Secrets stay sealed under the master key.\n" +
		"The embedded store is opened only while serve is stopped.\n\n" +
		"  export   write the store to --out (default -, standard output)\n" +
		"  import   read --in (default -, standard input) into the store; it must be empty unless --merge\n"
	if len(args) == 0 {
		return errors.New("jqlgate store needs an action: export or import (jqlgate store --help describes them)")
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "export":
		return storeExport(ctx, args[1:], env, stdout, stderr)
	case "import":
		return storeImport(ctx, args[1:], env, stdout, stderr)
	}
	return fmt.Errorf("jqlgate store: unknown action %q (export or import)", args[0])
}

// storeCmdOptions are the store options of export and import (no --init:
// import creates the embedded store, export needs one).
func storeCmdOptions(extra ...option) []option {
	var out []option
	for _, o := range storeOptions() {
		if o.flag != "init" {
			out = append(out, o)
		}
	}
	return append(extra, out...)
}

// portStore is a store opened for export or import.
type portStore struct {
	b      *backend
	port   *storePort
	sealer *jqlgate.Sealer
	where  string
	unlock func()
}

func (s *portStore) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.b.close(ctx)
	s.unlock()
}

// openPortStore opens the store the options name, with its master key, as
// the admin commands do; create makes a new embedded store in the data
// dir (beside an earlier store/ folder too).
func openPortStore(ctx context.Context, o *optionSet, stderr io.Writer, create bool) (*portStore, error) {
	cfg := serveConfig{DataDir: o.str("data-dir"), MongoDBURI: o.str("mongodb-uri"), Database: o.str("database")}
	cfg.Webhook.SecretKey = strings.TrimSpace(o.str("secret-key"))
	timeout, err := o.duration("connect-timeout")
	if err != nil {
		return nil, err
	}
	where := ""
	if !create || cfg.MongoDBURI != "" {
		if where, err = findStore(cfg, false); err != nil {
			return nil, err
		}
	}
	unlock, err := lockDataDir(cfg.MongoDBURI, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if where == "" {
		if where, err = createEmbedded(ctx, cfg.DataDir, quiet); err != nil {
			unlock()
			return nil, err
		}
	}
	fmt.Fprintln(stderr, "jqlgate: store:", where)
	var sealer *jqlgate.Sealer
	sc := storeConfig{DataDir: cfg.DataDir, MongoDBURI: cfg.MongoDBURI, Database: cfg.Database, ConnectTimeout: timeout,
		Sealer: func() (*jqlgate.Sealer, error) {
			s, err := sealerFor(cfg, quiet)
			sealer = s
			return s, err
		}}
	b, err := openBackend(ctx, sc, quiet)
	if err != nil {
		unlock()
		return nil, err
	}
	port, err := portOf(b)
	if err != nil {
		_ = b.close(ctx)
		unlock()
		return nil, err
	}
	return &portStore{b: b, port: port, sealer: sealer, where: where, unlock: unlock}, nil
}

// createEmbedded makes sure the data dir holds an embedded store file, so
// an import can fill it even beside the earlier format's store/ folder.
func createEmbedded(ctx context.Context, dataDir string, logger *slog.Logger) (string, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("data dir %s: %w", dataDir, err)
	}
	path := filepath.Join(dir, sqlite.FileName)
	if _, err := os.Stat(path); err == nil {
		return "embedded in " + dir, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("data dir %s: %w", dir, err)
	}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: path, Logger: logger})
	if err != nil {
		return "", err
	}
	if err := db.Close(ctx); err != nil {
		return "", err
	}
	return "embedded in " + dir + " (new)", nil
}

func storeExport(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	o := newOptionSet("store export", "Usage: jqlgate store export [--out FILE|-] [options]\n\nWrites everything the store holds to a file of JSON lines.",
		storeCmdOptions(option{flag: "out", def: "-", usage: "the file to write, - for standard output"}), env)
	if err := o.parse(args, stderr); err != nil {
		return err
	}
	st, err := openPortStore(ctx, o, stderr, false)
	if err != nil {
		return err
	}
	defer st.close()
	out, path := stdout, o.str("out")
	var f *os.File
	if path != "-" && path != "" {
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		out = f
	}
	counts, err := storeio.Export(ctx, st.port, out, st.sealer, storeio.Options{Progress: stderr, Source: st.where})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "jqlgate: exported %s\n", describeCounts(counts))
	return nil
}

func storeImport(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	o := newOptionSet("store import", "Usage: jqlgate store import [--in FILE|-] [--merge] [options]\n\n"+
		"Reads a file jqlgate store export (or jqlgate-legacy-export) wrote into the store, creating the\n"+
		"embedded store if the data dir has none and the indexes serve creates. The secrets are opened\n"+
		"with the master key (--secret-key, or the data dir's secret.key) and sealed again by the store.",
		storeCmdOptions(
			option{flag: "in", def: "-", usage: "the file to read, - for standard input"},
			option{flag: "merge", def: "false", isBool: true, usage: "import into a store that already holds data (an item already there is a conflict and stops the import)"},
			option{flag: "schema-dir", env: "JQLGATE_SCHEMA_DIR", usage: "directory of model schema files, as serve has it, for the records' indexes"},
		), env)
	if err := o.parse(args, stderr); err != nil {
		return err
	}
	merge, err := o.bool("merge")
	if err != nil {
		return err
	}
	in := stdin
	if path := o.str("in"); path != "-" && path != "" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("--in: %w", err)
		}
		defer f.Close()
		in = f
	}
	set, err := schemas.LoadModels(o.str("schema-dir"))
	if err != nil {
		return err
	}
	st, err := openPortStore(ctx, o, stderr, true)
	if err != nil {
		return err
	}
	defer st.close()
	if err := model.EnsureIndexes(ctx, set, st.b.records); err != nil {
		return fmt.Errorf("model namespaces: %w", err)
	}
	if !merge {
		empty, kind, err := storeio.Empty(ctx, st.port)
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("the target store (%s) already holds %s: import fills an empty store; --merge adds to one that holds data", st.where, kind)
		}
	}
	counts, err := storeio.Import(ctx, in, st.port, st.sealer, storeio.Options{Progress: stderr})
	if err != nil {
		return fmt.Errorf("import stopped: %w", err)
	}
	fmt.Fprintf(stderr, "jqlgate: imported %s\n", describeCounts(counts))
	return printJSON(stdout, map[string]any{"imported": counts})
}

// describeCounts is counts in one line, in the file's order.
func describeCounts(c storeio.Counts) string {
	var parts []string
	for _, k := range []string{storeio.KindClient, storeio.KindAPIKey, storeio.KindUser, storeio.KindSigningKey, storeio.KindTrustedSite,
		storeio.KindSubscription, storeio.KindRecord, storeio.KindEvent, storeio.KindAttempt, storeio.KindNode} {
		parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
	}
	return strings.Join(parts, ", ")
}
