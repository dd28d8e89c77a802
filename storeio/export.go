package storeio

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jqlgate/jqlgate"
)

// PageSize is how many events, attempts or records one read returns.
const PageSize = 500

// Options are what an export or import reports to and how.
type Options struct {
	// Progress receives a line now and then (nil for none).
	Progress io.Writer
	// Source names the exported store in the header.
	Source string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "jqlgate: "+format+"\n", args...)
	}
}

// exporter writes one file.
type exporter struct {
	w      *bufio.Writer
	sealer *jqlgate.Sealer
	counts Counts
	opts   Options
}

func (e *exporter) line(kind string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	b = append(b, '\n')
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	if kind != KindHeader && kind != KindTrailer {
		e.counts[kind]++
		if n := e.counts[kind]; n%50000 == 0 {
			e.opts.progress("export: %d %s lines", n, kind)
		}
	}
	return nil
}

// Export writes every item src holds to w, secrets sealed with sealer,
// and returns the counts it wrote in the trailer.
func Export(ctx context.Context, src Source, w io.Writer, sealer *jqlgate.Sealer, opts Options) (Counts, error) {
	if sealer == nil {
		return nil, errors.New("export: a master key is needed to seal the secrets")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	e := &exporter{w: bufio.NewWriterSize(w, 1<<16), sealer: sealer, counts: Counts{}, opts: opts}
	if err := e.line(KindHeader, headerLine{Kind: KindHeader, Format: FormatVersion, ExportedAt: now().UTC(), Source: opts.Source}); err != nil {
		return nil, err
	}
	steps := []struct {
		name string
		run  func(context.Context, Source) error
	}{
		{"principals", e.principals}, {"trusted sites", e.sites}, {"subscriptions", e.subscriptions},
		{"records", e.records}, {"events", e.events}, {"attempts", e.attempts}, {"nodes", e.nodes},
	}
	for _, st := range steps {
		if err := st.run(ctx, src); err != nil {
			return nil, fmt.Errorf("export %s: %w", st.name, err)
		}
	}
	if err := e.line(KindTrailer, trailerLine{Kind: KindTrailer, Counts: e.counts}); err != nil {
		return nil, err
	}
	if err := e.w.Flush(); err != nil {
		return nil, err
	}
	opts.progress("export: done: %s", e.counts)
	return e.counts, nil
}

func (e *exporter) principals(ctx context.Context, src Source) error {
	cs, err := src.Clients(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := e.line(KindClient, clientLine{Kind: KindClient, ID: c.ID, Name: c.Name, SecretHash: c.SecretHash,
			Permissions: c.Permissions, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}); err != nil {
			return err
		}
	}
	ks, err := src.APIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if err := e.line(KindAPIKey, apiKeyLine{Kind: KindAPIKey, ID: k.ID, Name: k.Name, Hash: k.Hash,
			Permissions: k.Permissions, CreatedAt: k.CreatedAt}); err != nil {
			return err
		}
	}
	us, err := src.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		if err := e.line(KindUser, userLine{Kind: KindUser, ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash,
			Permissions: u.Permissions, CreatedAt: u.CreatedAt}); err != nil {
			return err
		}
	}
	sks, err := src.SigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range sks {
		l, err := signingKeyOut(e.sealer, k)
		if err != nil {
			return err
		}
		if err := e.line(KindSigningKey, l); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) sites(ctx context.Context, src Source) error {
	for off := 0; ; off += PageSize {
		page, err := src.TrustedSitePage(ctx, off, PageSize)
		if err != nil {
			return err
		}
		for _, t := range page {
			l, err := siteOut(e.sealer, t)
			if err != nil {
				return err
			}
			if err := e.line(KindTrustedSite, l); err != nil {
				return err
			}
		}
		if len(page) < PageSize {
			return nil
		}
	}
}

func (e *exporter) subscriptions(ctx context.Context, src Source) error {
	for off := 0; ; off += PageSize {
		page, err := src.SubscriptionPage(ctx, off, PageSize)
		if err != nil {
			return err
		}
		for _, s := range page {
			l, err := subscriptionOut(e.sealer, s)
			if err != nil {
				return err
			}
			if err := e.line(KindSubscription, l); err != nil {
				return err
			}
		}
		if len(page) < PageSize {
			return nil
		}
	}
}

