package mongotest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FerretDB v1 reports a unique index violation by an update (update,
// findAndModify) as an InternalError whose message carries SQLite's
// "UNIQUE constraint failed", where MongoDB answers DuplicateKey (11000),
// which the adapter maps to ECONFLICT. dupKeyProxy stands between the
// tests and FerretDB and rewrites those replies into MongoDB's, so the
// adapter is tested on what MongoDB says and needs no FerretDB case.
type dupKeyProxy struct {
	ln      net.Listener
	backend string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// behindDupKeyProxy starts a dupKeyProxy in front of the FerretDB at uri
// and returns the URI that reaches FerretDB through it.
func behindDupKeyProxy(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", err
	}
	p, err := startDupKeyProxy(u.Host)
	if err != nil {
		return "", err
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// startDupKeyProxy listens on a free loopback port and forwards every
// connection to backend (host:port).
func startDupKeyProxy(backend string) (*dupKeyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &dupKeyProxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *dupKeyProxy) Addr() string { return p.ln.Addr().String() }

// Close stops listening and closes every connection.
func (p *dupKeyProxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *dupKeyProxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *dupKeyProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.backend)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.track(client, true)
		p.track(server, true)
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(server, client)
			_ = server.Close()
		}()
		go func() {
			defer p.wg.Done()
			_ = copyReplies(client, server)
			_ = client.Close()
			p.track(client, false)
			p.track(server, false)
		}()
	}
}

const (
	opMsg          = 2013
	msgChecksum    = 1 << 0
	codeDuplicated = 11000
)

// copyReplies copies wire protocol messages from src to dst, rewriting
// the OP_MSG replies that report a SQLite unique constraint.
func copyReplies(dst io.Writer, src io.Reader) error {
	var header [16]byte
	for {
		if _, err := io.ReadFull(src, header[:]); err != nil {
			return err
		}
		n := int(binary.LittleEndian.Uint32(header[0:4]))
		if n < 16 {
			return errors.New("mongotest proxy: bad message length")
		}
		msg := make([]byte, n)
		copy(msg, header[:])
		if _, err := io.ReadFull(src, msg[16:]); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(msg[12:16]) == opMsg {
			msg = rewriteDupKey(msg)
		}
		if _, err := dst.Write(msg); err != nil {
			return err
		}
	}
}

// rewriteDupKey returns msg (an OP_MSG) with its body's error, and its
// write errors, turned into DuplicateKey where they are SQLite's unique
// constraint; msg itself when there is nothing to rewrite.
func rewriteDupKey(msg []byte) []byte {
	if len(msg) < 21 || !strings.Contains(string(msg), "UNIQUE constraint failed") {
		return msg
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	end := len(msg)
	if flags&msgChecksum != 0 {
		end -= 4
	}
	if msg[20] != 0 || end < 25 { // the body is section kind 0
		return msg
	}
	size := int(binary.LittleEndian.Uint32(msg[21:25]))
	if 21+size > end {
		return msg
	}
	var body bson.D
	if err := bson.Unmarshal(msg[21:21+size], &body); err != nil {
		return msg
	}
	body, ok := dupKeyDoc(body)
	if !ok {
		return msg
	}
	raw, err := bson.Marshal(body)
	if err != nil {
		return msg
	}
	out := make([]byte, 0, len(msg)+len(raw))
	out = append(out, msg[:21]...)
	out = append(out, raw...)
	out = append(out, msg[21+size:end]...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[16:20], flags&^msgChecksum)
	return out
}

// dupKeyDoc rewrites an error document (a command reply or a write
// error) whose message is SQLite's unique constraint, and those among its
// writeErrors; it reports whether it changed anything.
func dupKeyDoc(doc bson.D) (bson.D, bool) {
	changed, isDup := false, false
	for i, e := range doc {
		switch e.Key {
		case "errmsg":
			if msg, ok := e.Value.(string); ok && strings.Contains(msg, "UNIQUE constraint failed") && !strings.HasPrefix(msg, "E11000") {
				doc[i].Value = "E11000 duplicate key error: " + msg
				changed, isDup = true, true
			}
		case "writeErrors":
			if arr, ok := e.Value.(bson.A); ok {
				for j, we := range arr {
					if d, ok := we.(bson.D); ok {
						if d, ok = dupKeyDoc(d); ok {
							arr[j] = d
							changed = true
						}
					}
				}
			}
		}
	}
	if isDup {
		doc = setField(setField(doc, "code", int32(codeDuplicated)), "codeName", "DuplicateKey")
	}
	return doc, changed
}

// setField sets key in doc, adding it if missing.
func setField(doc bson.D, key string, v any) bson.D {
	for i := range doc {
		if doc[i].Key == key {
			doc[i].Value = v
			return doc
		}
	}
	return append(doc, bson.E{Key: key, Value: v})
}
