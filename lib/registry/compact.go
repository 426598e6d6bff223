package registry

import (
	"context"
	"fmt"
	"slices"
)

// CompactOptions select what Compact rewrites.
type CompactOptions struct {
	Tables   []string // empty: every table
	MinFiles int      // rewrite a partition holding at least this many files (default 2)
}

// CompactStats reports what a compaction did.
type CompactStats struct {
	Partitions   int `json:"partitions"`
	FilesRemoved int `json:"files_removed"`
	FilesAdded   int `json:"files_added"`
}

// Compact rewrites the small files of each table partition into one file, in
// one commit that removes the old files and adds the new one: the rows do not
// change, so concurrent readers of any version see the same data.
func (r *Registry) Compact(ctx context.Context, opts CompactOptions) (Result, CompactStats, error) {
	if opts.MinFiles < 2 {
		opts.MinFiles = 2
	}
	for _, t := range opts.Tables {
		if _, err := r.Schema(t); err != nil {
			return Result{}, CompactStats{}, fmt.Errorf("compact: %w", err)
		}
	}
	var stats CompactStats
	res, err := r.Commit(ctx, "compact", func(tx *Tx) error {
		stats = CompactStats{}
		snap := tx.Snapshot()
		for _, table := range snap.Tables() {
			if len(opts.Tables) > 0 && !slices.Contains(opts.Tables, table) {
				continue
			}
			if _, err := r.Schema(table); err != nil {
				continue // a table this version does not know: leave it alone
			}
			byPart := map[string][]FileEntry{}
			var order []string
			sch, _ := r.Schema(table)
			for _, f := range snap.Files(table) {
				k := partitionDir(sch, f.Partition)
				if _, ok := byPart[k]; !ok {
					order = append(order, k)
				}
				byPart[k] = append(byPart[k], f)
			}
			for _, k := range order {
				files := byPart[k]
				if len(files) < opts.MinFiles {
					continue
				}
				if err := tx.Rewrite(table, files); err != nil {
					return err
				}
				stats.Partitions++
				stats.FilesRemoved += len(files)
				stats.FilesAdded++
			}
		}
		tx.Summarize("partitions", stats.Partitions)
		tx.Summarize("files_removed", stats.FilesRemoved)
		return nil
	})
	return res, stats, err
}
