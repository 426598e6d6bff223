package qgraph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/query"
	"github.com/skybutler/skybutler/lib/registry"
)

// applyWhere keeps the rows satisfying the data query. The query is
// evaluated once per distinct projection of the rows onto the dimensions
// it needs (a handful for "detector IN (1..3)", one per exposure for
// "exposure.observation_type = 'science'").
func (p *planner) applyWhere(ctx context.Context, rows []uint64) ([]uint64, error) {
	if strings.TrimSpace(p.opts.DataQuery) == "" {
		return rows, nil
	}
	expr, err := query.Parse(p.opts.DataQuery, p.opts.Bind)
	if err != nil {
		return nil, fmt.Errorf("data query: %w", err)
	}
	if expr.IsTrue() {
		return rows, nil
	}
	expanded, err := p.u.Expand(p.dims)
	if err != nil {
		return nil, err
	}
	// The dimensions of D the query needs: the keys of the elements it
	// names, and for implied elements the keys of the elements implying
	// them.
	var wmask uint64
	for _, id := range expr.Identifiers() {
		e, ok := p.u.Element(id.Element)
		if !ok {
			return nil, fmt.Errorf("data query: unknown dimension %q", id.Element)
		}
		if !slices.Contains(expanded, id.Element) {
			return nil, fmt.Errorf("data query: dimension %q is not one of the pipeline's dimensions [%s]", id.Element, strings.Join(expanded, " "))
		}
		if id.Field != "" && id.Field != e.Key.Name {
			if _, ok := e.Column(id.Field); !ok {
				return nil, fmt.Errorf("data query: %s has no field %q", id.Element, id.Field)
			}
		}
		if p.inJoin[id.Element] {
			wmask |= p.ds.mask(e.KeyColumns())
			continue
		}
		for _, d := range p.dims {
			if r := p.recs[d]; len(r.e.Implies) > 0 {
				wmask |= r.mask
			}
		}
		if _, err := p.records(ctx, id.Element); err != nil {
			return nil, err
		}
	}
	memo := map[uint64]bool{}
	res := &keyResolver{p: p, ctx: ctx}
	out := rows[:0]
	for _, k := range rows {
		wk := k & wmask
		ok, seen := memo[wk]
		if !seen {
			res.key, res.vals = wk, nil
			ok, err = expr.Eval(res)
			if err != nil {
				return nil, fmt.Errorf("data query: %w", err)
			}
			if res.err != nil {
				return nil, fmt.Errorf("data query: %w", res.err)
			}
			memo[wk] = ok
		}
		if ok {
			out = append(out, k)
		}
	}
	return out, nil
}

// keyResolver resolves query identifiers for one packed data ID over D.
type keyResolver struct {
	p    *planner
	ctx  context.Context
	key  uint64
	vals map[string]any // the data ID with implied values, lazily
	err  error
}

func (r *keyResolver) expanded() map[string]any {
	if r.vals != nil {
		return r.vals
	}
	p := r.p
	r.vals = map[string]any{}
	for _, d := range p.dims {
		r.vals[d] = p.ds.value(r.key, p.ds.pos[d])
	}
	for _, d := range p.dims {
		rec := p.recs[d]
		if len(rec.e.Implies) == 0 {
			continue
		}
		_, i, ok := rec.row(r.key)
		if !ok {
			continue
		}
		imp, err := p.impliedOf(r.ctx, rec, i)
		if err != nil {
			r.err = err
			continue
		}
		for _, x := range imp {
			if _, have := r.vals[x.name]; !have {
				r.vals[x.name] = x.val
			}
		}
	}
	return r.vals
}

func (r *keyResolver) Resolve(id query.Ident) (any, error) {
	p := r.p
	e, _ := p.u.Element(id.Element)
	if id.Field == "" || id.Field == e.Key.Name {
		if p.inJoin[id.Element] {
			return p.ds.value(r.key, p.ds.pos[id.Element]), nil
		}
		return r.expanded()[id.Element], nil
	}
	rec, err := p.records(r.ctx, id.Element)
	if err != nil {
		return nil, err
	}
	var row registry.Row
	var ok bool
	if rec.inD {
		row, _, ok = rec.row(r.key)
	} else {
		if rec.byStr == nil {
			p.indexRecords(rec)
		}
		row, _, ok = rec.rowByValues(r.expanded())
	}
	if !ok {
		return nil, nil
	}
	if c := rec.sch.Col(id.Field); c >= 0 {
		return row[c], nil
	}
	return nil, nil
}
