package qgraph

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// typeRows are the registry's datasets of one type, with their data IDs
// packed (when every dimension is in D and every value is known).
type typeRows struct {
	dt   registry.DatasetType
	rows []registry.Row
	keys []uint64
	ok   []bool
	ids  []string
	runs []string
	byID map[string]int32 // lazily
	// the expanded dimensions of the type and their columns
	expNames []string
	expCols  []int
}

// typeRows reads the datasets of a dataset type (once per plan).
func (p *planner) typeRows(ctx context.Context, name string) (*typeRows, error) {
	if tr, ok := p.trs[name]; ok {
		return tr, nil
	}
	dt, err := p.snap.DatasetType(ctx, name)
	if err != nil {
		return nil, err
	}
	rows, err := p.snap.RowsIn(ctx, registry.TableDatasets, map[string]string{"dataset_type": name})
	if err != nil {
		return nil, fmt.Errorf("read datasets of %s: %w", name, err)
	}
	sch, err := p.b.Registry.Schema(registry.TableDatasets)
	if err != nil {
		return nil, err
	}
	idCol, runCol := sch.Col("dataset_id"), sch.Col("run")
	tr := &typeRows{dt: dt, rows: rows, keys: make([]uint64, len(rows)), ok: make([]bool, len(rows)),
		ids: make([]string, len(rows)), runs: make([]string, len(rows))}
	if tr.expNames, err = p.u.Expand(dt.Dimensions); err != nil {
		return nil, err
	}
	for _, d := range tr.expNames {
		tr.expCols = append(tr.expCols, sch.Col(d))
	}
	packable := p.ds.has(dt.Dimensions)
	cols := make([]int, len(dt.Dimensions))
	dims := make([]int, len(dt.Dimensions))
	for i, d := range dt.Dimensions {
		cols[i] = sch.Col(d)
		if packable {
			dims[i] = p.ds.pos[d]
		}
	}
	for i, r := range rows {
		tr.ids[i], _ = r[idCol].(string)
		tr.runs[i], _ = r[runCol].(string)
		if !packable {
			continue
		}
		var key uint64
		ok := true
		for j, c := range cols {
			v, known := p.ds.code(dims[j], r[c])
			if !known {
				ok = false
				break
			}
			key |= v
		}
		tr.keys[i], tr.ok[i] = key, ok
	}
	p.trs[name] = tr
	return tr, nil
}

func (tr *typeRows) pos(id string) (int32, bool) {
	if tr.byID == nil {
		tr.byID = make(map[string]int32, len(tr.ids))
		for i, x := range tr.ids {
			tr.byID[x] = int32(i)
		}
	}
	i, ok := tr.byID[id]
	return i, ok
}

// foundSet is the find-first result of one dataset type in a search path:
// at most one dataset per data ID.
type foundSet struct {
	tr    *typeRows
	mask  uint64
	pos   []int32   // positions in tr, in key order
	index *keyIndex // key -> position in tr
}

// collType returns the type of a collection (cached).
func (p *planner) collType(ctx context.Context, name string) (registry.CollectionType, error) {
	if p.collTypes == nil {
		cs, err := p.snap.Collections(ctx)
		if err != nil {
			return "", err
		}
		p.collTypes = map[string]registry.CollectionType{}
		for _, c := range cs {
			p.collTypes[c.Name] = c.Type
		}
	}
	t, ok := p.collTypes[name]
	if !ok {
		return "", registry.Errorf(registry.ErrNotFound, "collection %q", name)
	}
	return t, nil
}

// tagged returns the positions in tr of the datasets tagged into a
// TAGGED collection.
func (p *planner) tagged(ctx context.Context, tr *typeRows, coll string) ([]int32, error) {
	if p.tags == nil {
		rows, err := p.snap.Rows(ctx, registry.TableTags)
		if err != nil {
			return nil, fmt.Errorf("read tags: %w", err)
		}
		sch, _ := p.b.Registry.Schema(registry.TableTags)
		cc, ic, tc := sch.Col("collection"), sch.Col("dataset_id"), sch.Col("dataset_type")
		p.tags = map[[2]string][]string{}
		for _, r := range rows {
			c, _ := r[cc].(string)
			id, _ := r[ic].(string)
			t, _ := r[tc].(string)
			p.tags[[2]string{c, t}] = append(p.tags[[2]string{c, t}], id)
		}
	}
	var out []int32
	for _, id := range p.tags[[2]string{coll, tr.dt.Name}] {
		if i, ok := tr.pos(id); ok {
			out = append(out, i)
		}
	}
	return out, nil
}

