package registry

import (
	"context"
	"slices"
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
	// Compare ranges as they are stored: UTC, microseconds, no monotonic
	// clock reading (so a retried certification is recognised as the same).
	span = dimensions.Timespan{Begin: storedTime(span.Begin), End: storedTime(span.End)}
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
		existing[k] = slices.Clip(es) // appends below must not write into the shared index
	}
	// Certifications made earlier in this Tx count too.
	for _, r := range tx.Pending(TableCalibs) {
		if calibsSchema.Str(r, "collection") != collection {
			continue
		}
		e, k, ok, err := snap.calibEntryOf(ctx, r)
		if err != nil {
			return 0, err
		}
		if ok {
			existing[k] = append(existing[k], e)
		}
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
			if e.ref.ID == ref.ID && e.span.Begin.Equal(span.Begin) && e.span.End.Equal(span.End) {
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
		e, k, ok, err := s.calibEntryOf(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		coll := calibsSchema.Str(r, "collection")
		if ci[coll] == nil {
			ci[coll] = map[string][]calibEntry{}
		}
		ci[coll][k] = append(ci[coll][k], e)
	}
	si.mu.Lock()
	si.calibs = ci
	si.mu.Unlock()
	return ci, nil
}

// calibEntryOf reads a calibs row: the certification and its type \x00
// data ID key; ok is false when the dataset is not registered.
func (s *Snapshot) calibEntryOf(ctx context.Context, r Row) (calibEntry, string, bool, error) {
	ref, ok, err := s.DatasetByID(ctx, calibsSchema.Str(r, "dataset_id"))
	if err != nil || !ok {
		return calibEntry{}, "", false, err
	}
	dt, err := s.DatasetType(ctx, ref.DatasetType)
	if err != nil {
		return calibEntry{}, "", false, err
	}
	var span dimensions.Timespan
	if t, ok := calibsSchema.Get(r, "valid_begin").(time.Time); ok {
		span.Begin = t
	}
	if t, ok := calibsSchema.Get(r, "valid_end").(time.Time); ok {
		span.End = t
	}
	return calibEntry{ref, span}, dt.Name + "\x00" + dataIDKey(dt.Dimensions, ref.DataID), true, nil
}

// storedTime is t as a timestamp column holds it: UTC, microseconds.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
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
