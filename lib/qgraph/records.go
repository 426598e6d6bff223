package qgraph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// elemRecords holds the dimension records of one element, indexed by key:
// by packed key when the element is in D, by key text otherwise.
type elemRecords struct {
	e     *dimensions.Element
	sch   *registry.Schema
	rows  []registry.Row
	inD   bool
	mask  uint64    // key mask (inD)
	index *keyIndex // packed key -> row (inD)
	byStr map[string]int32
	// timespan columns (-1: not temporal)
	tsBegin, tsEnd int
	// implied: the element's implied dimensions and their columns.
	implied    []string
	impliedCol []int
	// cache of the transitive implied values of a row, and of those
	// packed (the dimensions of D beyond the join's).
	implCache map[int32][]kv
	implBits  map[int32]uint64
}

// records loads the records of an element (once).
func (p *planner) records(ctx context.Context, name string) (*elemRecords, error) {
	if r, ok := p.recs[name]; ok {
		return r, nil
	}
	e, ok := p.u.Element(name)
	if !ok {
		return nil, fmt.Errorf("unknown dimension element %q", name)
	}
	table := registry.DimensionTablePrefix + name
	sch, err := p.b.Registry.Schema(table)
	if err != nil {
		return nil, err
	}
	rows, err := p.snap.Rows(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("read %s records: %w", name, err)
	}
	r := &elemRecords{e: e, sch: sch, rows: rows, tsBegin: sch.Col("timespan_begin"), tsEnd: sch.Col("timespan_end"),
		implCache: map[int32][]kv{}, implBits: map[int32]uint64{}}
	for _, imp := range e.Implies {
		r.implied = append(r.implied, imp)
		r.impliedCol = append(r.impliedCol, sch.Col(imp))
	}
	p.recs[name] = r
	return r, nil
}

// indexRecords builds the key index of an element's records; called once
// D and its dictionaries are known.
func (p *planner) indexRecords(r *elemRecords) {
	keys := r.e.KeyColumns()
	if p.ds != nil && p.inJoin[r.e.Name] {
		r.inD = true
		r.mask = p.ds.mask(keys)
		r.index = newKeyIndex(r.mask, len(r.rows))
		cols := make([]int, len(keys))
		dims := make([]int, len(keys))
		for i, k := range keys {
			cols[i] = r.sch.Col(k)
			dims[i] = p.ds.pos[k]
		}
	rows:
		for i, row := range r.rows {
			var key uint64
			for j, c := range cols {
				v, ok := p.ds.code(dims[j], row[c])
				if !ok {
					continue rows
				}
				key |= v
			}
			r.index.put(key, int32(i))
		}
		return
	}
	r.byStr = make(map[string]int32, len(r.rows))
	for i, row := range r.rows {
		var b strings.Builder
		for j, k := range keys {
			if j > 0 {
				b.WriteByte(0)
			}
			fmt.Fprint(&b, row[r.sch.Col(k)])
		}
		r.byStr[b.String()] = int32(i)
	}
}

// row finds the record of the element for a packed data ID holding its
// keys (inD elements only).
func (r *elemRecords) row(key uint64) (registry.Row, int32, bool) {
	i, ok := r.index.get(key & r.mask)
	if !ok {
		return nil, -1, false
	}
	return r.rows[i], i, true
}

// rowByValues finds a record by its key values.
func (r *elemRecords) rowByValues(vals map[string]any) (registry.Row, int32, bool) {
	if r.inD {
		return nil, -1, false
	}
	var b strings.Builder
	for j, k := range r.e.KeyColumns() {
		if j > 0 {
			b.WriteByte(0)
		}
		v, ok := vals[k]
		if !ok {
			return nil, -1, false
		}
		fmt.Fprint(&b, v)
	}
	i, ok := r.byStr[b.String()]
	if !ok {
		return nil, -1, false
	}
	return r.rows[i], i, true
}

func (r *elemRecords) timespan(row registry.Row) dimensions.Timespan {
	var ts dimensions.Timespan
	if r.tsBegin >= 0 {
		ts.Begin, _ = row[r.tsBegin].(time.Time)
	}
	if r.tsEnd >= 0 {
		ts.End, _ = row[r.tsEnd].(time.Time)
	}
	return ts
}

// impliedOf returns the implied dimension values that follow from one
// record of an element, transitively (exposure -> physical_filter ->
// band), cached per record.
func (p *planner) impliedOf(ctx context.Context, r *elemRecords, i int32) ([]kv, error) {
	if out, ok := r.implCache[i]; ok {
		return out, nil
	}
	row := r.rows[i]
	var out []kv
	vals := map[string]any{}
	for _, k := range r.e.KeyColumns() {
		vals[k] = row[r.sch.Col(k)]
	}
	for j, imp := range r.implied {
		v := row[r.impliedCol[j]]
		if v == nil {
			continue
		}
		out = append(out, kv{imp, v})
		vals[imp] = v
	}
	// Implied elements with implications of their own.
	for j := 0; j < len(out); j++ {
		ie, _ := p.u.Element(out[j].name)
		if len(ie.Implies) == 0 {
			continue
		}
		ir, err := p.records(ctx, ie.Name)
		if err != nil {
			return nil, err
		}
		if ir.index == nil && ir.byStr == nil {
			p.indexRecords(ir)
		}
		var irow registry.Row
		var ok bool
		if ir.inD {
			continue // a dimension of D is never implied by a data ID we complete
		}
		if irow, _, ok = ir.rowByValues(vals); !ok {
			continue
		}
		for c, imp := range ir.implied {
			v := irow[ir.impliedCol[c]]
			if v == nil || hasKV(out, imp) {
				continue
			}
			out = append(out, kv{imp, v})
			vals[imp] = v
		}
	}
	r.implCache[i] = out
	return out, nil
}

func hasKV(list []kv, name string) bool {
	for _, x := range list {
		if x.name == name {
			return true
		}
	}
	return false
}

// extKey adds to a key over a task's dimensions the packed values of the
// implied dimensions prerequisites are looked up by.
func (p *planner) extKey(ctx context.Context, k uint64, taskDims []string) (uint64, error) {
	if len(p.extra) == 0 {
		return k, nil
	}
	for _, d := range taskDims {
		r := p.recs[d]
		if r == nil || len(r.e.Implies) == 0 {
			continue
		}
		_, i, ok := r.row(k)
		if !ok {
			continue
		}
		bits, ok := r.implBits[i]
		if !ok {
			imp, err := p.impliedOf(ctx, r, i)
			if err != nil {
				return 0, err
			}
			for _, x := range imp {
				if j, ok := p.ds.pos[x.name]; ok && !p.inJoin[x.name] {
					if c, ok := p.ds.code(j, x.val); ok {
						bits |= c
					}
				}
			}
			r.implBits[i] = bits
		}
		k |= bits
	}
	return k, nil
}
