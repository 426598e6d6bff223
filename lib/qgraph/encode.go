package qgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/registry"
)

// encoder writes the JSON of batches straight from the columnar graph. One
// encoder per goroutine; the graph's shared state is only read.
type encoder struct {
	g    *Graph
	seen map[int32]struct{} // datasets already listed in the current batch
	list []int32
	kvs  []kv
	vals map[string]any            // reused DataID map for template rendering
	recs map[string]map[string]any // reused records map
	ups  []int32

	fast     map[*typeInfo]*fastTemplate
	fastVals []string
	pathBuf  []byte
}

func (g *Graph) newEncoder() *encoder {
	return &encoder{g: g, seen: map[int32]struct{}{}, vals: map[string]any{}, recs: map[string]map[string]any{}}
}

// prepareSave loads what encoders read concurrently: task JSON, file
// records of existing datasets, the implied values of every record used.
func (g *Graph) prepareSave(ctx context.Context) error {
	p := g.pl
	for _, t := range g.tasks {
		if _, err := json.Marshal(t.spec); err != nil {
			return fmt.Errorf("task %s: config: %w", t.spec.Label, err)
		}
	}
	need := make([]bool, len(g.types))
	for _, d := range g.datasets {
		if d.src >= 0 {
			need[d.typ] = true
		}
	}
	fsch, err := p.b.Registry.Schema(registry.TableFiles)
	if err != nil {
		return err
	}
	idCol := fsch.Col("dataset_id")
	for i, ti := range g.types {
		if !need[i] || ti.files != nil {
			continue
		}
		rows, err := p.snap.RowsIn(ctx, registry.TableFiles, map[string]string{"dataset_type": ti.name})
		if err != nil {
			return fmt.Errorf("read file records of %s: %w", ti.name, err)
		}
		ti.files = make(map[string]int32, len(rows))
		ti.frows = rows
		compCol := fsch.Col("component")
		for j, r := range rows {
			id, _ := r[idCol].(string)
			if old, ok := ti.files[id]; ok && rows[old][compCol] == nil {
				continue // keep the record of the whole dataset over a component's
			}
			ti.files[id] = int32(j)
		}
	}
	g.fsch = fsch
	// Warm the implied-value caches (encoders only read them).
	for _, d := range p.dims {
		r := p.recs[d]
		if len(r.e.Implies) == 0 {
			continue
		}
		for i := range r.rows {
			if _, err := p.impliedOf(ctx, r, int32(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// expanded returns the data ID of a packed key over dims with its implied
// values (from the records of the elements implying them).
func (e *encoder) expanded(key uint64, dims []string) []kv {
	p := e.g.pl
	e.kvs = e.kvs[:0]
	for _, d := range dims {
		e.kvs = append(e.kvs, kv{d, p.ds.value(key, p.ds.pos[d])})
	}
	for _, d := range dims {
		r := p.recs[d]
		if len(r.e.Implies) == 0 {
			continue
		}
		_, i, ok := r.row(key)
		if !ok {
			continue
		}
		for _, x := range r.implCache[i] {
			if !hasKV(e.kvs, x.name) {
				e.kvs = append(e.kvs, x)
			}
		}
	}
	return e.kvs
}

func appendKVs(b []byte, kvs []kv) []byte {
	b = append(b, '{')
	for i, x := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, x.name)
		b = append(b, ':')
		b = appendJSONValue(b, x.val)
	}
	return append(b, '}')
}

// rowDataID is the data ID of an existing dataset as the registry stores
// it: its dimensions and the implied ones it has values for.
func (e *encoder) rowDataID(tr *typeRows, pos int32) []kv {
	e.kvs = e.kvs[:0]
	row := tr.rows[pos]
	for i, d := range tr.expNames {
		if v := row[tr.expCols[i]]; v != nil {
			e.kvs = append(e.kvs, kv{d, v})
		}
	}
	return e.kvs
}

// batch appends the JSON of batch bi.
func (e *encoder) batch(b []byte, bi int) ([]byte, error) {
	g := e.g
	bt := &g.batches[bi]
	h := &g.Header
	b = append(b, `{"graph_id":`...)
	b = appendJSONString(b, h.GraphID)
	b = append(b, `,"batch":`...)
	b = appendJSONString(b, bt.name)
	b = append(b, `,"wave":`...)
	b = strconv.AppendInt(b, int64(bt.wave), 10)
	b = append(b, `,"repo":`...)
	b = appendJSONString(b, h.Repo)
	b = append(b, `,"output_run":`...)
	b = appendJSONString(b, h.OutputRun)
	b = append(b, `,"tasks":{`...)
	t := g.tasks[bt.task]
	b = appendJSONString(b, t.spec.Label)
	b = append(b, ':')
	spec, err := json.Marshal(t.spec)
	if err != nil {
		return nil, err
	}
	b = append(b, spec...)
	b = append(b, `},"quanta":[`...)
	e.list = e.list[:0]
	clear(e.seen)
	for i, qi := range bt.quanta {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.quantum(b, qi)
		q := &g.quanta[qi]
		for _, ed := range g.edges[q.e0:q.e1] {
			if _, ok := e.seen[ed.ds]; !ok {
				e.seen[ed.ds] = struct{}{}
				e.list = append(e.list, ed.ds)
			}
		}
	}
	b = append(b, `],"datasets":{`...)
	for i, d := range e.list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendUUID(b, g.datasets[d].id)
		b = append(b, `":`...)
		if b, err = e.dataset(b, d); err != nil {
			return nil, err
		}
	}
	return append(b, `}}`...), nil
}

// quantum appends the JSON of one quantum.
func (e *encoder) quantum(b []byte, qi int32) []byte {
	g := e.g
	q := &g.quanta[qi]
	t := g.tasks[q.task]
	b = append(b, `{"id":"`...)
	b = appendUUID(b, q.id)
	b = append(b, `","task":`...)
	b = appendJSONString(b, t.spec.Label)
	b = append(b, `,"data_id":`...)
	b = appendKVs(b, e.expanded(q.key, t.dims))
	b = append(b, `,"wave":`...)
	b = strconv.AppendInt(b, int64(q.wave), 10)
	edges := g.edges[q.e0:q.e1]
	for _, sec := range []struct {
		name string
		kind pipeline.ConnectionKind
	}{{"inputs", pipeline.Input}, {"prerequisites", pipeline.PrerequisiteInput}, {"outputs", pipeline.Output}} {
		open := false
		last := int32(-1)
		for _, ed := range edges {
			c := t.conns[ed.conn]
			if c.c.Kind != sec.kind {
				continue
			}
			if !open {
				b = append(b, `,"`...)
				b = append(b, sec.name...)
				b = append(b, `":{`...)
				open = true
			}
			if ed.conn != last {
				if last >= 0 {
					b = append(b, "],"...)
				}
				b = appendJSONString(b, c.c.Name)
				b = append(b, ":["...)
			} else {
				b = append(b, ',')
			}
			last = ed.conn
			b = append(b, '"')
			b = appendUUID(b, g.datasets[ed.ds].id)
			b = append(b, '"')
		}
		if open {
			b = append(b, "]}"...)
		}
	}
	// Upstream: the producers of the inputs, in order, once each.
	e.ups = e.ups[:0]
	for _, ed := range edges {
		if t.conns[ed.conn].c.Kind != pipeline.Input {
			continue
		}
		if pq := g.datasets[ed.ds].producer; pq >= 0 && !containsInt32(e.ups, pq) {
			e.ups = append(e.ups, pq)
		}
	}
	if len(e.ups) > 0 {
		b = append(b, `,"upstream":[`...)
		for i, pq := range e.ups {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = appendUUID(b, g.quanta[pq].id)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func containsInt32(list []int32, x int32) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// dataset appends the JSON of one DatasetSpec.
func (e *encoder) dataset(b []byte, di int32) ([]byte, error) {
	var err error
	g := e.g
	d := &g.datasets[di]
	ti := g.types[d.typ]
	b = append(b, `{"id":"`...)
	b = appendUUID(b, d.id)
	b = append(b, `","dataset_type":`...)
	b = appendJSONString(b, ti.name)
	b = append(b, `,"run":`...)
	b = appendJSONString(b, g.runs[d.run])
	b = append(b, `,"data_id":`...)
	if d.src >= 0 {
		b = appendKVs(b, e.rowDataID(ti.tr, d.src))
		b = append(b, `,"storage_class":`...)
		b = appendJSONString(b, ti.storageClass)
		if j, ok := ti.files[ti.tr.ids[d.src]]; ok {
			row := ti.frows[j]
			b = append(b, `,"formatter":`...)
			b = appendJSONString(b, str(row[g.fsch.Col("formatter")]))
			b = append(b, `,"file":`...)
			b = appendFileRow(b, g.fsch, row)
		}
		return append(b, '}'), nil
	}
	kvs := e.expanded(d.key, ti.dims)
	b = appendKVs(b, kvs)
	b = append(b, `,"storage_class":`...)
	b = appendJSONString(b, ti.storageClass)
	b = append(b, `,"formatter":`...)
	b = appendJSONString(b, ti.formatter)
	b = append(b, `,"uri":`...)
	if b, err = e.appendURI(b, ti, d, kvs); err != nil {
		return nil, err
	}
	b = append(b, `,"producer":"`...)
	b = appendUUID(b, g.quanta[d.producer].id)
	return append(b, `"}`...), nil
}

// appendURI appends (as a JSON string) the datastore path of a predicted
// output, with its formatter's extension.
func (e *encoder) appendURI(b []byte, ti *typeInfo, d *dataset, kvs []kv) ([]byte, error) {
	run := e.g.runs[d.run]
	if !ti.needsRecs {
		path, ok, err := e.fastURI(ti, run, d.id, kvs)
		if err != nil {
			return nil, err
		}
		if ok {
			b = appendJSONStringBytes(b, path, ti.ext)
			return b, nil
		}
	}
	var recs map[string]map[string]any
	if ti.needsRecs {
		clear(e.recs)
		p := e.g.pl
		for _, dim := range ti.dims {
			r := p.recs[dim]
			if row, _, ok := r.row(d.key); ok {
				m := make(map[string]any, len(row))
				for i, c := range r.sch.Columns {
					m[c.Name] = row[i]
				}
				e.recs[dim] = m
			}
		}
		recs = e.recs
	}
	v := e.values(ti, run, uuidString(d.id), kvs)
	v.Records = recs
	path, err := ti.tmpl.Render(v)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ti.name, err)
	}
	return appendJSONString(b, path+ti.ext), nil
}

// appendFileRow appends a files-table row as a registry.FileRecord.
func appendFileRow(b []byte, sch *registry.Schema, r registry.Row) []byte {
	b = append(b, `{"dataset_id":`...)
	b = appendJSONString(b, str(r[sch.Col("dataset_id")]))
	b = append(b, `,"dataset_type":`...)
	b = appendJSONString(b, str(r[sch.Col("dataset_type")]))
	b = append(b, `,"uri":`...)
	b = appendJSONString(b, str(r[sch.Col("uri")]))
	b = append(b, `,"formatter":`...)
	b = appendJSONString(b, str(r[sch.Col("formatter")]))
	b = append(b, `,"storage_class":`...)
	b = appendJSONString(b, str(r[sch.Col("storage_class")]))
	if c := str(r[sch.Col("component")]); c != "" {
		b = append(b, `,"component":`...)
		b = appendJSONString(b, c)
	}
	b = append(b, `,"size":`...)
	size, _ := r[sch.Col("size")].(int64)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, `,"checksum":`...)
	b = appendJSONString(b, str(r[sch.Col("checksum")]))
	return append(b, '}')
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
