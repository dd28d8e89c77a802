package main

import (
	"errors"
	"regexp"
	"strings"
	"syscall"
)

// errorLine turns an error into the one line the terminal shows: the
// driver's multi-part detail cut to its cause, no repeated "jqlgate"
// prefix, and a hint at the fix where the cause is a common one.
func errorLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "jqlgate ")
	msg = shortenTopology(msg)
	msg = strings.Join(strings.Fields(msg), " ")
	// A message that already carries a hint in parentheses keeps its own.
	if hint := errorHint(err, msg); hint != "" && !strings.Contains(msg, "(") {
		msg += " (" + hint + ")"
	}
	return msg
}

// lastError finds the cause inside the MongoDB driver's topology dump.
var lastError = regexp.MustCompile(`Last error: ([^}\]]*?)\s*}`)

// shortenTopology replaces the driver's ", current topology: { … }" with
// the last error it holds, such as "connection refused".
func shortenTopology(msg string) string {
	i := strings.Index(msg, ", current topology:")
	if i < 0 {
		return msg
	}
	short := msg[:i]
	if m := lastError.FindStringSubmatch(msg[i:]); m != nil {
		short += ": " + strings.TrimSpace(m[1])
	}
	return short
}

// errorHint suggests a fix for causes users meet often.
func errorHint(err error, msg string) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "another program, perhaps another jqlgate, uses that address: stop it or pick another with --addr or JQLGATE_ADDR"
	case strings.Contains(msg, "unreachable after"):
		return "is MongoDB running and the URI right? Check --mongodb-uri or MONGODB_URI, raise --connect-timeout, or leave the URI empty for the embedded store"
	case strings.Contains(msg, "invalid URI"):
		return `the URI must look like mongodb://user:password@host:27017/?replicaSet=rs0; leave it empty for the embedded store`
	}
	return ""
}

// nearestCommand returns the command name closest to a mistyped one, or
// "" when none is close.
func nearestCommand(name string) string {
	best, bestDist := "", 3
	for _, c := range commands() {
		if d := editDistance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
