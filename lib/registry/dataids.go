package registry

import (
	"context"
	"slices"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/query"
)

// QueryDataIDs returns the distinct data IDs over dims (a required closure,
// universe order) that satisfy where: from existing datasets of the given
// types in collections, or, with no types, from the dimension records
// themselves (joined on their shared keys).
func (s *Snapshot) QueryDataIDs(ctx context.Context, dims []string, datasetTypes, collections []string, where *query.Expr) ([]dimensions.DataID, error) {
	u := s.reg.universe
	dims, err := u.Required(dims)
	if err != nil {
		return nil, Errorf(ErrInvalid, "%w", err)
	}
	var ids []dimensions.DataID
	if len(datasetTypes) > 0 {
		for _, t := range datasetTypes {
			dt, err := s.DatasetType(ctx, t)
			if err != nil {
				return nil, err
			}
			for _, d := range dims {
				if !slices.Contains(dt.Dimensions, d) {
					return nil, Errorf(ErrInvalid, "dataset type %s has no dimension %s", t, d)
				}
			}
		}
		refs, err := s.QueryDatasets(ctx, DatasetQuery{DatasetTypes: datasetTypes, Collections: collections, Where: where})
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			id := dimensions.DataID{}
			for _, d := range dims {
				id[d] = r.DataID[d]
			}
			ids = append(ids, id)
		}
	} else {
		ids, err = s.joinRecords(ctx, dims)
		if err != nil {
			return nil, err
		}
		res, err := s.newRefResolver(DatasetType{Dimensions: dims}, where)
		if err != nil {
			return nil, err
		}
		kept := ids[:0]
		for _, id := range ids {
			res.id = id
			ok, err := where.Eval(res)
			if err != nil {
				return nil, Errorf(ErrInvalid, "where: %w", err)
			}
			if ok {
				kept = append(kept, id)
			}
		}
		ids = kept
	}
	seen := map[string]bool{}
	out := ids[:0]
	for _, id := range ids {
		k := dataIDKey(dims, id)
		if !seen[k] {
			seen[k] = true
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b dimensions.DataID) int {
		for _, d := range dims {
			if c := compareValues(a[d], b[d]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out, nil
}

// joinRecords builds every data ID over dims from the records of each
// dimension, joined on the keys they share; implied values come along.
func (s *Snapshot) joinRecords(ctx context.Context, dims []string) ([]dimensions.DataID, error) {
	u := s.reg.universe
	partial := []dimensions.DataID{{}}
	for _, d := range dims {
		e, _ := u.Element(d)
		recs, err := s.DimensionRecords(ctx, d)
		if err != nil {
			return nil, err
		}
		var next []dimensions.DataID
		for _, p := range partial {
			for _, r := range recs {
				match := true
				for _, req := range e.Requires {
					if v, ok := p[req]; ok && v != r.Values[req] {
						match = false
						break
					}
				}
				if !match {
					continue
				}
				id := maps2(p)
				for _, c := range e.KeyColumns() {
					id[c] = r.Values[c]
				}
				for _, imp := range e.Implies {
					if v := r.Values[imp]; v != nil {
						id[imp] = v
					}
				}
				next = append(next, id)
			}
		}
		partial = next
	}
	return partial, nil
}

func maps2(m dimensions.DataID) dimensions.DataID {
	out := make(dimensions.DataID, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}
