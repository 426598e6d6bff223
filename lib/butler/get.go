package butler

import (
	"context"
	"fmt"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// Get finds a dataset along a collection search path (find-first; when is
// the lookup time for CALIBRATION collections) and reads it.
func (b *Butler) Get(ctx context.Context, datasetType string, dataID map[string]any, collections []string, when *dimensions.Timespan) (any, registry.DatasetRef, error) {
	snap, err := b.Registry.Refresh(ctx)
	if err != nil {
		return nil, registry.DatasetRef{}, err
	}
	ref, ok, err := snap.FindDataset(ctx, datasetType, dataID, collections, when)
	if err != nil {
		return nil, ref, err
	}
	if !ok {
		return nil, ref, registry.Errorf(registry.ErrNotFound, "no %s %v in %v", datasetType, dataID, collections)
	}
	obj, err := b.GetRef(ctx, snap, ref)
	return obj, ref, err
}

// GetRef reads a known dataset, checking its size and checksum.
func (b *Butler) GetRef(ctx context.Context, snap *registry.Snapshot, ref registry.DatasetRef) (any, error) {
	recs, err := snap.FileRecords(ctx, ref.DatasetType)
	if err != nil {
		return nil, err
	}
	files := recs[ref.ID]
	if len(files) == 0 {
		return nil, registry.Errorf(registry.ErrNotFound, "dataset %s %s %s has no stored file", ref.DatasetType, ref.DataID, ref.ID)
	}
	f := files[0]
	data, err := b.ReadFile(ctx, f)
	if err != nil {
		return nil, err
	}
	fm, err := datastore.LookupFormatter(f.Formatter)
	if err != nil {
		return nil, err
	}
	obj, err := fm.Read(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.URI, err)
	}
	return obj, nil
}

// ReadFile reads the bytes of a stored file and checks them against the
// record's size and checksum.
func (b *Butler) ReadFile(ctx context.Context, f registry.FileRecord) ([]byte, error) {
	store, key, err := b.fileLocation(ctx, f.URI)
	if err != nil {
		return nil, err
	}
	data, err := store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read dataset file %s: %w", f.URI, err)
	}
	if int64(len(data)) != f.Size {
		return nil, fmt.Errorf("dataset file %s has %d bytes, the registry says %d", f.URI, len(data), f.Size)
	}
	if f.Checksum != "" && !isETagChecksum(f.Checksum) {
		if err := datastore.VerifyChecksum(data, f.Checksum); err != nil {
			return nil, fmt.Errorf("dataset file %s: %w", f.URI, err)
		}
	}
	return data, nil
}
