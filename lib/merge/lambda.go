package merge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/skybutler/skybutler/lib/butler"
)

// Event is what the merge function receives: the graph to merge (the
// state machine passes the plan's output on).
type Event struct {
	GraphID string `json:"graph_id"`
}

// HandleEvent merges the graph named by a merge event.
func HandleEvent(ctx context.Context, b *butler.Butler, body []byte, opts Options) (*Result, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("merge event: %w", err)
	}
	if ev.GraphID == "" {
		return nil, fmt.Errorf("merge event: no graph_id")
	}
	return Merge(ctx, b, ev.GraphID, opts)
}
