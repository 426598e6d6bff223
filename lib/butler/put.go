package butler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// Put writes an in-memory object as a new dataset of a RUN: the file first
// (at its template path), then the registry commit that makes it visible. A
// failed commit removes the file again.
func (b *Butler) Put(ctx context.Context, obj any, datasetType string, dataID map[string]any, run string) (registry.DatasetRef, error) {
	snap, err := b.Registry.Refresh(ctx)
	if err != nil {
		return registry.DatasetRef{}, err
	}
	ref, dt, err := snap.NormalizeRef(ctx, registry.DatasetRef{DatasetType: datasetType, DataID: dataID, Run: run})
	if err != nil {
		return registry.DatasetRef{}, err
	}
	ref.ID = registry.NewDatasetID()
	if found, ok, err := snap.FindDataset(ctx, dt.Name, ref.DataID, []string{run}, nil); err != nil {
		return registry.DatasetRef{}, err
	} else if ok {
		// Refuse before writing: the file path is that of the existing dataset.
		return registry.DatasetRef{}, registry.Errorf(registry.ErrConflict, "dataset %s %s already exists in run %s (id %s)", dt.Name, ref.DataID, run, found.ID)
	}
	f, err := b.formatter(dt)
	if err != nil {
		return registry.DatasetRef{}, err
	}
	data, err := f.Write(obj)
	if err != nil {
		return registry.DatasetRef{}, fmt.Errorf("put %s %s: %w", datasetType, ref.DataID, err)
	}
	path, err := b.FilePath(snap, dt, ref)
	if err != nil {
		return registry.DatasetRef{}, err
	}
	path += f.Extension()
	key := DatastorePrefix + path
	if _, err := b.Store.Put(ctx, key, data); err != nil {
		return registry.DatasetRef{}, fmt.Errorf("put %s: %w", key, err)
	}
	rec := registry.FileRecord{DatasetID: ref.ID, URI: path, Formatter: f.Name(), StorageClass: dt.StorageClass,
		Size: int64(len(data)), Checksum: datastore.Checksum(data)}
	var out []registry.DatasetRef
	_, err = b.Registry.Commit(ctx, "put", func(tx *registry.Tx) error {
		var err error
		out, err = registry.InsertDatasets(tx, []registry.DatasetRef{ref}, []registry.FileRecord{rec}, registry.InsertOptions{})
		tx.Summarize("dataset_type", datasetType)
		tx.Summarize("run", run)
		return err
	})
	if err != nil {
		b.removeUnregistered(context.WithoutCancel(ctx), dt.Name, path, key)
		return registry.DatasetRef{}, err
	}
	return out[0], nil
}

// formatter returns the formatter of a dataset type: configured per type in
// butler.yaml, else the storage class default.
func (b *Butler) formatter(dt registry.DatasetType) (datastore.Formatter, error) {
	return datastore.FormatterFor(dt.StorageClass, b.Config.Datastore.Formatters[dt.Name])
}

// FilePath renders the file template of a dataset (without extension).
func (b *Butler) FilePath(snap *registry.Snapshot, dt registry.DatasetType, ref registry.DatasetRef) (string, error) {
	t, err := b.Config.Datastore.Templates.For(dt.Name, dt.StorageClass)
	if err != nil {
		return "", err
	}
	return t.Render(datastore.Values{Run: ref.Run, DatasetType: dt.Name, StorageClass: dt.StorageClass, ID: ref.ID,
		DataID: ref.DataID, Records: b.records(snap, ref.DataID)})
}

// records collects the dimension records of a data ID, for template fields
// like {exposure.obs_id}.
func (b *Butler) records(snap *registry.Snapshot, id dimensions.DataID) map[string]map[string]any {
	out := map[string]map[string]any{}
	u := b.Registry.Universe()
	for name := range id {
		e, ok := u.Element(name)
		if !ok {
			continue
		}
		key := dimensions.DataID{}
		complete := true
		for _, c := range e.KeyColumns() {
			v, ok := id[c]
			if !ok {
				complete = false
				break
			}
			key[c] = v
		}
		if !complete {
			continue
		}
		if rec, ok, err := snap.LookupRecord(name, key); err == nil && ok {
			out[name] = rec.Values
		}
	}
	return out
}

// removeUnregistered deletes a file written for a failed commit, unless a
// concurrent writer registered a dataset at the same path meanwhile.
func (b *Butler) removeUnregistered(ctx context.Context, datasetType, uri, key string) {
	if snap, err := b.Registry.Refresh(ctx); err == nil {
		if recs, err := snap.FileRecords(ctx, datasetType); err == nil {
			for _, fs := range recs {
				for _, f := range fs {
					if f.URI == uri {
						return
					}
				}
			}
		}
	}
	if err := b.Store.Delete(ctx, key); err != nil {
		slog.Warn("could not remove the file of a failed put", "key", key, "err", err)
	}
}
