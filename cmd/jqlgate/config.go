package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"strconv"
	"strings"
	"time"
)

// option is one setting: a flag and an environment variable with the same
// meaning. The table of options is the one place that holds the defaults;
// flags win over the environment, the environment over the default.
type option struct {
	flag   string
	env    string
	def    string
	usage  string
	secret bool
	// isBool makes the flag a switch: --init alone means --init=true.
	isBool bool
}

// boolString is a string flag that, like a bool flag, needs no value.
type boolString struct{ p *string }

func (b boolString) String() string {
	if b.p == nil {
		return ""
	}
	return *b.p
}
func (b boolString) Set(s string) error { *b.p = s; return nil }
func (b boolString) IsBoolFlag() bool   { return true }

// optionSet binds options to a flag.FlagSet.
type optionSet struct {
	fs      *flag.FlagSet
	opts    []option
	values  map[string]*string
	environ func(string) string
}

func newOptionSet(name, usage string, opts []option, environ func(string) string) *optionSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	s := &optionSet{fs: fs, opts: opts, values: map[string]*string{}, environ: environ}
	for _, o := range opts {
		def := o.def
		if v := environ(o.env); o.env != "" && v != "" {
			def = v
		}
		if o.isBool {
			v := def
			s.values[o.flag] = &v
			fs.Var(boolString{&v}, o.flag, o.usage)
			continue
		}
		s.values[o.flag] = fs.String(o.flag, def, o.usage)
	}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "%s\n\nOptions (flag, environment variable, default):\n", usage)
		for _, o := range opts {
			env := o.env
			if env == "" {
				env = "-"
			}
			def := o.def
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(out, "  --%-22s %-34s default %s\n        %s\n", o.flag, env, def, o.usage)
		}
	}
	return s
}

// parse parses args. --help prints the options to out; a bad flag is one
// line naming it, without the whole usage.
func (s *optionSet) parse(args []string, out io.Writer) error {
	s.fs.SetOutput(io.Discard)
	err := s.fs.Parse(args)
	s.fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		s.fs.Usage()
		return err
	case err != nil:
		msg := strings.Replace(err.Error(), "flag provided but not defined: -", "unknown option --", 1)
		return fmt.Errorf("%s: %s (jqlgate %s --help lists the options)", s.fs.Name(), msg, s.fs.Name())
	case s.fs.NArg() > 0:
		return fmt.Errorf("%s: unexpected argument %q (options start with --; jqlgate %s --help lists them)", s.fs.Name(), s.fs.Arg(0), s.fs.Name())
	}
	return nil
}

func (s *optionSet) str(name string) string { return *s.values[name] }

func (s *optionSet) duration(name string) (time.Duration, error) {
	d, err := time.ParseDuration(s.str(name))
	if err != nil {
		return 0, fmt.Errorf("--%s: %q is not a duration (try 10s or 1m)", name, s.str(name))
	}
	return d, nil
}

func (s *optionSet) int(name string) (int, error) {
	n, err := strconv.Atoi(s.str(name))
	if err != nil {
		return 0, fmt.Errorf("--%s: %q is not a whole number", name, s.str(name))
	}
	return n, nil
}

func (s *optionSet) float(name string) (float64, error) {
	f, err := strconv.ParseFloat(s.str(name), 64)
	if err != nil {
		return 0, fmt.Errorf("--%s: %q is not a number", name, s.str(name))
	}
	return f, nil
}

func (s *optionSet) bool(name string) (bool, error) {
	b, err := strconv.ParseBool(s.str(name))
	if err != nil {
		return false, fmt.Errorf("--%s: %q is not true or false", name, s.str(name))
	}
	return b, nil
}

// logAttrs returns every option's value for logging, with secrets masked.
func (s *optionSet) logAttrs() []any {
	var attrs []any
	for _, o := range s.opts {
		v := s.str(o.flag)
		if o.secret && v != "" {
			v = "xxxxx"
		}
		if strings.HasSuffix(o.flag, "uri") && v != "" {
			v = maskURI(v)
		}
		attrs = append(attrs, slog.String(o.flag, v))
	}
	return attrs
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}
