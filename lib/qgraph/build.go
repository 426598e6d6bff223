package qgraph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/registry"
)

// planner holds the state of one Build.
type planner struct {
	b    *butler.Butler
	snap *registry.Snapshot
	u    *dimensions.Universe
	opts Options
	pipe *pipeline.Pipeline
	cols *collections
	ds   *dimSpace
	ids  *idSource
	g    *Graph

	recs      map[string]*elemRecords
	trs       map[string]*typeRows
	prereqs   map[string]*prereqLookup
	collTypes map[string]registry.CollectionType
	tags      map[[2]string][]string

	rows []uint64 // the data IDs (over D) every quantum is a projection of

	dims      []string        // D: the dimensions joined (the data space of quanta)
	inJoin    map[string]bool // membership of D
	extra     []string        // implied dimensions packed for prerequisite lookups
	extraMask uint64

	dsOf   map[*typeRows][]int32 // registry row -> graph dataset
	runIdx map[string]int32
}

// Build plans a quantum graph: it reads the newest registry snapshot and
// writes nothing. See the package documentation for the algorithm.
func Build(ctx context.Context, b *butler.Butler, opts Options) (*Graph, error) {
	g, err := build(ctx, b, opts)
	if err != nil {
		return nil, fmt.Errorf("build quantum graph: %w", err)
	}
	return g, nil
}

