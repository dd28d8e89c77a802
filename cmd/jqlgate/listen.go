package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jqlgate/jqlgate/webhook"
)

var listenOptions = []option{
	{flag: "addr", env: "JQLGATE_LISTEN_ADDR", def: "127.0.0.1:9000", usage: "address to receive webhooks on"},
	{flag: "secret", env: "JQLGATE_LISTEN_SECRET", def: "", usage: "whsec_ signing secret(s) or whpk_ public key(s) (signatureScheme v1a), comma-separated; empty skips verification", secret: true},
	{flag: "status", env: "", def: "200", usage: "HTTP status to answer verified webhooks with (500 exercises retries)"},
	{flag: "tolerance", env: "", def: "5m", usage: "how far webhook-timestamp may be from now"},
	{flag: "forward-to", env: "", def: "", usage: "also forward each verified webhook, headers and body, to this URL"},
}

// listener is jqlgate listen's handler: it prints, verifies, answers and
// optionally forwards each webhook.
type listener struct {
	verifier  *webhook.Verifier
	status    int
	forwardTo string
	client    *http.Client
	mu        sync.Mutex
	out       io.Writer
}

func runListen(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	opts := newOptionSet("listen", "Usage: jqlgate listen [options]\n\nA local webhook receiver for developing and testing receivers: it prints each\nincoming webhook (headers and pretty body), verifies its Standard Webhooks\nsignature and timestamp, says why one fails, and answers --status.", listenOptions, env)
	if err := opts.parse(args, stderr); err != nil {
		return err
	}
	l, err := newListener(opts, stdout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.str("addr"))
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using the port? try --addr 127.0.0.1:0)", opts.str("addr"), err)
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening for webhooks on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newListener(opts *optionSet, out io.Writer) (*listener, error) {
	status, err := opts.int("status")
	if err != nil || status < 200 || status > 599 {
		return nil, fmt.Errorf("--status: %q is not an HTTP status between 200 and 599", opts.str("status"))
	}
	tol, err := opts.duration("tolerance")
	if err != nil {
		return nil, err
	}
	l := &listener{status: status, forwardTo: opts.str("forward-to"), out: out, client: &http.Client{Timeout: 10 * time.Second}}
	if s := opts.str("secret"); s != "" {
		l.verifier, err = webhook.NewVerifier(strings.Split(s, ",")...)
		if err != nil {
			return nil, fmt.Errorf("--secret: %w (copy it from subscribeToWebhook's or getWebhookSecret's answer)", err)
		}
		l.verifier.Tolerance = tol
	}
	return l, nil
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	verdict, code := "not verified (no --secret given)", l.status
	if l.verifier != nil {
		signed := body
		if r.Method == http.MethodGet {
			signed = []byte(r.URL.RawQuery) // a GET's signature covers its query string
		}
		if _, err := l.verifier.Verify(r.Header, signed); err != nil {
			verdict, code = "REJECTED: "+err.Error(), http.StatusUnauthorized
		} else {
			verdict = "signature OK"
		}
	}
	l.print(r, body, verdict, code)
	if code < 300 && l.forwardTo != "" {
		l.forward(r, body)
	}
	w.WriteHeader(code)
	fmt.Fprintln(w, verdict)
}

func (l *listener) print(r *http.Request, body []byte, verdict string, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "\n%s %s %s  [%s] -> %d\n", time.Now().Format(time.TimeOnly), r.Method, r.URL.RequestURI(), verdict, code)
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(l.out, "  %s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "  ", "  ") == nil {
		fmt.Fprintf(l.out, "  %s\n", pretty.String())
	} else if len(body) > 0 {
		fmt.Fprintf(l.out, "  %s\n", body)
	}
}

func (l *listener) forward(r *http.Request, body []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, l.forwardTo, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(l.out, "  forward: %v\n", err)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := l.client.Do(req)
	if err != nil {
		fmt.Fprintf(l.out, "  forward to %s failed: %v\n", l.forwardTo, err)
		return
	}
	resp.Body.Close()
	fmt.Fprintf(l.out, "  forwarded to %s: %d\n", l.forwardTo, resp.StatusCode)
}
