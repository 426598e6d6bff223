package butler

import (
	"context"
	"errors"
	"log/slog"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// PruneOptions say what prune-datasets does to the selected datasets.
type PruneOptions struct {
	Unstore      bool     // delete files and datastore records, keep the datasets
	Disassociate []string // remove from these TAGGED/CALIBRATION collections ("*": all)
	Purge        bool     // remove the datasets entirely (registry and files)
}

// Prune applies PruneOptions to datasets in one commit, then deletes the
// files that commit released (the registry never names a missing file; a
// crash in between leaves only unreferenced files). It returns the removed
// file records.
func (b *Butler) Prune(ctx context.Context, refs []registry.DatasetRef, opts PruneOptions) ([]registry.FileRecord, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	var files []registry.FileRecord
	_, err := b.Registry.Commit(ctx, "prune-datasets", func(tx *registry.Tx) error {
		files = nil
		var err error
		switch {
		case opts.Purge:
			files, err = registry.PurgeDatasets(tx, ids)
		default:
			if len(opts.Disassociate) > 0 {
				colls := opts.Disassociate
				if len(colls) == 1 && colls[0] == "*" {
					colls = nil
				}
				if _, err = registry.DisassociateDatasets(tx, ids, colls); err != nil {
					return err
				}
			}
			if opts.Unstore {
				files, err = registry.UnstoreDatasets(tx, ids)
			}
		}
		tx.Summarize("datasets", len(ids))
		return err
	})
	if err != nil {
		return nil, err
	}
	b.deleteFiles(ctx, files)
	return files, nil
}

// RemoveRuns removes RUN collections with all their datasets and files.
func (b *Butler) RemoveRuns(ctx context.Context, runs []string) ([]registry.FileRecord, error) {
	var files []registry.FileRecord
	_, err := b.Registry.Commit(ctx, "remove-runs", func(tx *registry.Tx) error {
		files = nil
		for _, run := range runs {
			f, err := registry.RemoveRun(tx, run)
			if err != nil {
				return err
			}
			files = append(files, f...)
		}
		tx.Summarize("runs", runs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.deleteFiles(ctx, files)
	return files, nil
}

// deleteFiles deletes released dataset files inside the datastore (files
// ingested in place with direct transfer belong to their owner and stay).
func (b *Butler) deleteFiles(ctx context.Context, files []registry.FileRecord) {
	for _, f := range files {
		if IsAbsoluteURI(f.URI) {
			continue
		}
		key := DatastorePrefix + f.URI
		if err := b.Store.Delete(ctx, key); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			slog.Warn("could not delete a released dataset file", "key", key, "err", err)
		}
	}
}