func build(ctx context.Context, b *butler.Butler, opts Options) (*Graph, error) {
	if opts.Pipeline == nil {
		return nil, optErr("no pipeline")
	}
	if len(opts.Pipeline.Tasks) == 0 {
		return nil, optErr("the pipeline has no tasks")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC()
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	for label, n := range opts.TaskBatchSize {
		if _, ok := opts.Pipeline.Task(label); !ok {
			return nil, optErr("batch size for %q: the pipeline has no such task", label)
		}
		if n <= 0 {
			return nil, optErr("batch size for %s: %d is not positive", label, n)
		}
	}
	snap, err := b.Registry.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	u := b.Registry.Universe()
	if err := opts.Pipeline.Validate(u); err != nil {
		return nil, err
	}
	cols, err := resolveCollections(ctx, snap, opts)
	if err != nil {
		return nil, err
	}
	p := &planner{b: b, snap: snap, u: u, opts: opts, pipe: opts.Pipeline, cols: cols, ids: newIDSource(),
		recs: map[string]*elemRecords{}, trs: map[string]*typeRows{}, prereqs: map[string]*prereqLookup{}}
	p.g = &Graph{typeIdx: map[string]int32{}, runs: []string{cols.run}, pl: p}
	p.g.Header = Header{GraphID: NewGraphID(opts.Now), Created: opts.Now, Repo: b.URI, Pipeline: opts.PipelineRef,
		Inputs: slices.Clone(opts.Inputs), OutputRun: cols.run, Output: opts.Output, DataQuery: opts.DataQuery,
		Version: softwareVersion()}
	if p.g.Header.Pipeline == "" {
		p.g.Header.Pipeline = opts.Pipeline.File()
	}
	if err := p.setup(ctx); err != nil {
		return nil, err
	}
	if err := p.join(ctx); err != nil {
		return nil, err
	}
	for ti := range p.g.tasks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := p.planTask(ctx, ti); err != nil {
			return nil, fmt.Errorf("task %s: %w", p.g.tasks[ti].spec.Label, err)
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	p.release()
	return p.g, nil
}

// setup makes the graph's tasks and dataset types, checks them against the
// registry, and builds the dimension space D.
func (p *planner) setup(ctx context.Context) error {
	g := p.g
	inputs, prereqs, intermediates, outputs, _, err := p.pipe.DatasetTypes()
	if err != nil {
		return err
	}
	registered := map[string]registry.DatasetType{}
	all, err := p.snap.DatasetTypes(ctx)
	if err != nil {
		return err
	}
	for _, dt := range all {
		registered[dt.Name] = dt
	}
	addType := func(n pipeline.DatasetTypeNode, producer int32) error {
		dims, err := p.u.Required(n.Dimensions)
		if err != nil {
			return fmt.Errorf("dataset type %s: %w", n.Name, err)
		}
		ti := &typeInfo{name: n.Name, dims: dims, storageClass: n.StorageClass, isCalib: n.IsCalibration, producer: producer}
		if reg, ok := registered[n.Name]; ok {
			if !slices.Equal(reg.Dimensions, dims) {
				return fmt.Errorf("dataset type %s is registered with dimensions [%s], the pipeline gives it [%s]",
					n.Name, strings.Join(reg.Dimensions, " "), strings.Join(dims, " "))
			}
			if producer >= 0 && reg.StorageClass != n.StorageClass {
				return fmt.Errorf("dataset type %s is registered with storage class %s, the pipeline writes it as %s",
					n.Name, reg.StorageClass, n.StorageClass)
			}
			if producer < 0 {
				ti.storageClass, ti.isCalib = reg.StorageClass, reg.IsCalibration
			}
		} else if producer < 0 {
			return fmt.Errorf("input dataset type %s is not registered in the repository", n.Name)
		}
		g.typeIdx[n.Name] = int32(len(g.types))
		g.types = append(g.types, ti)
		return nil
	}
	labelIdx := map[string]int32{}
	for i, t := range p.pipe.Tasks {
		labelIdx[t.Label] = int32(i)
	}
	for _, n := range inputs {
		if len(n.Dimensions) == 0 {
			continue // init-inputs
		}
		if err := addType(n, -1); err != nil {
			return err
		}
	}
	for _, n := range prereqs {
		if err := addType(n, -1); err != nil {
			return err
		}
	}
	for _, list := range [][]pipeline.DatasetTypeNode{intermediates, outputs} {
		for _, n := range list {
			if err := addType(n, labelIdx[n.Producer]); err != nil {
				return err
			}
		}
	}
	// D: the required closure of the tasks' and their regular connections'
	// dimensions (prerequisites are looked up, not joined).
	var dset []string
	for _, t := range p.pipe.Tasks {
		dset = append(dset, t.Dimensions...)
		for _, c := range t.Connections {
			if c.Kind == pipeline.Input || c.Kind == pipeline.Output {
				dset = append(dset, c.Dimensions...)
			}
		}
	}
	dnames, err := p.u.Required(dset)
	if err != nil {
		return err
	}
	p.dims = dnames
	p.inJoin = map[string]bool{}
	for _, d := range dnames {
		p.inJoin[d] = true
	}
	// Implied dimensions of the tasks that prerequisites are keyed by
	// (a flat per physical_filter): packed too, but never joined.
	var extra []string
	for _, t := range p.pipe.Tasks {
		exp, err := p.u.Expand(t.Dimensions)
		if err != nil {
			return err
		}
		for _, c := range t.Connections {
			if c.Kind != pipeline.PrerequisiteInput {
				continue
			}
			req, err := p.u.Required(c.Dimensions)
			if err != nil {
				return err
			}
			for _, d := range req {
				if !p.inJoin[d] && slices.Contains(exp, d) && !slices.Contains(extra, d) {
					extra = append(extra, d)
				}
			}
		}
	}
	allNames := dnames
	if len(extra) > 0 {
		if allNames, err = p.u.Sorted(append(slices.Clone(dnames), extra...)); err != nil {
			return err
		}
		p.extra = extra
	}
	dicts := make([]*valueDict, len(allNames))
	for i, d := range allNames {
		r, err := p.records(ctx, d)
		if err != nil {
			return err
		}
		c := r.sch.Col(d)
		vals := make([]any, 0, len(r.rows))
		for _, row := range r.rows {
			vals = append(vals, row[c])
		}
		dicts[i] = newValueDict(vals)
	}
	if p.ds, err = newDimSpace(p.u, allNames, dicts); err != nil {
		return err
	}
	p.extraMask = p.ds.mask(extra)
	for _, d := range dnames {
		p.indexRecords(p.recs[d])
	}
	for _, ti := range g.types {
		if p.ds.has(ti.dims) {
			ti.mask = p.ds.mask(ti.dims)
		}
	}
	// Tasks.
	for _, t := range p.pipe.Tasks {
		info := &taskInfo{node: t, dims: t.Dimensions, mask: p.ds.mask(t.Dimensions)}
		info.spec = TaskSpec{Label: t.Label, Class: t.Class.Name(), Config: map[string]any(t.Config.Clone()), Dimensions: slices.Clone(t.Dimensions)}
		for _, c := range t.Connections {
			info.spec.Connections = append(info.spec.Connections, ConnectionSpec{Name: c.Name, Kind: c.Kind.String(), DatasetType: c.DatasetType,
				StorageClass: c.StorageClass, Dimensions: slices.Clone(c.Dimensions), Multiple: c.Multiple, DeferLoad: c.DeferLoad,
				IsCalibration: c.IsCalibration, Minimum: c.Minimum})
			if c.Kind.IsInit() {
				if c.Kind == pipeline.InitInput {
					return fmt.Errorf("task %s: init-input %s (dataset type %s) is not supported by the planner yet", t.Label, c.Name, c.DatasetType)
				}
				continue
			}
			typ, ok := g.typeIdx[c.DatasetType]
			if !ok {
				return fmt.Errorf("task %s: connection %s: dataset type %s is unknown", t.Label, c.Name, c.DatasetType)
			}
			ci := connInfo{c: c, typ: typ, subset: isSubset(c.Dimensions, t.Dimensions, p.u)}
			if c.Kind != pipeline.PrerequisiteInput {
				ci.mask = p.ds.mask(c.Dimensions)
			} else if p.ds.has(c.Dimensions) {
				ci.mask = p.ds.mask(c.Dimensions)
				// Looked up by the quantum's data ID (with its implied
				// values), or else among all that match it.
				exp, _ := p.u.Expand(t.Dimensions)
				req, _ := p.u.Required(c.Dimensions)
				ci.direct = true
				for _, d := range req {
					ci.direct = ci.direct && slices.Contains(exp, d)
				}
			}
			info.conns = append(info.conns, ci)
		}
		g.tasks = append(g.tasks, info)
	}
	// Where outputs go: file templates and formatters.
	cfg := p.b.Config.Datastore
	for _, ti := range g.types {
		if ti.producer < 0 {
			continue
		}
		t, err := cfg.Templates.For(ti.name, ti.storageClass)
		if err != nil {
			return err
		}
		f, err := datastore.FormatterFor(ti.storageClass, cfg.Formatters[ti.name])
		if err != nil {
			return fmt.Errorf("dataset type %s: %w", ti.name, err)
		}
		ti.tmpl, ti.formatter, ti.ext = t, f.Name(), f.Extension()
		for _, d := range p.u.Names() {
			if p.u.KeyType(d) == "int" {
				ti.intDims = append(ti.intDims, d)
			}
		}
		for _, fld := range t.Fields() {
			if strings.Contains(fld, ".") {
				ti.needsRecs = true
			}
		}
	}
	return nil
}

// isSubset reports whether the required closure of a is within that of b.
func isSubset(a, b []string, u *dimensions.Universe) bool {
	ra, err1 := u.Required(a)
	rb, err2 := u.Required(b)
	if err1 != nil || err2 != nil {
		return false
	}
	for _, d := range ra {
		if !slices.Contains(rb, d) {
			return false
		}
	}
	return true
}

// join builds the data IDs over D that the quanta are projections of: the
// overall inputs the pipeline requires, found in the input collections,
// joined on their shared dimensions; dimensions no input has come from
// their records (a fan-out). The pipeline's instrument and the data query
// then constrain them.
func (p *planner) join(ctx context.Context) error {
	g := p.g
	// Overall inputs, and which of them constrain (a required Input of
	// some task).
	type table struct {
		keys []uint64
		dims []string
		mask uint64
	}
	var tables []table
	for _, ti := range g.types {
		if ti.producer >= 0 || ti.found != nil {
			continue
		}
		regular, required := false, false
		for _, t := range g.tasks {
			for _, c := range t.conns {
				if g.types[c.typ] == ti && c.c.Kind == pipeline.Input {
					regular = true
					required = required || c.c.Minimum > 0
				}
			}
		}
		if !regular {
			continue
		}
		if ti.isCalib {
			return fmt.Errorf("dataset type %s is a calibration read as a regular input: make the connection a prerequisite (isCalibration)", ti.name)
		}
		fs, err := p.findFirst(ctx, ti.name, p.cols.search)
		if err != nil {
			return err
		}
		ti.found, ti.tr = fs, fs.tr
		if required {
			keys := make([]uint64, len(fs.pos))
			for i, pos := range fs.pos {
				keys[i] = fs.tr.keys[pos]
			}
			tables = append(tables, table{keys, ti.dims, ti.mask})
		}
	}
	slices.SortStableFunc(tables, func(a, b table) int { return len(a.keys) - len(b.keys) })
	rows := []uint64{0}
	covered := map[string]bool{}
	var coveredMask uint64
	joinWith := func(keys []uint64, dims []string, mask uint64) {
		shared := coveredMask & mask
		groups := newKeyIndex(shared, len(keys))
		// A linked list through keys per group of shared values.
		heads := []int32{}
		next := make([]int32, len(keys))
		for i, k := range keys {
			gi, added := groups.getOrPut(k&shared, int32(len(heads)))
			if added {
				heads = append(heads, -1)
			}
			next[i] = heads[gi]
			heads[gi] = int32(i)
		}
		out := make([]uint64, 0, max(len(rows), len(keys)))
		for _, r := range rows {
			gi, ok := groups.get(r & shared)
			if !ok {
				continue
			}
			for j := heads[gi]; j >= 0; j = next[j] {
				out = append(out, r|keys[j])
			}
		}
		rows = out
		coveredMask |= mask
		for _, d := range dims {
			covered[d] = true
		}
	}
	for _, t := range tables {
		joinWith(t.keys, t.dims, t.mask)
	}
	for _, d := range p.dims {
		if covered[d] {
			continue
		}
		r := p.recs[d]
		// The records' packed keys (every record of the element).
		keys := make([]uint64, 0, len(r.rows))
		for i := range r.rows {
			if k, ok := p.recordKey(r, int32(i)); ok {
				keys = append(keys, k)
			}
		}
		joinWith(keys, r.e.KeyColumns(), r.mask)
	}
	slices.Sort(rows)
	rows = slices.Compact(rows)
	// The pipeline's instrument.
	if inst := p.pipe.Instrument; inst != "" {
		if i, ok := p.ds.pos["instrument"]; ok {
			c, known := p.ds.code(i, inst)
			m := p.ds.mask([]string{"instrument"})
			rows = slices.DeleteFunc(rows, func(k uint64) bool { return !known || k&m != c })
			if !known {
				return fmt.Errorf("the pipeline's instrument %q is not registered: %w", inst, ErrEmptyGraph)
			}
		}
	}
	var err error
	if rows, err = p.applyWhere(ctx, rows); err != nil {
		return err
	}
	if len(rows) == 0 {
		what := "no data IDs"
		if len(tables) > 0 {
			what = "no overall inputs"
		}
		q := ""
		if p.opts.DataQuery != "" {
			q = fmt.Sprintf(" matching %q", p.opts.DataQuery)
		}
		return fmt.Errorf("%s found in [%s]%s: %w", what, strings.Join(p.cols.search, " "), q, ErrEmptyGraph)
	}
	p.rows = rows
	return nil
}

// recordKey packs the key of record i of an element of D.
func (p *planner) recordKey(r *elemRecords, i int32) (uint64, bool) {
	var key uint64
	for _, k := range r.e.KeyColumns() {
		v, ok := p.ds.code(p.ds.pos[k], r.rows[i][r.sch.Col(k)])
		if !ok {
			return 0, false
		}
		key |= v
	}
	return key, true
}

// pairs of (local quantum, dataset key), for connections whose dimensions
// are not among the task's.
type qpair struct {
	q int32
	k uint64
}

// refs holds the datasets of one connection for each local quantum: one
// (single, -1 for none) or several (off/vals, CSR).
type refs struct {
	single []int32
	off    []int32
	vals   []int32
}

func (r *refs) of(q int) []int32 {
	if r.single != nil {
		if r.single[q] < 0 {
			return nil
		}
		return r.single[q : q+1]
	}
	return r.vals[r.off[q]:r.off[q+1]]
}

// pairsOf groups the projections of the rows onto mask by local quantum,
// sorted and distinct: CSR offsets and keys.
func pairsOf(rows []uint64, rowQ []int32, nq int, mask uint64) ([]int32, []uint64) {
	off := make([]int32, nq+1)
	for _, q := range rowQ {
		off[q+1]++
	}
	for i := 1; i <= nq; i++ {
		off[i] += off[i-1]
	}
	keys := make([]uint64, len(rows))
	fill := slices.Clone(off[:nq])
	for r, q := range rowQ {
		keys[fill[q]] = rows[r] & mask
		fill[q]++
	}
	// Sort and dedupe each group in place, compacting.
	w := int32(0)
	newOff := make([]int32, nq+1)
	for q := 0; q < nq; q++ {
		grp := keys[off[q]:off[q+1]]
		slices.Sort(grp)
		grp = slices.Compact(grp)
		newOff[q] = w
		w += int32(copy(keys[w:], grp))
	}
	newOff[nq] = w
	return newOff, keys[:w]
}

// planTask forms the quanta of one task.
func (p *planner) planTask(ctx context.Context, ti int) error {
	g := p.g
	t := g.tasks[ti]
	// Quanta: the distinct projections of the rows onto the task's
	// dimensions, in key order.
	qidx := newKeyIndex(t.mask, len(p.rows))
	var qkeys []uint64
	for _, k := range p.rows {
		if _, added := qidx.getOrPut(k&t.mask, int32(len(qkeys))); added {
			qkeys = append(qkeys, k&t.mask)
		}
	}
	slices.Sort(qkeys)
	for i, k := range qkeys {
		qidx.put(k, int32(i))
	}
	nq := len(qkeys)
	var rowQ []int32
	for _, c := range t.conns {
		if !c.subset && c.c.Kind != pipeline.PrerequisiteInput {
			rowQ = make([]int32, len(p.rows))
			for r, k := range p.rows {
				rowQ[r], _ = qidx.get(k & t.mask)
			}
			break
		}
	}
	alive := make([]bool, nq)
	for i := range alive {
		alive[i] = true
	}
	connRefs := make([]refs, len(t.conns))
	// Room for the datasets this task adds: existing overall inputs, then
	// outputs (appending to big slices one by one would copy them often).
	nIn, nOut := 0, 0
	for _, c := range t.conns {
		switch {
		case c.c.Kind == pipeline.Input && g.types[c.typ].producer < 0:
			nIn++
		case c.c.Kind == pipeline.Output:
			nOut++
		}
	}
	g.datasets = slices.Grow(g.datasets, nq*nIn)
	outKeys := make([]struct {
		off  []int32
		keys []uint64
	}, len(t.conns))
	// Inputs.
	for ci, c := range t.conns {
		if c.c.Kind != pipeline.Input {
			continue
		}
		typ := g.types[c.typ]
		lookup := func(key uint64) int32 {
			if typ.producer >= 0 {
				if typ.out == nil {
					return -1
				}
				if d, ok := typ.out.get(key); ok {
					return d
				}
				return -1
			}
			if typ.found == nil {
				return -1
			}
			pos, ok := typ.found.get(key)
			if !ok {
				return -1
			}
			return p.existing(typ, c.typ, pos)
		}
		r := &connRefs[ci]
		if c.subset {
			r.single = make([]int32, nq)
			for q, k := range qkeys {
				r.single[q] = lookup(k & c.mask)
			}
		} else {
			off, keys := pairsOf(p.rows, rowQ, nq, c.mask)
			r.off = make([]int32, nq+1)
			r.vals = make([]int32, 0, len(keys))
			for q := 0; q < nq; q++ {
				r.off[q] = int32(len(r.vals))
				for _, k := range keys[off[q]:off[q+1]] {
					if d := lookup(k); d >= 0 {
						r.vals = append(r.vals, d)
					}
				}
			}
			r.off[nq] = int32(len(r.vals))
		}
		min := c.c.Minimum
		for q := 0; q < nq; q++ {
			if alive[q] && len(r.of(q)) < min {
				alive[q] = false
				t.pruned++
			}
		}
	}
	// Outputs: their keys.
	for ci, c := range t.conns {
		if c.c.Kind != pipeline.Output {
			continue
		}
		if typ := g.types[c.typ]; typ.out == nil {
			typ.out = newKeyIndex(typ.mask, nq)
		}
		if c.subset {
			continue
		}
		off, keys := pairsOf(p.rows, rowQ, nq, c.mask)
		outKeys[ci].off, outKeys[ci].keys = off, keys
	}
	outputsOf := func(ci, q int) []uint64 {
		c := t.conns[ci]
		if c.subset {
			return []uint64{qkeys[q] & c.mask}
		}
		o := outKeys[ci]
		return o.keys[o.off[q]:o.off[q+1]]
	}
	// Skip quanta whose outputs all exist in --skip-existing-in; refuse
	// outputs that exist in an extended run.
	skipped := make([]bool, nq)
	if len(p.cols.skipIn) > 0 || (p.opts.ExtendRun && p.cols.runExists) {
		var skipSets, runSets []*foundSet
		for _, c := range t.conns {
			var ss, rs *foundSet
			if c.c.Kind == pipeline.Output {
				var err error
				if len(p.cols.skipIn) > 0 && p.registeredType(ctx, g.types[c.typ].name) {
					if ss, err = p.findFirst(ctx, g.types[c.typ].name, p.cols.skipIn); err != nil {
						return err
					}
				}
				if p.opts.ExtendRun && p.registeredType(ctx, g.types[c.typ].name) {
					if rs, err = p.findFirst(ctx, g.types[c.typ].name, []string{p.cols.run}); err != nil {
						return err
					}
				}
			}
			skipSets, runSets = append(skipSets, ss), append(runSets, rs)
		}
		var exists []string
		for q := 0; q < nq; q++ {
			if !alive[q] {
				continue
			}
			all, n := true, 0
			for ci, c := range t.conns {
				if c.c.Kind != pipeline.Output {
					continue
				}
				for _, k := range outputsOf(ci, q) {
					n++
					if skipSets[ci] == nil {
						all = false
					} else if _, ok := skipSets[ci].get(k); !ok {
						all = false
					}
				}
			}
			if all && n > 0 {
				skipped[q] = true
				t.skipped++
				for ci, c := range t.conns {
					if c.c.Kind != pipeline.Output {
						continue
					}
					typ := g.types[c.typ]
					for _, k := range outputsOf(ci, q) {
						pos, _ := skipSets[ci].get(k)
						typ.out.put(k, p.existing(typ, c.typ, pos))
					}
				}
				continue
			}
			for ci, c := range t.conns {
				if c.c.Kind != pipeline.Output || runSets[ci] == nil {
					continue
				}
				for _, k := range outputsOf(ci, q) {
					if _, ok := runSets[ci].get(k); ok && len(exists) < 1000 {
						exists = append(exists, fmt.Sprintf("%s %s", c.c.DatasetType, p.formatKey(k, g.types[c.typ].dims)))
					}
				}
			}
		}
		if len(exists) > 0 {
			return fmt.Errorf("%s already in output run %s (give --skip-existing-in %s to skip quanta whose outputs all exist): %w",
				listSome(exists, 10), p.cols.run, p.cols.run, ErrOutputExists)
		}
	}
	// Prerequisites, for the quanta that will run.
	var tmask uint64
	var temporal []*elemRecords
	for _, d := range t.dims {
		if r := p.recs[d]; r != nil && r.e.Temporal {
			temporal = append(temporal, r)
			tmask |= r.mask
		}
	}
	spans := map[uint64]dimensions.Timespan{}
	spanOf := func(k uint64) dimensions.Timespan {
		tk := k & tmask
		if s, ok := spans[tk]; ok {
			return s
		}
		var s dimensions.Timespan
		for _, r := range temporal {
			row, _, ok := r.row(k)
			if !ok {
				continue
			}
			s = intersect(s, r.timespan(row))
		}
		spans[tk] = s
		return s
	}
	for ci, c := range t.conns {
		if c.c.Kind != pipeline.PrerequisiteInput {
			continue
		}
		typ := g.types[c.typ]
		pl, err := p.newPrereqLookup(ctx, typ.name, p.cols.search)
		if err != nil {
			return err
		}
		r := &connRefs[ci]
		var missing []string
		nMissing := 0
		if c.direct {
			r.single = make([]int32, nq)
		} else {
			r.off = make([]int32, nq+1)
		}
		grp := c.mask & (t.mask | p.extraMask)
		for q, k := range qkeys {
			var found []int32
			if alive[q] && !skipped[q] {
				span := spanOf(k)
				if !typ.isCalib {
					span = dimensions.Timespan{}
				}
				ek, err := p.extKey(ctx, k, t.dims)
				if err != nil {
					return err
				}
				keys := []uint64{ek & c.mask}
				if !c.direct {
					keys = pl.candidates(ek, grp)
				}
				for _, pk := range keys {
					pos, err := pl.find(pk, k&tmask, span)
					if err != nil {
						return fmt.Errorf("prerequisite %s for %s: %w", c.c.Name, p.formatKey(k, t.dims), err)
					}
					if pos >= 0 {
						found = append(found, p.existing(typ, c.typ, pos))
					}
				}
				if len(found) < c.c.Minimum {
					nMissing++
					if len(missing) < 20 {
						missing = append(missing, p.formatKey(k, t.dims))
					}
				}
			}
			if c.direct {
				r.single[q] = -1
				if len(found) > 0 {
					r.single[q] = found[0]
				}
			} else {
				r.off[q] = int32(len(r.vals))
				r.vals = append(r.vals, found...)
			}
		}
		if !c.direct {
			r.off[nq] = int32(len(r.vals))
		}
		if nMissing > 0 {
			more := ""
			if nMissing > len(missing) {
				more = fmt.Sprintf(" and %d more", nMissing-len(missing))
			}
			when := ""
			if typ.isCalib {
				when = " valid at their times"
			}
			return fmt.Errorf("prerequisite %s (dataset type %s) not found%s in [%s] for %d quanta: %s%s: %w",
				c.c.Name, typ.name, when, strings.Join(p.cols.search, " "), nMissing, strings.Join(missing, ", "), more, ErrMissingPrerequisite)
		}
	}
	// The quanta, their outputs and edges.
	n, nEdges := 0, 0
	for q := range qkeys {
		if alive[q] && !skipped[q] {
			n++
			for ci, c := range t.conns {
				if c.c.Kind == pipeline.Output {
					nEdges += len(outputsOf(ci, q))
				} else if connRefs[ci].single != nil || connRefs[ci].off != nil {
					nEdges += len(connRefs[ci].of(q))
				}
			}
		}
	}
	g.quanta = slices.Grow(g.quanta, n)
	g.edges = slices.Grow(g.edges, nEdges)
	g.datasets = slices.Grow(g.datasets, n*nOut)
	for q, k := range qkeys {
		if !alive[q] || skipped[q] {
			continue
		}
		if len(g.quanta)%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		qi := int32(len(g.quanta))
		qu := quantum{task: int32(ti), key: k, id: p.ids.next(), e0: int32(len(g.edges))}
		for ci, c := range t.conns {
			switch c.c.Kind {
			case pipeline.Input, pipeline.PrerequisiteInput:
				for _, d := range connRefs[ci].of(q) {
					g.edges = append(g.edges, edge{int32(ci), d})
					if pq := g.datasets[d].producer; pq >= 0 && c.c.Kind == pipeline.Input {
						qu.wave = max(qu.wave, g.quanta[pq].wave+1)
					}
				}
			case pipeline.Output:
				typ := g.types[c.typ]
				for _, ok := range outputsOf(ci, q) {
					d := int32(len(g.datasets))
					if prev, ok2 := typ.out.get(ok); ok2 {
						return fmt.Errorf("output %s %s is produced by two quanta (%s and %s)", typ.name, p.formatKey(ok, typ.dims),
							uuidString(g.quanta[g.datasets[prev].producer].id), uuidString(qu.id))
					}
					g.datasets = append(g.datasets, dataset{typ: c.typ, run: 0, producer: qi, src: -1, key: ok, id: p.ids.next()})
					typ.out.put(ok, d)
					g.edges = append(g.edges, edge{int32(ci), d})
				}
			}
		}
		qu.e1 = int32(len(g.edges))
		g.quanta = append(g.quanta, qu)
		t.quanta++
	}
	return nil
}

// release drops what only planning needed.
func (p *planner) release() {
	p.rows = nil
	p.prereqs = nil
	p.dsOf = nil
	for _, ti := range p.g.types {
		ti.out = nil
		if ti.found != nil {
			ti.found = &foundSet{tr: ti.found.tr, mask: ti.found.mask}
		}
	}
	for _, tr := range p.trs {
		tr.keys, tr.ok, tr.byID = nil, nil, nil
	}
}

// registeredType reports whether a dataset type is registered.
func (p *planner) registeredType(ctx context.Context, name string) bool {
	_, err := p.snap.DatasetType(ctx, name)
	return err == nil
}

// existing returns the graph dataset of position pos of a type's registry
// rows, adding it on first use.
func (p *planner) existing(typ *typeInfo, ti int32, pos int32) int32 {
	tr := p.trs[typ.name]
	if typ.tr == nil {
		typ.tr = tr
	}
	if p.dsOf == nil {
		p.dsOf = map[*typeRows][]int32{}
	}
	m := p.dsOf[tr]
	if m == nil {
		m = make([]int32, len(tr.rows))
		for i := range m {
			m[i] = -1
		}
		p.dsOf[tr] = m
	}
	if m[pos] >= 0 {
		return m[pos]
	}
	id, _ := parseUUID(tr.ids[pos])
	run := p.runIndex(tr.runs[pos])
	d := int32(len(p.g.datasets))
	p.g.datasets = append(p.g.datasets, dataset{typ: ti, run: run, producer: -1, src: pos, key: tr.keys[pos], id: id})
	m[pos] = d
	return d
}

func (p *planner) runIndex(run string) int32 {
	if p.runIdx == nil {
		p.runIdx = map[string]int32{p.g.runs[0]: 0}
	}
	if i, ok := p.runIdx[run]; ok {
		return i
	}
	i := int32(len(p.g.runs))
	p.g.runs = append(p.g.runs, run)
	p.runIdx[run] = i
	return i
}

// intersect returns the intersection of two timespans (zero bounds are
// unbounded).
func intersect(a, b dimensions.Timespan) dimensions.Timespan {
	out := a
	if !b.Begin.IsZero() && (out.Begin.IsZero() || b.Begin.After(out.Begin)) {
		out.Begin = b.Begin
	}
	if !b.End.IsZero() && (out.End.IsZero() || b.End.Before(out.End)) {
		out.End = b.End
	}
	return out
}

// formatKey formats the data ID of a packed key over dims.
func (p *planner) formatKey(k uint64, dims []string) string {
	id := dimensions.DataID{}
	for _, d := range dims {
		if i, ok := p.ds.pos[d]; ok {
			id[d] = p.ds.value(k, i)
		}
	}
	return p.u.FormatDataID(id)
}

func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// finish computes the batches and the header.
func (p *planner) finish() error {
	g := p.g
	h := &g.Header
	for _, t := range g.tasks {
		h.TaskQuanta = append(h.TaskQuanta, TaskSum{Label: t.spec.Label, Class: t.spec.Class, Quanta: t.quanta, Config: t.spec.Config})
		h.SkipExisted += t.skipped
		h.Pruned += t.pruned
	}
	h.Quanta = len(g.quanta)
	if h.Quanta == 0 {
		if h.SkipExisted > 0 {
			return fmt.Errorf("all %d quanta were skipped: their outputs exist in [%s]: %w", h.SkipExisted, strings.Join(p.cols.skipIn, " "), ErrEmptyGraph)
		}
		return fmt.Errorf("no quanta: %w", ErrEmptyGraph)
	}
	waves := 0
	for _, q := range g.quanta {
		waves = max(waves, int(q.wave)+1)
	}
	h.Waves = waves
	// Batches: per wave, per task in pipeline order, quanta in order.
	byWaveTask := make([][][]int32, waves)
	for w := range byWaveTask {
		byWaveTask[w] = make([][]int32, len(g.tasks))
	}
	for i, q := range g.quanta {
		byWaveTask[q.wave][q.task] = append(byWaveTask[q.wave][q.task], int32(i))
	}
	g.Waves = make([][]BatchItem, waves)
	for w := range waves {
		for ti, qs := range byWaveTask[w] {
			size := p.opts.BatchSize
			if n, ok := p.opts.TaskBatchSize[g.tasks[ti].spec.Label]; ok {
				size = n
			}
			for n := 0; n*size < len(qs); n++ {
				part := qs[n*size : min((n+1)*size, len(qs))]
				name := fmt.Sprintf("%04d-%s-%06d", w, g.tasks[ti].spec.Label, n)
				bi := int32(len(g.batches))
				for _, q := range part {
					g.quanta[q].batch = bi
				}
				g.batches = append(g.batches, batchInfo{name: name, wave: w, task: int32(ti), quanta: part})
				g.Waves[w] = append(g.Waves[w], BatchItem{GraphID: h.GraphID, Batch: name, Key: BatchKey(h.GraphID, name), Wave: w, Quanta: len(part)})
			}
		}
	}
	h.Batches = len(g.batches)
	return nil
}
