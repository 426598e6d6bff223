package execute

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/qgraph"
)

// ReadBatch loads a batch object.
func ReadBatch(ctx context.Context, store objstore.Store, key string) (*qgraph.Batch, error) {
	data, err := store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read batch %s: %w", key, err)
	}
	var b qgraph.Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("batch %s: %w", key, err)
	}
	if b.GraphID == "" || b.OutputRun == "" {
		return nil, fmt.Errorf("batch %s: not a batch object", key)
	}
	return &b, nil
}

// RunBatch runs every quantum of one stored batch (a Distributed Map item).
func RunBatch(ctx context.Context, store objstore.Store, key string, opts Options) ([]*Provenance, error) {
	b, err := ReadBatch(ctx, store, key)
	if err != nil {
		return nil, err
	}
	return NewExecutor(store, b, opts).RunAll(ctx)
}

// Summary counts the statuses of some documents.
type Summary struct {
	Quanta    int `json:"quanta"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	NoWork    int `json:"no_work"`
	Blocked   int `json:"blocked"`
}

// Summarize counts statuses.
func Summarize(ps []*Provenance) Summary {
	s := Summary{Quanta: len(ps)}
	for _, p := range ps {
		switch p.Status {
		case Succeeded:
			s.Succeeded++
		case Failed:
			s.Failed++
		case NoWork:
			s.NoWork++
		case Blocked:
			s.Blocked++
		}
	}
	return s
}
