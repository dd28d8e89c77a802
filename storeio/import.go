package storeio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/jqlgate/jqlgate"
)

// BatchSize is how many records, events or attempts one write carries.
const BatchSize = 500

// importer reads one file into a sink.
type importer struct {
	ctx    context.Context
	sink   Sink
	sealer *jqlgate.Sealer
	opts   Options
	counts Counts

	// The batch being gathered: its kind (and collection), the line it
	// started on, and its items.
	kind, coll string
	first      int
	recs       []map[string]any
	fans       []*jqlgate.Fanout
	atts       []*jqlgate.Attempt
}

// Import reads a file Export wrote from r into sink, opening its secrets
// with sealer. It stops at the first bad line (named by its number), and
// refuses a file whose trailer is missing or does not match what it read:
// what was written before then stays written.
func Import(ctx context.Context, r io.Reader, sink Sink, sealer *jqlgate.Sealer, opts Options) (Counts, error) {
	if sealer == nil {
		return nil, errors.New("import: a master key is needed to open the secrets")
	}
	im := &importer{ctx: ctx, sink: sink, sealer: sealer, opts: opts, counts: Counts{}}
	br := bufio.NewReaderSize(r, 1<<16)
	n := 0
	var trailer *trailerLine
	for {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return im.counts, fmt.Errorf("reading line %d: %w", n+1, rerr)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			n++
			if rerr == io.EOF {
				return im.counts, fmt.Errorf("line %d: the file ends inside a line: it is truncated", n)
			}
			if trailer != nil {
				return im.counts, fmt.Errorf("line %d: data after the trailer line", n)
			}
			t, err := im.line(n, line)
			if err != nil {
				return im.counts, err
			}
			trailer = t
		}
		if rerr == io.EOF {
			break
		}
	}
	switch {
	case n == 0:
		return im.counts, errors.New("the file is empty: no header line")
	case trailer == nil:
		if err := im.flush(); err != nil {
			return im.counts, err
		}
		return im.counts, fmt.Errorf("no trailer line after line %d: the file is truncated (what was read is imported)", n)
	}
	if !maps.Equal(trailer.Counts, im.counts) {
		return im.counts, fmt.Errorf("line %d: the trailer counts %v, but the file holds %v", n, trailer.Counts, im.counts)
	}
	opts.progress("import: done: %v", im.counts)
	return im.counts, nil
}

// line imports line n; it returns the trailer when it is the trailer.
func (im *importer) line(n int, line []byte) (*trailerLine, error) {
	var k struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(line, &k); err != nil {
		return nil, fmt.Errorf("line %d: not a JSON object: %v", n, err)
	}
	if n == 1 {
		return nil, im.header(line)
	}
	if k.Kind == KindHeader {
		return nil, fmt.Errorf("line %d: a second header line", n)
	}
	if k.Kind != im.kind || k.Kind == KindRecord {
		if err := im.flushIf(k.Kind, line); err != nil {
			return nil, err
		}
	}
	if k.Kind == KindTrailer {
		var t trailerLine
		if err := json.Unmarshal(line, &t); err != nil {
			return nil, fmt.Errorf("line %d: bad trailer: %v", n, err)
		}
		return &t, nil
	}
	if err := im.item(n, k.Kind, line); err != nil {
		return nil, fmt.Errorf("line %d: %w", n, err)
	}
	im.counts[k.Kind]++
	if c := im.counts[k.Kind]; c%50000 == 0 {
		im.opts.progress("import: %d %s lines", c, k.Kind)
	}
	return nil, nil
}

func (im *importer) header(line []byte) error {
	var h headerLine
	if err := json.Unmarshal(line, &h); err != nil || h.Kind != KindHeader {
		return errors.New("line 1: not a jqlgate store export (no header line)")
	}
	if h.Format < 1 || h.Format > FormatVersion {
		return fmt.Errorf("line 1: export format %d, this jqlgate reads format %d (use a newer jqlgate)", h.Format, FormatVersion)
	}
	im.opts.progress("import: export of %s made %s", h.Source, h.ExportedAt.Format(time.RFC3339))
	return nil
}

// flushIf writes the batch gathered unless the next line continues it.
func (im *importer) flushIf(kind string, line []byte) error {
	if kind == KindRecord && im.kind == KindRecord {
		var c struct {
			Collection string `json:"collection"`
		}
		_ = json.Unmarshal(line, &c)
		if c.Collection == im.coll && len(im.recs) < BatchSize {
			return nil
		}
	}
	return im.flush()
}

