package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/jqlgate/jqlgate"
)

func (c *Checkpoint) state() jqlgate.NodeState {
	return jqlgate.NodeState{Node: c.Node, Owner: c.Owner, Epoch: c.Epoch, Heartbeat: c.Heartbeat.UTC(),
		Watermark: c.Watermark.UTC(), Floor: c.Floor.UTC()}
}

// NodeState returns node's checkpoint, nil if it has none.
func (s *DeliveryStore) NodeState(ctx context.Context, node string) (*jqlgate.NodeState, error) {
	cp, err := s.node(ctx, node)
	if err != nil || cp == nil {
		return nil, err
	}
	st := cp.state()
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

// ClaimNode makes owner the owner of node, atomically: only if the node's
// epoch is still epoch and, unless heartbeat is zero, its heartbeat still
// heartbeat (both as read before). It moves the epoch on and stamps the
// heartbeat; reset also moves the watermark and floor to now (the node's
// past was taken over). It reports whether the claim won. A node with no
// document is created (epoch 0 means none).
func (s *DeliveryStore) ClaimNode(ctx context.Context, node, owner string, epoch int64, heartbeat time.Time, reset bool) (bool, error) {
	now := time.Now().UTC()
	set := bson.D{{Key: "owner", Value: owner}, {Key: "epoch", Value: epoch + 1}, {Key: "heartbeat", Value: now}}
	if reset {
		set = append(set, bson.E{Key: "watermark", Value: now}, bson.E{Key: "floor", Value: now})
	}
	filter := bson.D{{Key: "_id", Value: node}}
	if epoch == 0 {
		filter = append(filter, bson.E{Key: "epoch", Value: bson.D{{Key: "$exists", Value: false}}})
	} else {
		filter = append(filter, bson.E{Key: "epoch", Value: epoch})
	}
	if !heartbeat.IsZero() {
		filter = append(filter, bson.E{Key: "heartbeat", Value: heartbeat.UTC()})
	}
	res, err := s.nodes.UpdateOne(Counted(ctx), filter, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, translate("claim node", err)
	}
	if res.MatchedCount == 1 {
		return true, nil
	}
	if epoch != 0 {
		return false, nil
	}
	// No document yet: create it; a concurrent creator wins the race.
	doc := append(bson.D{{Key: "_id", Value: node}, {Key: "watermark", Value: time.Time{}}}, set...)
	_, err = s.nodes.InsertOne(Counted(ctx), doc)
	if mongo.IsDuplicateKeyError(err) || jqlgate.ErrorCode(translate("claim node", err)) == jqlgate.ECONFLICT {
		return false, nil
	}
	return err == nil, translate("claim node", err)
}

// CheckpointEpoch records node's heartbeat, watermark and retry floor if
// the node is still at epoch; ECONFLICT when another process has claimed
// it since (this one must stop delivering its deliveries).
func (s *DeliveryStore) CheckpointEpoch(ctx context.Context, node string, epoch int64, watermark, floor time.Time) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "heartbeat", Value: time.Now().UTC()},
		{Key: "watermark", Value: watermark.UTC()}, {Key: "floor", Value: floor.UTC()}}}}
	res, err := s.nodes.UpdateOne(Counted(ctx), bson.D{{Key: "_id", Value: node}, {Key: "epoch", Value: epoch}}, update)
	if err != nil {
		return translate("checkpoint", err)
	}
	if res.MatchedCount == 0 {
		return jqlgate.Errorf(jqlgate.ECONFLICT, "node %s was claimed by another process", node)
	}
	return nil
}
