package registry

import "slices"

// UnstoreDatasets removes the datastore records of datasets in tx (the
// datasets stay registered) and returns them, so the caller can delete the
// files once the commit has landed.
func UnstoreDatasets(tx *Tx, ids []string) ([]FileRecord, error) {
	want := idSet(ids)
	var removed []FileRecord
	_, err := tx.DeleteWhere(TableFiles, func(r Row) bool {
		if want[filesSchema.Str(r, "dataset_id")] {
			removed = append(removed, fileRecordFromRow(r))
			return true
		}
		return false
	})
	return removed, err
}

// DisassociateDatasets removes datasets from TAGGED and CALIBRATION
// collections (all of them when collections is empty) in tx.
func DisassociateDatasets(tx *Tx, ids []string, collections []string) (int, error) {
	want := idSet(ids)
	in := func(c string) bool { return len(collections) == 0 || slices.Contains(collections, c) }
	n, err := tx.DeleteWhere(TableTags, func(r Row) bool {
		return want[tagsSchema.Str(r, "dataset_id")] && in(tagsSchema.Str(r, "collection"))
	})
	if err != nil {
		return n, err
	}
	m, err := tx.DeleteWhere(TableCalibs, func(r Row) bool {
		return want[calibsSchema.Str(r, "dataset_id")] && in(calibsSchema.Str(r, "collection"))
	})
	return n + m, err
}

// PurgeDatasets removes datasets entirely in tx: their rows, datastore
// records, tags and certifications. It returns the removed datastore
// records (files to delete after the commit).
func PurgeDatasets(tx *Tx, ids []string) ([]FileRecord, error) {
	if _, err := DisassociateDatasets(tx, ids, nil); err != nil {
		return nil, err
	}
	files, err := UnstoreDatasets(tx, ids)
	if err != nil {
		return nil, err
	}
	want := idSet(ids)
	sch, _ := tx.Snapshot().reg.Schema(TableDatasets)
	_, err = tx.DeleteWhere(TableDatasets, func(r Row) bool { return want[sch.Str(r, "dataset_id")] })
	return files, err
}

// RemoveRun removes a RUN collection with all its datasets, and drops it
// from every chain that names it. It returns the removed datastore records.
func RemoveRun(tx *Tx, run string) ([]FileRecord, error) {
	ctx := tx.Context()
	snap := tx.Snapshot()
	c, err := snap.Collection(ctx, run)
	if err != nil {
		return nil, err
	}
	if c.Type != Run {
		return nil, Errorf(ErrConflict, "collection %q is %s, not RUN", run, c.Type)
	}
	sch, _ := snap.reg.Schema(TableDatasets)
	rows, err := snap.Rows(ctx, TableDatasets)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range rows {
		if sch.Str(r, "run") == run {
			ids = append(ids, sch.Str(r, "dataset_id"))
		}
	}
	files, err := PurgeDatasets(tx, ids)
	if err != nil {
		return nil, err
	}
	if _, err := tx.DeleteWhere(TableCollectionChains, func(r Row) bool { return chainsSchema.Str(r, "child") == run }); err != nil {
		return nil, err
	}
	if err := renumberChains(tx); err != nil {
		return nil, err
	}
	_, err = tx.DeleteWhere(TableCollections, func(r Row) bool { return collectionsSchema.Str(r, "name") == run })
	return files, err
}

// renumberChains makes the positions of pending chain rows contiguous again
// after children were dropped. The pending rows may be the survivors of a
// live file, shared with the snapshot's cached rows: they are replaced by
// copies, never changed in place.
func renumberChains(tx *Tx) error {
	pending := tx.inserts[TableCollectionChains]
	byParent := map[string][]int{}
	for i, r := range pending {
		p := chainsSchema.Str(r, "parent")
		byParent[p] = append(byParent[p], i)
	}
	for _, idx := range byParent {
		slices.SortStableFunc(idx, func(a, b int) int {
			return int(chainsSchema.Int(pending[a], "position") - chainsSchema.Int(pending[b], "position"))
		})
		for pos, i := range idx {
			r := slices.Clone(pending[i])
			r[1] = int64(pos)
			pending[i] = r
		}
	}
	return nil
}

func idSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
