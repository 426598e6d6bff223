package execute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/qgraph"
)

// ReadBatch loads a batch object.
func ReadBatch(ctx context.Context, store objstore.Store, key string) (*qgraph.Batch, error) {
	data, err := store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read batch %s: %w", key, err)
	}
	var b qgraph.Batch
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("batch %s: %w", key, err)
	}
	normalizeBatch(&b)
	if b.GraphID == "" || b.OutputRun == "" {
		return nil, fmt.Errorf("batch %s: not a batch object", key)
	}
	return &b, nil
}

// RunBatch runs every quantum of one stored batch (a Distributed Map item).
func RunBatch(ctx context.Context, store objstore.Store, key string, opts Options) ([]*Provenance, error) {
	b, err := ReadBatch(ctx, store, key)
	if err != nil {
		return nil, err
	}
	return NewExecutor(store, b, opts).RunAll(ctx)
}

// Summary counts the statuses of some documents.
type Summary struct {
	Quanta    int `json:"quanta"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	NoWork    int `json:"no_work"`
	Blocked   int `json:"blocked"`
}

// Summarize counts statuses.
func Summarize(ps []*Provenance) Summary {
	s := Summary{Quanta: len(ps)}
	for _, p := range ps {
		switch p.Status {
		case Succeeded:
			s.Succeeded++
		case Failed:
			s.Failed++
		case NoWork:
			s.NoWork++
		case Blocked:
			s.Blocked++
		}
	}
	return s
}

// normalizeBatch turns the JSON numbers of data IDs and configs into int64
// (integers: data ID keys, config ints) or float64, as the rest of the code
// expects them — never float64 for an exposure number.
func normalizeBatch(b *qgraph.Batch) {
	for i := range b.Quanta {
		b.Quanta[i].DataID = normalizeMap(b.Quanta[i].DataID)
	}
	for id, ds := range b.Datasets {
		ds.DataID = normalizeMap(ds.DataID)
		b.Datasets[id] = ds
	}
	for label, t := range b.Tasks {
		t.Config = normalizeMap(t.Config)
		b.Tasks[label] = t
	}
}

func normalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		return normalizeMap(x)
	case []any:
		for i, e := range x {
			x[i] = normalizeJSON(e)
		}
		return x
	}
	return v
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	for k, e := range m {
		m[k] = normalizeJSON(e)
	}
	return m
}