func (e *exporter) records(ctx context.Context, src Source) error {
	colls, err := src.Collections(ctx)
	if err != nil {
		return err
	}
	for _, coll := range colls {
		after := ""
		for {
			page, err := src.RecordsAfter(ctx, coll, after, PageSize)
			if err != nil {
				return fmt.Errorf("%s: %w", coll, err)
			}
			for _, r := range page {
				if err := e.line(KindRecord, recordLine{Kind: KindRecord, Collection: coll, Record: Value{V: r}}); err != nil {
					return fmt.Errorf("%s %v: %w", coll, r["id"], err)
				}
				after, _ = r["id"].(string)
			}
			if len(page) < PageSize {
				break
			}
		}
	}
	return nil
}

func (e *exporter) events(ctx context.Context, src Source) error {
	for after := ""; ; {
		page, err := src.EventsAfter(ctx, after, PageSize)
		if err != nil {
			return err
		}
		for _, f := range page {
			if err := e.line(KindEvent, eventOut(f)); err != nil {
				return err
			}
			after = f.Event.ID
		}
		if len(page) < PageSize {
			return nil
		}
	}
}

func (e *exporter) attempts(ctx context.Context, src Source) error {
	for after := ""; ; {
		page, err := src.AttemptsAfter(ctx, after, PageSize)
		if err != nil {
			return err
		}
		for _, a := range page {
			if err := e.line(KindAttempt, attemptOut(a)); err != nil {
				return err
			}
			after = a.ID
		}
		if len(page) < PageSize {
			return nil
		}
	}
}

func (e *exporter) nodes(ctx context.Context, src Source) error {
	ns, err := src.NodeStates(ctx)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := e.line(KindNode, nodeLine{Kind: KindNode, Node: n.Node, Owner: n.Owner, Epoch: n.Epoch,
			Heartbeat: n.Heartbeat, Watermark: n.Watermark, Floor: n.Floor}); err != nil {
			return err
		}
	}
	return nil
}

// Empty reports whether src holds nothing; otherwise it names a kind it
// holds.
func Empty(ctx context.Context, src Source) (bool, string, error) {
	checks := []struct {
		kind string
		has  func() (bool, error)
	}{
		{"clients", func() (bool, error) { v, err := src.Clients(ctx); return len(v) > 0, err }},
		{"API keys", func() (bool, error) { v, err := src.APIKeys(ctx); return len(v) > 0, err }},
		{"users", func() (bool, error) { v, err := src.Users(ctx); return len(v) > 0, err }},
		{"signing keys", func() (bool, error) { v, err := src.SigningKeys(ctx); return len(v) > 0, err }},
		{"trusted sites", func() (bool, error) { v, err := src.TrustedSitePage(ctx, 0, 1); return len(v) > 0, err }},
		{"subscriptions", func() (bool, error) { v, err := src.SubscriptionPage(ctx, 0, 1); return len(v) > 0, err }},
		{"records", func() (bool, error) {
			colls, err := src.Collections(ctx)
			for _, c := range colls {
				if v, err := src.RecordsAfter(ctx, c, "", 1); err != nil || len(v) > 0 {
					return len(v) > 0, err
				}
			}
			return false, err
		}},
		{"events", func() (bool, error) { v, err := src.EventsAfter(ctx, "", 1); return len(v) > 0, err }},
		{"attempts", func() (bool, error) { v, err := src.AttemptsAfter(ctx, "", 1); return len(v) > 0, err }},
		{"node checkpoints", func() (bool, error) { v, err := src.NodeStates(ctx); return len(v) > 0, err }},
	}
	for _, c := range checks {
		has, err := c.has()
		if err != nil {
			return false, "", fmt.Errorf("reading %s: %w", c.kind, err)
		}
		if has {
			return false, c.kind, nil
		}
	}
	return true, "", nil
}
