// Command compact is the registry compaction Lambda function (binary
// "bootstrap", provided.al2023), run on a schedule (EventBridge, hourly in
// the CDK stack): it rewrites the small files of each registry table
// partition of SKYBUTLER_REPO into one (lib/registry.Registry.Compact, no
// data change), writes a checkpoint of the resulting version, so readers
// replay fewer commits, and publishes the Delta Lake logs the Athena (Glue)
// tables read (lib/delta.Publish). Its input may be a scheduled event
// (ignored) or {"tables": [...], "min_files": N} to narrow the compaction.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/delta"
	"github.com/skybutler/skybutler/lib/registry"
)

// request is the optional part of the input; a scheduled event has none of
// these fields.
type request struct {
	Tables   []string `json:"tables"`
	MinFiles int      `json:"min_files"`
}

type result struct {
	Version    int64 `json:"version"`
	NoOp       bool  `json:"noop"`
	Checkpoint int64 `json:"checkpoint"`
	registry.CompactStats
	Delta delta.PublishStats `json:"delta"`
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	repo := os.Getenv("SKYBUTLER_REPO")
	lambda.Start(func(ctx context.Context, body json.RawMessage) (*result, error) {
		var req request
		_ = json.Unmarshal(body, &req)        // any other event: compact everything
		b, err := butler.Open(ctx, repo, log) // the registry moves between invocations
		if err != nil {
			return nil, err
		}
		res, st, err := b.Registry.Compact(ctx, registry.CompactOptions{Tables: req.Tables, MinFiles: req.MinFiles})
		if err != nil {
			return nil, err
		}
		snap := b.Registry.Current()
		if err := b.Registry.WriteCheckpoint(ctx, snap); err != nil {
			return nil, err
		}
		out := &result{Version: res.Version, NoOp: res.NoOp, Checkpoint: snap.Version, CompactStats: st}
		if out.Delta, err = delta.Publish(ctx, b.Store, b.Registry); err != nil {
			return nil, err // compacted and checkpointed; the next run publishes again
		}
		log.Info("compacted", "repo", repo, "version", out.Version, "noop", out.NoOp, "partitions", st.Partitions,
			"files_removed", st.FilesRemoved, "files_added", st.FilesAdded, "checkpoint", out.Checkpoint,
			"delta_version", out.Delta.RegistryVersion, "delta_commits", out.Delta.Commits)
		return out, nil
	})
}