// findFirst finds, for every data ID, the dataset of a type in the first
// collection of a (flattened) search path holding one. RUN and TAGGED
// collections are searched; CALIBRATION collections hold only
// certifications looked up by time (see prereqLookup).
func (p *planner) findFirst(ctx context.Context, name string, path []string) (*foundSet, error) {
	tr, err := p.typeRows(ctx, name)
	if err != nil {
		return nil, err
	}
	if !p.ds.has(tr.dt.Dimensions) {
		return nil, fmt.Errorf("dataset type %s has dimensions [%v] outside the pipeline's dimensions %v", name, tr.dt.Dimensions, p.dims)
	}
	fs := &foundSet{tr: tr, mask: p.ds.mask(tr.dt.Dimensions)}
	fs.index = newKeyIndex(fs.mask, len(tr.rows))
	runRank := map[string]int32{}
	rank := make([]int32, 0, 64)
	consider := func(i int32, r int32) {
		slot, added := fs.index.getOrPut(tr.keys[i], int32(len(fs.pos)))
		if added {
			fs.pos = append(fs.pos, i)
			rank = append(rank, r)
			return
		}
		if r < rank[slot] {
			fs.pos[slot], rank[slot] = i, r
		}
	}
	type tagColl struct {
		name string
		rank int32
	}
	var tags []tagColl
	for r, c := range path {
		t, err := p.collType(ctx, c)
		if err != nil {
			return nil, err
		}
		switch t {
		case registry.Run:
			if _, ok := runRank[c]; !ok {
				runRank[c] = int32(r)
			}
		case registry.Tagged:
			tags = append(tags, tagColl{c, int32(r)})
		}
	}
	for i := range tr.rows {
		if !tr.ok[i] {
			continue
		}
		if r, ok := runRank[tr.runs[i]]; ok {
			consider(int32(i), r)
		}
	}
	for _, tc := range tags {
		ps, err := p.tagged(ctx, tr, tc.name)
		if err != nil {
			return nil, err
		}
		for _, i := range ps {
			if tr.ok[i] {
				consider(i, tc.rank)
			}
		}
	}
	// Key order, and an index from key to position in tr.
	slices.SortFunc(fs.pos, func(a, b int32) int {
		ka, kb := tr.keys[a], tr.keys[b]
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	for _, i := range fs.pos {
		fs.index.put(tr.keys[i], i)
	}
	return fs, nil
}

func (fs *foundSet) get(key uint64) (int32, bool) { return fs.index.get(key & fs.mask) }

// prereqLookup finds prerequisite inputs: per collection of the search path
// in order, datasets by key (RUN, TAGGED) or certifications by key and
// time (CALIBRATION).
type prereqLookup struct {
	tr    *typeRows
	mask  uint64
	colls []prereqColl
	memo  map[[2]uint64]int32
}

type prereqColl struct {
	name  string
	typ   registry.CollectionType
	index *keyIndex          // RUN, TAGGED: key -> position in tr
	certs map[uint64][]cert  // CALIBRATION: key -> certifications
	byGrp map[uint64][]int32 // for lookups by a coarser key (lazily)
}

type cert struct {
	pos  int32
	span dimensions.Timespan
}

func (p *planner) newPrereqLookup(ctx context.Context, name string, path []string) (*prereqLookup, error) {
	if pl, ok := p.prereqs[name]; ok {
		return pl, nil
	}
	tr, err := p.typeRows(ctx, name)
	if err != nil {
		return nil, err
	}
	if !p.ds.has(tr.dt.Dimensions) {
		return nil, fmt.Errorf("prerequisite %s has dimensions %v beyond the pipeline's dimensions %v and their implied ones: not supported", name, tr.dt.Dimensions, p.ds.names)
	}
	pl := &prereqLookup{tr: tr, mask: p.ds.mask(tr.dt.Dimensions), memo: map[[2]uint64]int32{}}
	var calibRows []registry.Row
	var cs *registry.Schema
	for _, c := range path {
		t, err := p.collType(ctx, c)
		if err != nil {
			return nil, err
		}
		pc := prereqColl{name: c, typ: t}
		switch t {
		case registry.Run:
			pc.index = newKeyIndex(pl.mask, 64)
			for i := range tr.rows {
				if tr.ok[i] && tr.runs[i] == c {
					pc.index.put(tr.keys[i], int32(i))
				}
			}
		case registry.Tagged:
			pc.index = newKeyIndex(pl.mask, 64)
			ps, err := p.tagged(ctx, tr, c)
			if err != nil {
				return nil, err
			}
			for _, i := range ps {
				if tr.ok[i] {
					pc.index.put(tr.keys[i], i)
				}
			}
		case registry.Calibration:
			if calibRows == nil {
				if calibRows, err = p.snap.Rows(ctx, registry.TableCalibs); err != nil {
					return nil, fmt.Errorf("read certifications: %w", err)
				}
				cs, _ = p.b.Registry.Schema(registry.TableCalibs)
			}
			pc.certs = map[uint64][]cert{}
			cc, ic, tc, bc, ec := cs.Col("collection"), cs.Col("dataset_id"), cs.Col("dataset_type"), cs.Col("valid_begin"), cs.Col("valid_end")
			for _, r := range calibRows {
				if s, _ := r[cc].(string); s != c {
					continue
				}
				if s, _ := r[tc].(string); s != name {
					continue
				}
				id, _ := r[ic].(string)
				i, ok := tr.pos(id)
				if !ok || !tr.ok[i] {
					continue
				}
				var span dimensions.Timespan
				span.Begin, _ = r[bc].(time.Time)
				span.End, _ = r[ec].(time.Time)
				pc.certs[tr.keys[i]] = append(pc.certs[tr.keys[i]], cert{i, span})
			}
		default:
			continue
		}
		pl.colls = append(pl.colls, pc)
	}
	p.prereqs[name] = pl
	return pl, nil
}

// find returns the position in tr of the dataset for key (already masked)
// valid over span (for CALIBRATION collections), or -1. More than one
// certification overlapping span in one collection is an error.
func (pl *prereqLookup) find(key uint64, spanKey uint64, span dimensions.Timespan) (int32, error) {
	mk := [2]uint64{key, spanKey}
	if v, ok := pl.memo[mk]; ok {
		return v, nil
	}
	found := int32(-1)
	for _, c := range pl.colls {
		if c.index != nil {
			if i, ok := c.index.get(key); ok {
				found = i
				break
			}
			continue
		}
		n := 0
		for _, ct := range c.certs[key] {
			if ct.span.Overlaps(span) {
				found = ct.pos
				n++
			}
		}
		if n > 1 {
			return -1, fmt.Errorf("%s: %d certifications in %s overlap %s", pl.tr.dt.Name, n, c.name, span)
		}
		if n == 1 {
			break
		}
	}
	pl.memo[mk] = found
	return found, nil
}

// candidates lists the distinct keys of the type's datasets in the search
// path whose projection onto grp equals key&grp: the lookup of a
// prerequisite with dimensions the quantum does not have.
func (pl *prereqLookup) candidates(key, grp uint64) []uint64 {
	var out []uint64
	for ci := range pl.colls {
		c := &pl.colls[ci]
		if c.byGrp == nil {
			c.byGrp = map[uint64][]int32{}
			if c.index != nil {
				for i := range pl.tr.rows {
					if j, ok := c.index.get(pl.tr.keys[i]); ok && j == int32(i) && pl.tr.ok[i] {
						k := pl.tr.keys[i]
						c.byGrp[k&grp] = append(c.byGrp[k&grp], int32(i))
					}
				}
			} else {
				for k, cs := range c.certs {
					for _, ct := range cs {
						c.byGrp[k&grp] = append(c.byGrp[k&grp], ct.pos)
					}
				}
			}
		}
		for _, i := range c.byGrp[key&grp] {
			out = append(out, pl.tr.keys[i])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
