package dispatcher

import (
	"context"
	"errors"
	"time"

	"github.com/jqlgate/jqlgate"
)

// Start loads the subscriptions, recovers this node's unfinished
// deliveries, writes a first checkpoint and starts the workers, the timer
// and the checkpoint loop. Close stops them.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.gate.Lock()
	defer d.gate.Unlock()
	if d.started || d.closed {
		return errors.New("dispatcher: already started")
	}
	d.baseCtx = context.WithoutCancel(ctx)
	if err := d.reloadLocked(ctx); err != nil {
		return err
	}
	if d.cfg.RetryHorizon > 0 {
		d.frontier = d.cfg.Now().Add(d.cfg.RetryHorizon).UTC()
	}
	past, err := d.claimOwn(ctx)
	if err != nil {
		return err
	}
	n := 0
	if past {
		if n, err = d.recoverNode(ctx, d.cfg.Node); err != nil {
			return err
		}
	}
	if err := d.checkpoint(ctx); err != nil {
		return err
	}
	d.log.Info("dispatcher started", "node", d.cfg.Node, "recovered_deliveries", n, "workers", d.cfg.Workers)
	d.started = true
	for range d.cfg.Workers {
		d.spawn(d.worker)
	}
	d.spawn(d.timerLoop)
	d.spawn(d.tickLoop)
	if d.cfg.RetryHorizon > 0 {
		d.spawn(d.loadLoop)
	}
	return nil
}

func (d *Dispatcher) reloadLocked(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	return d.reload(ctx)
}

func (d *Dispatcher) spawn(f func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// Run starts the dispatcher and runs it until ctx ends, then closes it,
// giving in-flight attempts up to grace to finish.
func (d *Dispatcher) Run(ctx context.Context, grace time.Duration) error {
	if err := d.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	return d.Close(cctx)
}

// Close stops taking events, lets in-flight attempts finish (each within
// its own timeout) and their records be written, and writes a last
// checkpoint. Deliveries still pending are resumed at the next start.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.gate.Lock()
	d.closed = true
	d.gate.Unlock()
	d.stopOnce.Do(func() {
		close(d.stopCh)
		d.q.close()
	})
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		d.records.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		d.abandonOnce.Do(func() { close(d.abandon) })
		return ctx.Err()
	}
	if !d.started || d.fenced {
		return nil
	}
	return d.checkpoint(ctx)
}

// checkpoint writes the node's heartbeat, watermark and retry floor.
func (d *Dispatcher) checkpoint(ctx context.Context) error {
	d.frontierMu.RLock()
	frontier := d.frontier
	d.frontierMu.RUnlock()
	if frontier.IsZero() {
		frontier = d.cfg.Now()
	}
	return d.cfg.Store.CheckpointEpoch(ctx, d.cfg.Node, d.epoch, d.track.watermark(), d.track.floor(frontier))
}

// timerLoop moves deliveries to the ready queue as they fall due.
func (d *Dispatcher) timerLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := d.q.promote()
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(d.cfg.Now()), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-d.stopCh:
			return
		case <-d.q.wake:
		case <-timer.C:
		}
	}
}

// tickLoop checkpoints the node and picks up subscription changes made by
// other processes.
func (d *Dispatcher) tickLoop() {
	ticker := time.NewTicker(d.cfg.Tick)
	defer ticker.Stop()
	for {
		select {
		case <-d.stopCh:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(d.baseCtx, 10*time.Second)
		if err := d.checkpoint(ctx); jqlgate.ErrorCode(err) == jqlgate.ECONFLICT {
			cancel()
			d.fence()
			return
		} else if err != nil {
			d.log.Warn("checkpoint", "error", err.Error())
		}
		d.pollSubscriptions(ctx)
		d.takeOver(ctx)
		cancel()
	}
}
