package sqlite

import (
	"database/sql/driver"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// SQLite's own case folding (lower(), LIKE, NOCASE) knows only ASCII;
// MongoDB's case-insensitive regex knows Unicode. jql_icontains(s, sub)
// reports whether s contains sub ignoring case as Go's and MongoDB's
// regular expressions do (simple case folding), so icontains and search
// mean the same on both adapters.
func init() {
	err := sqlite.RegisterDeterministicScalarFunction("jql_icontains", 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok1 := args[0].(string)
			sub, ok2 := args[1].(string)
			if !ok1 || !ok2 {
				return int64(0), nil
			}
			if containsFold(s, sub) {
				return int64(1), nil
			}
			return int64(0), nil
		})
	if err != nil {
		panic(err)
	}
}

// containsFold reports whether sub is within s under simple Unicode case
// folding.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	if isASCII(s) && isASCII(sub) {
		return asciiContainsFold(s, sub)
	}
	for i := range s {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiContainsFold(s, sub string) bool {
	n := len(sub)
outer:
	for i := 0; i+n <= len(s); i++ {
		for j := 0; j < n; j++ {
			if lowerASCII(s[i+j]) != lowerASCII(sub[j]) {
				continue outer
			}
		}
		return true
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hasPrefixFold(s, prefix string) bool {
	for _, pr := range prefix {
		if s == "" {
			return false
		}
		sr, size := utf8.DecodeRuneInString(s)
		if !equalFoldRune(sr, pr) {
			return false
		}
		s = s[size:]
	}
	return true
}

// equalFoldRune reports whether a and b are in one simple folding orbit,
// as regexp's (?i) matches them.
func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
