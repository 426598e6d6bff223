package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/query"
)

// DatasetQuery selects datasets (query-datasets).
type DatasetQuery struct {
	DatasetTypes []string    // empty: every dataset type
	Collections  []string    // a search path; empty: every collection
	Where        *query.Expr // constraint on data ID values and dimension record fields
	FindFirst    bool        // per (type, data ID), only the first match along the search path
	// Timespan selects certifications in CALIBRATION collections (any
	// certification overlapping it). Nil: every certification; with FindFirst,
	// several certifications of one data ID in one collection are ambiguous.
	Timespan *dimensions.Timespan
}

// FindDataset is the find-first lookup of one dataset: the first collection
// of the (flattened) search path holding a dataset of the type with the data
// ID. For CALIBRATION collections the certification must overlap when.
func (s *Snapshot) FindDataset(ctx context.Context, datasetType string, dataID map[string]any, collections []string, when *dimensions.Timespan) (DatasetRef, bool, error) {
	dt, err := s.DatasetType(ctx, datasetType)
	if err != nil {
		return DatasetRef{}, false, err
	}
	id, err := s.reg.universe.NormalizeDataID(dt.Dimensions, dataID, s)
	if err != nil {
		return DatasetRef{}, false, Errorf(ErrInvalid, "find %s: %w", datasetType, err)
	}
	flat, set, err := s.searchPath(ctx, collections)
	if err != nil {
		return DatasetRef{}, false, err
	}
	key := dataIDKey(dt.Dimensions, id)
	for _, c := range flat {
		refs, err := s.inCollection(ctx, set[c], dt, when, func(ref DatasetRef) bool { return dataIDKey(dt.Dimensions, ref.DataID) == key })
		if err != nil {
			return DatasetRef{}, false, err
		}
		switch len(refs) {
		case 0:
			continue
		case 1:
			return refs[0], true, nil
		default:
			return DatasetRef{}, false, Errorf(ErrConflict, "find %s %s: %d certifications in %s overlap the lookup time", datasetType, id, len(refs), c)
		}
	}
	return DatasetRef{}, false, nil
}

