package butler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// TransferDatasets copies datasets, with their files, dataset types, RUN
// collections and every dimension record their data IDs need, from src into
// b, keeping their IDs (so a repeated transfer changes nothing). Files are
// copied first; one commit then registers everything.
func (b *Butler) TransferDatasets(ctx context.Context, src *Butler, refs []registry.DatasetRef) (int, error) {
	if !src.Registry.Universe().Equal(b.Registry.Universe()) {
		return 0, registry.Errorf(registry.ErrConflict, "%s and %s have different dimension universes", src.URI, b.URI)
	}
	ssnap := src.Registry.Current()
	u := b.Registry.Universe()
	var files []registry.FileRecord
	var written []string
	var types []registry.DatasetType
	var runs []string
	var recs []dimensions.Record
	seenRec := map[string]bool{}
	for _, ref := range refs {
		dt, err := ssnap.DatasetType(ctx, ref.DatasetType)
		if err != nil {
			return 0, err
		}
		if !slices.ContainsFunc(types, func(d registry.DatasetType) bool { return d.Name == dt.Name }) {
			types = append(types, dt)
		}
		if !slices.Contains(runs, ref.Run) {
			runs = append(runs, ref.Run)
		}
		more, err := recordsFor(ssnap, u, ref.DataID, seenRec)
		if err != nil {
			return 0, err
		}
		recs = append(recs, more...)
		fr, err := ssnap.FileRecords(ctx, dt.Name)
		if err != nil {
			return 0, err
		}
		for _, f := range fr[ref.ID] {
			if !IsAbsoluteURI(f.URI) {
				data, err := src.ReadFile(ctx, f)
				if err != nil {
					return 0, err
				}
				key := DatastorePrefix + f.URI
				if _, err := b.Store.Put(ctx, key, data); err != nil {
					return 0, fmt.Errorf("copy %s: %w", key, err)
				}
				written = append(written, key)
			}
			files = append(files, f)
		}
	}
	// Records in universe order, so that every record follows those it names.
	order := map[string]int{}
	for i, n := range u.Names() {
		order[n] = i
	}
	slices.SortStableFunc(recs, func(a, b dimensions.Record) int { return order[a.Element] - order[b.Element] })
	n := 0
	_, err := b.Registry.Commit(ctx, "transfer-datasets", func(tx *registry.Tx) error {
		n = 0
		for _, dt := range types {
			if _, err := registry.RegisterDatasetType(tx, dt); err != nil {
				return err
			}
		}
		for _, run := range runs {
			if _, err := tx.Snapshot().Collection(ctx, run); err != nil {
				if err := registry.RegisterCollection(tx, registry.Collection{Name: run, Type: registry.Run}); err != nil {
					return err
				}
			}
		}
		for _, g := range groupRecords(recs) {
			if _, err := registry.InsertDimensionRecords(tx, g[0].Element, g); err != nil {
				return err
			}
		}
		var todo []registry.DatasetRef
		for _, ref := range refs {
			if _, ok, err := tx.Snapshot().DatasetByID(ctx, ref.ID); err != nil {
				return err
			} else if !ok {
				todo = append(todo, ref)
			}
		}
		keep := map[string]bool{}
		for _, r := range todo {
			keep[r.ID] = true
		}
		var fs []registry.FileRecord
		for _, f := range files {
			if keep[f.DatasetID] {
				fs = append(fs, f)
			}
		}
		ins, err := registry.InsertDatasets(tx, todo, fs, registry.InsertOptions{})
		n = len(ins)
		tx.Summarize("datasets", n)
		return err
	})
	if err != nil {
		for _, k := range written {
			_ = b.Store.Delete(context.WithoutCancel(ctx), k)
		}
		return 0, err
	}
	return n, nil
}

// recordsFor returns the records of every dimension of a data ID and,
// transitively, of the dimensions those records name.
func recordsFor(snap *registry.Snapshot, u *dimensions.Universe, id dimensions.DataID, seen map[string]bool) ([]dimensions.Record, error) {
	var out []dimensions.Record
	var visit func(element string, key dimensions.DataID) error
	visit = func(element string, key dimensions.DataID) error {
		k := element + key.String()
		if seen[k] {
			return nil
		}
		seen[k] = true
		rec, ok, err := snap.LookupRecord(element, key)
		if err != nil || !ok {
			return err
		}
		e, _ := u.Element(element)
		for _, dep := range append(slices.Clone(e.Requires), e.Implies...) {
			de, _ := u.Element(dep)
			dk := dimensions.DataID{}
			complete := true
			for _, c := range de.KeyColumns() {
				if v := rec.Values[c]; v != nil {
					dk[c] = v
				} else {
					complete = false
				}
			}
			if complete {
				if err := visit(dep, dk); err != nil {
					return err
				}
			}
		}
		out = append(out, rec)
		return nil
	}
	for name := range id {
		e, ok := u.Element(name)
		if !ok {
			continue
		}
		key := dimensions.DataID{}
		complete := true
		for _, c := range e.KeyColumns() {
			if v, ok := id[c]; ok {
				key[c] = v
			} else {
				complete = false
			}
		}
		if complete {
			if err := visit(name, key); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// RetrieveArtifacts copies the files of datasets into a local directory,
// under their datastore paths (or flat file names), and returns the paths.
func (b *Butler) RetrieveArtifacts(ctx context.Context, snap *registry.Snapshot, refs []registry.DatasetRef, dest string, preservePath bool) ([]string, error) {
	var out []string
	for _, ref := range refs {
		recs, err := snap.FileRecords(ctx, ref.DatasetType)
		if err != nil {
			return out, err
		}
		for _, f := range recs[ref.ID] {
			data, err := b.ReadFile(ctx, f)
			if err != nil {
				return out, err
			}
			rel := f.URI
			if IsAbsoluteURI(rel) || !preservePath {
				rel = filepath.Base(rel)
			}
			p := filepath.Join(dest, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return out, err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return out, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}
