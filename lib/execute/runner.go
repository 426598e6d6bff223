package execute

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/qgraph"
)

// LoadGraphBatches reads every batch of a stored graph (via its wave
// manifests) and joins them into one batch for local execution.
func LoadGraphBatches(ctx context.Context, store objstore.Store, graphID string) (*qgraph.Batch, error) {
	data, err := store.Get(ctx, qgraph.ManifestKey(graphID))
	if err != nil {
		return nil, fmt.Errorf("graph %s: %w", graphID, err)
	}
	var h qgraph.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("graph %s manifest: %w", graphID, err)
	}
	all := &qgraph.Batch{GraphID: graphID, Repo: h.Repo, OutputRun: h.OutputRun, Tasks: map[string]qgraph.TaskSpec{}, Datasets: map[string]qgraph.DatasetSpec{}}
	for w := range h.Waves {
		wdata, err := store.Get(ctx, qgraph.WaveKey(graphID, w))
		if err != nil {
			return nil, fmt.Errorf("graph %s wave %d: %w", graphID, w, err)
		}
		var items []qgraph.BatchItem
		if err := json.Unmarshal(wdata, &items); err != nil {
			return nil, fmt.Errorf("graph %s wave %d: %w", graphID, w, err)
		}
		for _, it := range items {
			b, err := ReadBatch(ctx, store, it.Key)
			if err != nil {
				return nil, err
			}
			for k, v := range b.Tasks {
				all.Tasks[k] = v
			}
			for k, v := range b.Datasets {
				all.Datasets[k] = v
			}
			all.Quanta = append(all.Quanta, b.Quanta...)
		}
	}
	return all, nil
}

// RunLocal executes a whole graph on this machine with `workers`
// concurrent quanta, each started as soon as the quanta it depends on have
// finished (a DAG scheduler, not wave by wave). Quanta that already
// succeeded (a resumed run) are not run again. Progress goes to progress
// (nil: none).
func RunLocal(ctx context.Context, store objstore.Store, graphID string, workers int, opts Options, progress io.Writer) ([]*Provenance, error) {
	b, err := LoadGraphBatches(ctx, store, graphID)
	if err != nil {
		return nil, err
	}
	if workers < 1 {
		workers = 1
	}
	e := NewExecutor(store, b, opts)
	n := len(b.Quanta)
	waiting := make(map[string]int, n)      // quantum -> unfinished upstream count
	downstream := make(map[string][]int, n) // quantum -> indices of quanta waiting for it
	var ready []int
	for i, q := range b.Quanta {
		waiting[q.ID] = len(q.Upstream)
		for _, up := range q.Upstream {
			downstream[up] = append(downstream[up], i)
		}
		if len(q.Upstream) == 0 {
			ready = append(ready, i)
		}
	}
	type done struct {
		i   int
		p   *Provenance
		err error
	}
	results := make(chan done)
	var wg sync.WaitGroup
	out := make([]*Provenance, 0, n)
	running, finished := 0, 0
	var firstErr error
	bar := newProgress(progress, n)
	for finished < n {
		for len(ready) > 0 && running < workers && firstErr == nil {
			i := ready[0]
			ready = ready[1:]
			running++
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := e.Run(ctx, b.Quanta[i])
				results <- done{i, p, err}
			}()
		}
		if running == 0 {
			break // nothing runnable: an error stopped the scheduling
		}
		d := <-results
		running--
		finished++
		if d.err != nil && firstErr == nil {
			firstErr = d.err
		}
		if d.p != nil {
			out = append(out, d.p)
			bar.update(d.p.Status)
		}
		for _, j := range downstream[b.Quanta[d.i].ID] {
			id := b.Quanta[j].ID
			waiting[id]--
			if waiting[id] == 0 {
				ready = append(ready, j)
			}
		}
	}
	wg.Wait()
	bar.finish()
	if firstErr != nil {
		return out, firstErr
	}
	if len(out) != n {
		return out, fmt.Errorf("graph %s: %d of %d quanta ran (a dependency cycle?)", graphID, len(out), n)
	}
	return out, nil
}

// progress draws a one-line progress bar on a terminal.
type progress struct {
	w      io.Writer
	total  int
	counts map[string]int
	done   int
	last   time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, counts: map[string]int{}}
}

func (p *progress) update(status string) {
	p.done++
	p.counts[status]++
	if p.w == nil || (time.Since(p.last) < 100*time.Millisecond && p.done < p.total) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := width * p.done / max(p.total, 1)
	bar := make([]byte, width)
	for i := range bar {
		switch {
		case i < fill:
			bar[i] = '='
		case i == fill:
			bar[i] = '>'
		default:
			bar[i] = ' '
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d quanta  succeeded %d  failed %d  blocked %d  no_work %d", bar, p.done, p.total,
		p.counts[Succeeded], p.counts[Failed], p.counts[Blocked], p.counts[NoWork])
}

func (p *progress) finish() {
	if p.w != nil && p.done > 0 {
		fmt.Fprintln(p.w)
	}
}