func (s *Snapshot) searchPath(ctx context.Context, collections []string) ([]string, collectionSet, error) {
	set, err := s.collectionSet(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(collections) == 0 {
		for name := range set {
			collections = append(collections, name)
		}
		slices.Sort(collections)
	}
	flat, err := set.flatten(collections)
	return flat, set, err
}

// inCollection returns the datasets of a type in one (non-CHAINED)
// collection that satisfy keep.
func (s *Snapshot) inCollection(ctx context.Context, c *Collection, dt DatasetType, when *dimensions.Timespan, keep func(DatasetRef) bool) ([]DatasetRef, error) {
	idx, err := s.datasetIndex(ctx, dt.Name)
	if err != nil {
		return nil, err
	}
	var out []DatasetRef
	switch c.Type {
	case Run:
		for _, ref := range idx.refs {
			if ref.Run == c.Name && keep(ref) {
				out = append(out, ref)
			}
		}
	case Tagged:
		ti, err := s.tagIndex(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range ti[c.Name] {
			if i, ok := idx.byID[id]; ok && keep(idx.refs[i]) {
				out = append(out, idx.refs[i])
			}
		}
	case Calibration:
		ci, err := s.calibIndex(ctx)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(ci[c.Name]))
		for k := range ci[c.Name] {
			if strings.HasPrefix(k, dt.Name+"\x00") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, e := range ci[c.Name][k] {
				if (when == nil || e.span.Overlaps(*when)) && keep(e.ref) {
					out = append(out, e.ref)
				}
			}
		}
	}
	return out, nil
}

// QueryDatasets returns the datasets matching q, by dataset type (sorted),
// then search-path order; a dataset found in several collections is listed
// once. A Where that names a dimension a dataset type
// lacks excludes that type when the types were not given explicitly, and is
// an error when they were.
func (s *Snapshot) QueryDatasets(ctx context.Context, q DatasetQuery) ([]DatasetRef, error) {
	types := q.DatasetTypes
	explicit := len(types) > 0
	if !explicit {
		all, err := s.DatasetTypes(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range all {
			types = append(types, d.Name)
		}
	}
	// An identifier the universe does not know is a mistake whichever types
	// are queried (daf_butler refuses it); only a dimension that some types
	// lack may exclude those types.
	for _, id := range q.Where.Identifiers() {
		e, ok := s.reg.universe.Element(id.Element)
		if !ok {
			return nil, Errorf(ErrInvalid, "where: unknown dimension %q", id.Element)
		}
		if id.Field != "" && id.Field != e.Key.Name {
			if _, ok := e.Column(id.Field); !ok {
				return nil, Errorf(ErrInvalid, "where: %s has no field %q", id.Element, id.Field)
			}
		}
	}
	flat, set, err := s.searchPath(ctx, q.Collections)
	if err != nil {
		return nil, err
	}
	var out []DatasetRef
	for _, name := range slices.Compact(slices.Sorted(slices.Values(types))) { // a type given twice is queried once
		dt, err := s.DatasetType(ctx, name)
		if err != nil {
			return nil, err
		}
		res, err := s.newRefResolver(dt, q.Where)
		if err != nil {
			if explicit {
				return nil, err
			}
			continue
		}
		seen := map[string]bool{}
		seenID := map[string]bool{} // a dataset in several collections is listed once
		var evalErr error
		keep := func(ref DatasetRef) bool {
			if evalErr != nil || seenID[ref.ID] {
				return false
			}
			// The where clause first: it is cheaper than the data ID key, and
			// a find-first duplicate has the same data ID, hence the same answer.
			res.id = ref.DataID
			ok, err := q.Where.Eval(res)
			if err != nil {
				evalErr = Errorf(ErrInvalid, "where: %w", err)
			}
			if !ok {
				return false
			}
			if q.FindFirst {
				return !seen[dataIDKey(dt.Dimensions, ref.DataID)]
			}
			seenID[ref.ID] = true
			return true
		}
		for _, c := range flat {
			refs, err := s.inCollection(ctx, set[c], dt, q.Timespan, keep)
			if err != nil {
				return nil, err
			}
			if evalErr != nil {
				return nil, evalErr
			}
			if q.FindFirst {
				byKey := map[string]int{}
				for _, r := range refs {
					byKey[dataIDKey(dt.Dimensions, r.DataID)]++
				}
				for k, n := range byKey {
					if n > 1 && set[c].Type == Calibration {
						return nil, Errorf(ErrConflict, "%s: %d certifications of one data ID in %s; give a timespan", dt.Name, n, c)
					}
					seen[k] = true
				}
			}
			out = append(out, refs...)
		}
	}
	return out, nil
}

// refResolver evaluates where-expressions against a data ID, looking up
// dimension records for element.field identifiers.
type refResolver struct {
	snap *Snapshot
	dims []string // expanded dimensions of the dataset type
	id   dimensions.DataID
}

func (s *Snapshot) newRefResolver(dt DatasetType, where *query.Expr) (*refResolver, error) {
	dims, err := s.reg.universe.Expand(dt.Dimensions)
	if err != nil {
		return nil, err
	}
	r := &refResolver{snap: s, dims: dims}
	for _, id := range where.Identifiers() {
		if err := r.check(id); err != nil {
			return nil, Errorf(ErrInvalid, "where: %s: %w", dt.Name, err)
		}
	}
	return r, nil
}

func (r *refResolver) check(id query.Ident) error {
	if !slices.Contains(r.dims, id.Element) {
		if _, ok := r.snap.reg.universe.Element(id.Element); !ok {
			return fmt.Errorf("unknown dimension %q", id.Element)
		}
		return fmt.Errorf("dimension %q is not one of [%s]", id.Element, strings.Join(r.dims, " "))
	}
	if id.Field == "" {
		return nil
	}
	e, _ := r.snap.reg.universe.Element(id.Element)
	if id.Field == e.Key.Name {
		return nil
	}
	if _, ok := e.Column(id.Field); !ok {
		return fmt.Errorf("%s has no field %q", id.Element, id.Field)
	}
	return nil
}

func (r *refResolver) Resolve(id query.Ident) (any, error) {
	e, _ := r.snap.reg.universe.Element(id.Element)
	if id.Field == "" || id.Field == e.Key.Name {
		return r.id[id.Element], nil
	}
	key := dimensions.DataID{}
	for _, c := range e.KeyColumns() {
		key[c] = r.id[c]
	}
	rec, ok, err := r.snap.LookupRecord(id.Element, key)
	if err != nil || !ok {
		return nil, err
	}
	return rec.Values[id.Field], nil
}
