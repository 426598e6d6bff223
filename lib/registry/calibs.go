package registry

import (
	"context"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// calibEntry is one certification: a dataset valid over a timespan.
type calibEntry struct {
	ref  DatasetRef
	span dimensions.Timespan
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// Certify puts calibration datasets into a CALIBRATION collection with a
// validity range, in tx. Per (dataset type, data ID) the validity ranges in
// one collection must not overlap (ErrConflict); certifying the same dataset
// with the same range again is a no-op.
func Certify(tx *Tx, collection string, refs []DatasetRef, span dimensions.Timespan) (int, error) {
	ctx := tx.Context()
	snap := tx.Snapshot()
	if span.Empty() {
		return 0, Errorf(ErrInvalid, "validity range %s is empty", span)
	}
	set, err := loadCollectionSet(ctx, snap, tx)
	if err != nil {
		return 0, err
	}
	c, ok := set[collection]
	if !ok {
		return 0, Errorf(ErrNotFound, "collection %q", collection)
	}
	if c.Type != Calibration {
		return 0, Errorf(ErrConflict, "collection %q is %s, not CALIBRATION", collection, c.Type)
	}
	ci, err := snap.calibIndex(ctx)
	if err != nil {
		return 0, err
	}
	existing := map[string][]calibEntry{}
	for k, es := range ci[collection] {
		existing[k] = es
	}
	n := 0
	for _, r := range refs {
		ref, ok, err := snap.DatasetByID(ctx, r.ID)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, Errorf(ErrNotFound, "dataset %s", r.ID)
		}
		dt, err := snap.DatasetType(ctx, ref.DatasetType)
		if err != nil {
			return n, err
		}
		if !dt.IsCalibration {
			return n, Errorf(ErrConflict, "dataset type %s is not a calibration type", dt.Name)
		}
		k := dt.Name + "\x00" + dataIDKey(dt.Dimensions, ref.DataID)
		same := false
		for _, e := range existing[k] {
			if e.ref.ID == ref.ID && e.span == span {
				same = true
				break
			}
			if e.span.Overlaps(span) {
				return n, Errorf(ErrConflict, "%s %s: validity %s overlaps %s of dataset %s in %s", dt.Name, ref.DataID, span, e.span, e.ref.ID, collection)
			}
		}
		if same {
			continue
		}
		existing[k] = append(existing[k], calibEntry{ref, span})
		if err := tx.Insert(TableCalibs, Row{collection, ref.ID, dt.Name, timeOrNil(span.Begin), timeOrNil(span.End)}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// calibIndex: collection -> type \x00 data ID key -> certifications.
func (s *Snapshot) calibIndex(ctx context.Context) (map[string]map[string][]calibEntry, error) {
	si := s.idx
	si.mu.Lock()
	ci := si.calibs
	si.mu.Unlock()
	if ci != nil {
		return ci, nil
	}
	rows, err := s.Rows(ctx, TableCalibs)
	if err != nil {
		return nil, err
	}
	ci = map[string]map[string][]calibEntry{}
	for _, r := range rows {
		id := calibsSchema.Str(r, "dataset_id")
		ref, ok, err := s.DatasetByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		dt, err := s.DatasetType(ctx, ref.DatasetType)
		if err != nil {
			return nil, err
		}
		var span dimensions.Timespan
		if t, ok := calibsSchema.Get(r, "valid_begin").(time.Time); ok {
			span.Begin = t
		}
		if t, ok := calibsSchema.Get(r, "valid_end").(time.Time); ok {
			span.End = t
		}
		coll := calibsSchema.Str(r, "collection")
		if ci[coll] == nil {
			ci[coll] = map[string][]calibEntry{}
		}
		k := dt.Name + "\x00" + dataIDKey(dt.Dimensions, ref.DataID)
		ci[coll][k] = append(ci[coll][k], calibEntry{ref, span})
	}
	si.mu.Lock()
	si.calibs = ci
	si.mu.Unlock()
	return ci, nil
}

// tagIndex: collection -> dataset IDs, in insertion order.
func (s *Snapshot) tagIndex(ctx context.Context) (map[string][]string, error) {
	si := s.idx
	si.mu.Lock()
	ti := si.tags
	si.mu.Unlock()
	if ti != nil {
		return ti, nil
	}
	rows, err := s.Rows(ctx, TableTags)
	if err != nil {
		return nil, err
	}
	ti = map[string][]string{}
	for _, r := range rows {
		c := tagsSchema.Str(r, "collection")
		ti[c] = append(ti[c], tagsSchema.Str(r, "dataset_id"))
	}
	si.mu.Lock()
	si.tags = ti
	si.mu.Unlock()
	return ti, nil
}
