package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestErrorLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, busy := net.Listen("tcp", ln.Addr().String())
	topology := errors.New("store mongodb://u:xxxxx@h:9 unreachable after 2s: server selection error: context deadline exceeded, current topology: { Type: Unknown, Servers: [{ Addr: h:9, Type: Unknown, Last error: dial tcp h:9: connect: connection refused }, ] }")
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"busy port", fmt.Errorf("listen on x: %w", busy), []string{"address already in use", "--addr"}},
		{"unreachable store", topology, []string{"unreachable after 2s", "connection refused", "MONGODB_URI"}},
		{"own hint kept", errors.New("listen on x: in use (try --addr 127.0.0.1:0)"), []string{"(try --addr 127.0.0.1:0)"}},
		{"no repeated prefix", errors.New("jqlgate client needs an action: create"), []string{"client needs an action"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorLine(tt.err)
			if strings.Contains(got, "\n") || strings.Contains(got, "topology") || strings.HasPrefix(got, "jqlgate ") {
				t.Errorf("errorLine = %q, want one short line", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("errorLine = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestUnknownCommandSuggestsNearest(t *testing.T) {
	tests := []struct{ typed, want string }{{"serv", `did you mean "serve"`}, {"lisen", `did you mean "listen"`}, {"frobnicate", "jqlgate --help"}}
	for _, tt := range tests {
		var out strings.Builder
		err := run(t.Context(), []string{tt.typed}, func(string) string { return "" }, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) || out.Len() != 0 {
			t.Errorf("jqlgate %s: error %v, output %q; want one line with %q", tt.typed, err, out.String(), tt.want)
		}
	}
}

func TestBadOptionIsOneLine(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"serve", "--adr", "x"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "unknown option --adr") || out.Len() != 0 {
		t.Errorf("error %v, output %q; want one line naming --adr and no usage", err, out.String())
	}
}
