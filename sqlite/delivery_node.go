package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Checkpoint is one dispatcher node's progress marker.
type Checkpoint struct {
	Node      string
	Heartbeat time.Time
	// Watermark is the acceptance time of the oldest event the node still
	// has unfinished deliveries for: recovery starts reading there.
	Watermark time.Time
	// Floor is the earliest next attempt time of the node's Resent
	// deliveries that only the store holds: recovery reads retries due
	// from there on.
	Floor time.Time
	// Owner is the node whose process delivers this node's deliveries:
	// itself, or the node that adopted it after it stopped heartbeating.
	Owner string
	// Epoch moves on with every claim; checkpoints are conditional on it.
	Epoch int64
}

func (c *Checkpoint) state() jqlgate.NodeState {
	return jqlgate.NodeState{Node: c.Node, Owner: c.Owner, Epoch: c.Epoch, Heartbeat: c.Heartbeat,
		Watermark: c.Watermark, Floor: c.Floor}
}

const nodeCols = `node, owner, epoch, heartbeat, watermark, floor`

func scanNode(sc interface{ Scan(...any) error }) (*Checkpoint, error) {
	var c Checkpoint
	var hb, wm, floor int64
	if err := sc.Scan(&c.Node, &c.Owner, &c.Epoch, &hb, &wm, &floor); err != nil {
		return nil, err
	}
	c.Heartbeat, c.Watermark, c.Floor = fromNanos(hb), fromNanos(wm), fromNanos(floor)
	return &c, nil
}

// node returns node's checkpoint, nil if it has none.
func (s *DeliveryStore) node(ctx context.Context, node string) (*Checkpoint, error) {
	c, err := scanNode(s.db.QueryRow(ctx, `SELECT `+nodeCols+` FROM nodes WHERE node = ?`, node))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, FormatError("find checkpoint", err)
	}
	return c, nil
}

// Nodes returns every node's checkpoint.
func (s *DeliveryStore) Nodes(ctx context.Context) ([]Checkpoint, error) {
	rows, err := s.db.Query(ctx, `SELECT `+nodeCols+` FROM nodes ORDER BY node`)
	if err != nil {
		return nil, FormatError("find nodes", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c, err := scanNode(rows)
		if err != nil {
			return nil, FormatError("find nodes", err)
		}
		out = append(out, *c)
	}
	return out, FormatError("find nodes", rows.Err())
}

// NodeState returns node's checkpoint, nil if it has none.
func (s *DeliveryStore) NodeState(ctx context.Context, node string) (*jqlgate.NodeState, error) {
	c, err := s.node(ctx, node)
	if err != nil || c == nil {
		return nil, err
	}
	st := c.state()
	return &st, nil
}

// NodeStates returns every node's checkpoint.
func (s *DeliveryStore) NodeStates(ctx context.Context) ([]jqlgate.NodeState, error) {
	cps, err := s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]jqlgate.NodeState, len(cps))
	for i := range cps {
		out[i] = cps[i].state()
	}
	return out, nil
}

// Heartbeat records that node is alive and how far its deliveries have
// progressed.
func (s *DeliveryStore) Heartbeat(ctx context.Context, node string, watermark time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO nodes (node, heartbeat, watermark) VALUES (?, ?, ?)
ON CONFLICT (node) DO UPDATE SET heartbeat = excluded.heartbeat, watermark = excluded.watermark`, node, nanos(tx.Now), nanos(watermark))
		return err
	})
}

// Watermark returns node's last recorded watermark, or the zero time when
// the node has never checkpointed.
func (s *DeliveryStore) Watermark(ctx context.Context, node string) (time.Time, error) {
	c, err := s.node(ctx, node)
	if err != nil || c == nil {
		return time.Time{}, err
	}
	return c.Watermark, nil
}

// Checkpoint records that node is alive, its watermark (recovery reads
// events and attempts from there) and its retry floor (recovery reads
// Resent attempts due from there), whatever its epoch.
func (s *DeliveryStore) Checkpoint(ctx context.Context, node string, watermark, floor time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO nodes (node, heartbeat, watermark, floor) VALUES (?, ?, ?, ?)
ON CONFLICT (node) DO UPDATE SET heartbeat = excluded.heartbeat, watermark = excluded.watermark, floor = excluded.floor`,
			node, nanos(tx.Now), nanos(watermark), nanos(floor))
		return err
	})
}

// LoadCheckpoint returns node's watermark and retry floor, zero when the
// node never checkpointed.
func (s *DeliveryStore) LoadCheckpoint(ctx context.Context, node string) (watermark, floor time.Time, err error) {
	c, err := s.node(ctx, node)
	if err != nil || c == nil {
		return time.Time{}, time.Time{}, err
	}
	return c.Watermark, c.Floor, nil
}

// ClaimNode makes owner the owner of node, atomically: only if the node's
// epoch is still epoch and, unless heartbeat is zero, its heartbeat still
// heartbeat (both as read before). It moves the epoch on and stamps the
// heartbeat; reset also moves the watermark and floor to now (the node's
// past was taken over). It reports whether the claim won. A node with no
// row is created (epoch 0 means none, or one never claimed).
func (s *DeliveryStore) ClaimNode(ctx context.Context, node, owner string, epoch int64, heartbeat time.Time, reset bool) (bool, error) {
	won := false
	err := s.db.Write(ctx, func(tx *Tx) error {
		won = false
		now := nanos(tx.Now)
		res, err := tx.Exec(`UPDATE nodes SET owner = ?, epoch = ?, heartbeat = ?,
watermark = CASE WHEN ? THEN ? ELSE watermark END, floor = CASE WHEN ? THEN ? ELSE floor END
WHERE node = ? AND epoch = ? AND (? = 0 OR heartbeat = ?)`,
			owner, epoch+1, now, reset, now, reset, now, node, epoch, nanos(heartbeat), nanos(heartbeat))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			won = n == 1
			return err
		}
		if epoch != 0 {
			return nil
		}
		var wm, floor int64
		if reset {
			wm, floor = now, now
		}
		res, err = tx.Exec(`INSERT INTO nodes (node, owner, epoch, heartbeat, watermark, floor) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (node) DO NOTHING`, node, owner, epoch+1, now, wm, floor)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n == 1
		return err
	})
	return won, err
}

// CheckpointEpoch records node's heartbeat, watermark and retry floor if
// the node is still at epoch; ECONFLICT when another process has claimed
// it since (this one must stop delivering its deliveries).
func (s *DeliveryStore) CheckpointEpoch(ctx context.Context, node string, epoch int64, watermark, floor time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE nodes SET heartbeat = ?, watermark = ?, floor = ? WHERE node = ? AND epoch = ?`,
			nanos(tx.Now), nanos(watermark), nanos(floor), node, epoch)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return jqlgate.Errorf(jqlgate.ECONFLICT, "node %s was claimed by another process", node)
		}
		return nil
	})
}
