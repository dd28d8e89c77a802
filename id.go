package jqlgate

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: sortable, no ambiguous letters.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idMu sync.Mutex
var lastMillis uint64
var lastSeq uint32

// NewID returns a new identifier with the given prefix, as "prefix_" and 26
// base32 characters: 48 bits of milliseconds, a 16-bit sequence and 66 random
// bits. IDs made by one process sort by creation time.
func NewID(prefix string) string {
	ms := uint64(time.Now().UnixMilli())
	idMu.Lock()
	if ms <= lastMillis {
		ms = lastMillis
		lastSeq++
		if lastSeq > 0xffff {
			ms++
			lastSeq = 0
		}
	} else {
		lastSeq = 0
	}
	lastMillis = ms
	seq := lastSeq
	idMu.Unlock()

	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ms<<16|uint64(seq))
	_, _ = rand.Read(b[8:])
	var sb strings.Builder
	sb.Grow(len(prefix) + 27)
	if prefix != "" {
		sb.WriteString(prefix)
		sb.WriteByte('_')
	}
	// 128 bits as 26 base32 digits, most significant first.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift > 59:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		sb.WriteByte(crockford[v&31])
	}
	return sb.String()
}
