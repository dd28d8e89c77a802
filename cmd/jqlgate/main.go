// Command jqlgate is the JQL command gateway: it serves JQL envelopes over
// HTTP, keeps its data in MongoDB (or an embedded store) and delivers every
// event to the webhooks subscribed to it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/jqlgate/jqlgate/mongodb"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand of jqlgate.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the gateway (HTTP API, OAuth2 server, webhook dispatcher)", runServe},
		{"bench", "measure webhook fan-out and delivery end to end", runBench},
		{"listen", "run a local webhook receiver that prints and verifies what it gets", runListen},
		{"client", "manage OAuth2 clients: create, list, delete, update, rotate-secret (--url: on a running server)",
			runAdmin("client", "Manages the OAuth2 clients of the built-in authorization server.", clientActions(), clientRemote())},
		{"apikey", "manage API keys: create, list, delete, update, rotate (--url: on a running server)",
			runAdmin("apikey", "Manages API keys (authenticationClass apiKey).", apiKeyActions(), apiKeyRemote())},
		{"user", "manage system users (jwt class): create, list, delete, update, set-password (--url: on a running server)",
			runAdmin("user", "Manages system users, who log in with system.User authenticate (authenticationClass jwt).", userActions(), userRemote())},
		{"keys", "manage token signing keys: rotate, list",
			runAdmin("keys", "Manages the keys that sign the tokens the built-in server issues.", keyActions(), nil)},
		{"store", "move all data between stores: export, import (backup, restore, embedded to MongoDB)", runStore},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "jqlgate:", errorLine(err))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return runVersion(ctx, args[1:], env, stdout, stderr)
	}
	if len(args) == 0 || isHelp(args[0]) {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command given (try: jqlgate serve)")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], env, stdout, stderr)
		}
	}
	if near := nearestCommand(args[0]); near != "" {
		return fmt.Errorf("unknown command %q: did you mean %q? (jqlgate --help lists the commands)", args[0], near)
	}
	return fmt.Errorf("unknown command %q (jqlgate --help lists the commands)", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "jqlgate %s: an Antly-compatible JQL command gateway with webhook delivery.\n\nUsage: jqlgate <command> [options]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'jqlgate <command> --help' for a command's options.")
}

func maskURI(uri string) string { return mongodb.MaskURI(uri) }

func runVersion(_ context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, "Usage: jqlgate version (or jqlgate --version)\n\nPrints the version.")
		return nil
	}
	fmt.Fprintln(stdout, "jqlgate", version)
	return nil
}