func (im *importer) flush() error {
	var err error
	n, kind := 0, im.kind
	switch im.kind {
	case KindRecord:
		n, err = len(im.recs), im.sink.PutRecords(im.ctx, im.coll, im.recs)
	case KindEvent:
		n, err = len(im.fans), im.sink.PutEvents(im.ctx, im.fans)
	case KindAttempt:
		n, err = len(im.atts), im.sink.PutAttempts(im.ctx, im.atts)
	}
	im.kind, im.recs, im.fans, im.atts = "", nil, nil, nil
	if err != nil {
		return fmt.Errorf("lines %d-%d (%s lines): %w", im.first, im.first+n-1, kind, err)
	}
	return nil
}

// item imports one data line: small kinds at once, the others into the
// batch.
func (im *importer) item(n int, kind string, line []byte) error {
	ctx := im.ctx
	switch kind {
	case KindClient:
		var l clientLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		return im.sink.CreateClient(ctx, &jqlgate.Client{ID: l.ID, Name: l.Name, SecretHash: l.SecretHash,
			Permissions: l.Permissions, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt})
	case KindAPIKey:
		var l apiKeyLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		return im.sink.CreateAPIKey(ctx, &jqlgate.APIKey{ID: l.ID, Name: l.Name, Hash: l.Hash, Permissions: l.Permissions, CreatedAt: l.CreatedAt})
	case KindUser:
		var l userLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		return im.sink.CreateUser(ctx, &jqlgate.User{ID: l.ID, Username: l.Username, PasswordHash: l.PasswordHash,
			Permissions: l.Permissions, CreatedAt: l.CreatedAt})
	case KindSigningKey:
		var l signingKeyLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		k, err := signingKeyIn(im.sealer, &l)
		if err != nil {
			return err
		}
		return im.sink.CreateSigningKey(ctx, k)
	case KindTrustedSite:
		var l siteLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		t, err := siteIn(im.sealer, &l)
		if err != nil {
			return err
		}
		return im.sink.PutTrustedSite(ctx, t)
	case KindSubscription:
		var l subscriptionLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		s, err := subscriptionIn(im.sealer, &l)
		if err != nil {
			return err
		}
		return im.sink.PutSubscription(ctx, s)
	case KindNode:
		var l nodeLine
		if err := decode(line, &l, &l.Node); err != nil {
			return err
		}
		return im.sink.PutNodeState(ctx, jqlgate.NodeState{Node: l.Node, Owner: l.Owner, Epoch: l.Epoch,
			Heartbeat: l.Heartbeat, Watermark: l.Watermark, Floor: l.Floor})
	case KindRecord, KindEvent, KindAttempt:
		return im.batch(n, kind, line)
	}
	return fmt.Errorf("unknown kind %q (one of %v)", kind, dataKinds)
}

var dataKinds = []string{KindClient, KindAPIKey, KindUser, KindSigningKey, KindTrustedSite, KindSubscription,
	KindRecord, KindEvent, KindAttempt, KindNode}

func (im *importer) batch(n int, kind string, line []byte) error {
	if im.kind == "" {
		im.kind, im.first = kind, n
	}
	switch kind {
	case KindRecord:
		var l recordLine
		if err := json.Unmarshal(line, &l); err != nil {
			return fmt.Errorf("bad record: %v", err)
		}
		rec, ok := l.Record.V.(map[string]any)
		if id, _ := rec["id"].(string); !ok || id == "" || l.Collection == "" {
			return errors.New("a record needs a collection and an object with a string id")
		}
		im.coll = l.Collection
		im.recs = append(im.recs, rec)
		if len(im.recs) >= BatchSize {
			return im.flush()
		}
	case KindEvent:
		var l eventLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		im.fans = append(im.fans, eventIn(&l))
		if len(im.fans) >= BatchSize {
			return im.flush()
		}
	case KindAttempt:
		var l attemptLine
		if err := decode(line, &l, &l.ID); err != nil {
			return err
		}
		im.atts = append(im.atts, attemptIn(&l))
		if len(im.atts) >= BatchSize {
			return im.flush()
		}
	}
	return nil
}

// decode reads a data line into l and checks that it names its item.
func decode(line []byte, l any, id *string) error {
	if err := json.Unmarshal(line, l); err != nil {
		return fmt.Errorf("bad line: %v", err)
	}
	if *id == "" {
		return errors.New("the line has no id")
	}
	return nil
}
