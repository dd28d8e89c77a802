package main

import (
	"context"
	"fmt"

	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/model"
	"github.com/jqlgate/jqlgate/schemas"
)

// wireModels loads the model schemas (built in, plus cfg.SchemaDir),
// creates their indexes and routes their intents on mux, publishing each
// write's event through pub. The record store's batchers are flushed as a
// worker, after the HTTP server stops and before the store closes. The
// returned set lists the models' event types for the trigger catalogue.
func wireModels(ctx context.Context, a *app, cfg serveConfig, mux *namespaces.Mux, pub model.Publisher) (*schemas.Set, error) {
	set, err := schemas.LoadModels(cfg.SchemaDir)
	if err != nil {
		return nil, err
	}
	store := a.store.records
	if err := model.EnsureIndexes(ctx, set, store); err != nil {
		return nil, fmt.Errorf("model namespaces: %w", err)
	}
	model.Register(mux, model.Deps{Models: set, Store: store, Publisher: pub, Logger: a.logger})
	a.workers = append(a.workers, store.Close)
	for _, m := range set.Models() {
		a.logger.Info("model namespace", "namespace", m.Namespace, "collection", m.Collection, "file", m.File)
	}
	return set, nil
}
