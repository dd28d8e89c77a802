package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
)

// ExportRecords is what a record store adds for store export and import.
type ExportRecords interface {
	Collections(ctx context.Context) ([]string, error)
	RecordsAfter(ctx context.Context, coll, after string, limit int) ([]map[string]any, error)
	InsertRecords(ctx context.Context, coll string, recs []map[string]any) error
}

// ExportDeliveries is what a delivery store adds for store export and
// import.
type ExportDeliveries interface {
	InsertEvents(ctx context.Context, fans []*jqlgate.Fanout) error
	EventsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Fanout, error)
	AttemptsAfter(ctx context.Context, after string, limit int) ([]*jqlgate.Attempt, error)
	ImportAttempts(ctx context.Context, attempts []*jqlgate.Attempt) error
	PutNodeState(ctx context.Context, st jqlgate.NodeState) error
	NodeStates(ctx context.Context) ([]jqlgate.NodeState, error)
}

// Export checks the reads and writes jqlgate store export and import use:
// records, events and attempts in keyset pages, attempts kept with their
// test mark, node checkpoints stored exactly, and a second import of any
// of them a conflict. open returns both stores over one fresh database.
func Export(t *testing.T, open func(t *testing.T) (ExportRecords, ExportDeliveries)) {
	ctx := context.Background()
	var p struct {
		records    ExportRecords
		deliveries ExportDeliveries
	}
	p.records, p.deliveries = open(t)
	at := time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC)
	var recs []map[string]any
	var fans []*jqlgate.Fanout
	var atts []*jqlgate.Attempt
	for i := range 25 {
		recs = append(recs, map[string]any{"id": fmt.Sprintf("r%03d", i), "n": int64(i), "f": 1.0, "t": at})
		fans = append(fans, &jqlgate.Fanout{Event: &jqlgate.Event{ID: fmt.Sprintf("evt_%03d", i), Type: "a.B:create", Timestamp: at},
			Targets: []string{"sub_1"}, Node: "n1", Accepted: at})
		atts = append(atts, &jqlgate.Attempt{ID: fmt.Sprintf("att_%03d", i), DeliveryID: "d", EventID: fans[i].Event.ID, SubscriptionID: "sub_1",
			Attempt: 1, Status: jqlgate.StatusDone, CreatedAt: at, Node: "n1", Test: i == 7})
	}
	if err := p.records.InsertRecords(ctx, "things", recs); err != nil {
		t.Fatal(err)
	}
	if err := p.deliveries.InsertEvents(ctx, fans); err != nil {
		t.Fatal(err)
	}
	if err := p.deliveries.ImportAttempts(ctx, atts); err != nil {
		t.Fatal(err)
	}
	colls, err := p.records.Collections(ctx)
	if err != nil || len(colls) != 1 || colls[0] != "things" {
		t.Fatalf("collections %v %v", colls, err)
	}
	var got []string
	for after := ""; ; {
		page, err := p.records.RecordsAfter(ctx, "things", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			after = r["id"].(string)
			got = append(got, after)
			if r["n"] == nil || r["f"] != 1.0 || !r["t"].(time.Time).Equal(at) {
				t.Errorf("record %v", r)
			}
		}
		if len(page) < 10 {
			break
		}
	}
	if len(got) != 25 || got[0] != "r000" || got[24] != "r024" {
		t.Errorf("records paged %v", got)
	}
	evs, err := p.deliveries.EventsAfter(ctx, "evt_019", 100)
	if err != nil || len(evs) != 5 || evs[0].Event.ID != "evt_020" {
		t.Errorf("events after evt_019: %d %v", len(evs), err)
	}
	as, err := p.deliveries.AttemptsAfter(ctx, "", 100)
	if err != nil || len(as) != 25 || !as[7].Test || as[8].Test {
		t.Errorf("attempts: %d %v", len(as), err)
	}
	st := jqlgate.NodeState{Node: "n1", Owner: "n2", Epoch: 4, Heartbeat: at, Watermark: at, Floor: at.Add(time.Minute)}
	if err := p.deliveries.PutNodeState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if ns, err := p.deliveries.NodeStates(ctx); err != nil || len(ns) != 1 || ns[0].Owner != "n2" || ns[0].Epoch != 4 || !ns[0].Floor.Equal(st.Floor) {
		t.Errorf("nodes %+v %v", ns, err)
	}
	for name, err := range map[string]error{
		"record":  p.records.InsertRecords(ctx, "things", recs[:1]),
		"attempt": p.deliveries.ImportAttempts(ctx, atts[:1]),
		"node":    p.deliveries.PutNodeState(ctx, st),
	} {
		if jqlgate.ErrorCode(err) != jqlgate.ECONFLICT {
			t.Errorf("%s again: %v, want ECONFLICT", name, err)
		}
	}
}
