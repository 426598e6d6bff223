package execute

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/qgraph"
)

// ExecuteEvent is what the execute function receives from the state
// machine: one Distributed Map item (a qgraph.BatchItem) or, with an
// ItemBatcher, several under "Items".
type ExecuteEvent struct {
	qgraph.BatchItem
	Items []qgraph.BatchItem `json:"Items,omitempty"`
}

// ExecuteResult is the function's answer: counts per status. Failed quanta
// are not an error (they are reported, and merge skips their outputs); an
// error means a batch could not be run or recorded and should be retried.
type ExecuteResult struct {
	GraphID string   `json:"graph_id"`
	Batches []string `json:"batches"`
	Summary
}

// HandleExecute runs the batches of one execute event.
func HandleExecute(ctx context.Context, store objstore.Store, body []byte, opts Options) (*ExecuteResult, error) {
	var ev ExecuteEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("execute event: %w", err)
	}
	items := ev.Items
	if len(items) == 0 && ev.Key != "" {
		items = []qgraph.BatchItem{ev.BatchItem}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("execute event: no batch (want a BatchItem or Items)")
	}
	res := &ExecuteResult{GraphID: items[0].GraphID}
	var all []*Provenance
	for _, it := range items {
		docs, err := RunBatch(ctx, store, it.Key, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, docs...)
		res.Batches = append(res.Batches, it.Batch)
	}
	res.Summary = Summarize(all)
	return res, nil
}
