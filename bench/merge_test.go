//go:build linux

package bench

// The merge benchmark: the three-task example pipeline planned over a
// synthetic registry for SKYBUTLER_BENCH_MERGE_QUANTA (default 57,305)
// quanta, each with three outputs (its dataset, <label>_metadata and
// <label>_log), then "executed" without running tasks — every output file
// and a succeeded provenance document (real sizes and checksums) written
// directly — and merged into the registry from a cold butler. Printed
// beside the target (under 20 s on the file store) and DMTN-177's figure
// for daf_butler (about 12 minutes for this merge).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skybutler/skybutler/examples/pipelines"
	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/merge"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/qgraph/qgraphtest"
)

// The anchors: issue 5's target and DMTN-177's daf_butler figure.
const (
	mergeTargetSeconds  = 20.0
	dafButlerMergeSecs  = 12 * 60.0
	mergeOutputsPerQ    = 3
	mergeWriteParallel  = 16
	mergeProvRSSBytes   = 200 << 20
	mergeProvCPUSeconds = 1.5
)

type mergeResult struct {
	wall, cpu time.Duration
	peak      int64
	res       *merge.Result
}

// mergeFixture is an executed (but not merged) graph on a file store.
type mergeFixture struct {
	dir     string
	graphID string
	quanta  int
	outputs int
	first   *mergeResult // the cold merge, once done
}

// BenchmarkMerge merges one executed graph twice from a fresh butler.Open
// (b.N is ignored and ns/op suppressed): "cold" commits everything,
// "again" finds every quantum merged (a no-op, as a retried merge is).
func BenchmarkMerge(b *testing.B) {
	if err := pipelines.Register(); err != nil {
		b.Fatal(err)
	}
	n := envInt(b, "SKYBUTLER_BENCH_MERGE_QUANTA", 57305)
	if n < 13 {
		b.Fatalf("SKYBUTLER_BENCH_MERGE_QUANTA=%d: want at least 13 quanta", n)
	}
	dir := b.TempDir() // the repository outlives the sub-benchmarks
	var fx *mergeFixture
	var again *mergeResult
	fixture := func(b *testing.B) *mergeFixture {
		if fx == nil {
			fx = newMergeFixture(b, dir, n)
		}
		return fx
	}
	report := func(b *testing.B, r *mergeResult, quanta int) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(r.wall.Seconds(), "s/merge")
		b.ReportMetric(float64(quanta)/r.wall.Seconds(), "quanta/s")
		b.ReportMetric(float64(r.res.Datasets)/r.wall.Seconds(), "datasets/s")
		b.ReportMetric(float64(r.peak)/(1<<20), "MiB-peak-RSS")
	}
	b.Run(fmt.Sprintf("file/quanta=%d/cold", n), func(b *testing.B) {
		f := fixture(b)
		if f.first == nil {
			f.first = f.merge(b, "cold")
		}
		report(b, f.first, f.quanta)
	})
	b.Run(fmt.Sprintf("file/quanta=%d/again", n), func(b *testing.B) {
		f := fixture(b)
		if f.first == nil {
			f.first = f.merge(b, "cold") // what "again" repeats
		}
		if again == nil {
			again = f.merge(b, "again")
		}
		report(b, again, f.quanta)
	})
}

func newMergeFixture(b *testing.B, dir string, n int) *mergeFixture {
	ctx := context.Background()
	t0 := time.Now()
	bt, err := butler.Create(ctx, dir, butler.CreateOptions{Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	spec := qgraphtest.SpecForQuanta(n)
	spec.Bulk = true
	spec.Calibs = []qgraphtest.Calib{{Collection: "SPHEREx/calib", Epochs: 12}}
	if _, err := qgraphtest.Populate(ctx, bt, spec); err != nil {
		b.Fatal(err)
	}
	p, err := pipeline.LoadFS(pipelines.Files, pipelines.SpherexPipeline)
	if err != nil {
		b.Fatal(err)
	}
	g, err := qgraph.PlanGraph(ctx, bt, qgraph.Options{Pipeline: p, Inputs: []string{qgraphtest.RawRun, "SPHEREx/calib"}, Output: "u/bench/merge"})
	if err != nil {
		b.Fatal(err)
	}
	if g.Header.Quanta != n {
		b.Fatalf("planned %d quanta, want %d", g.Header.Quanta, n)
	}
	planned := time.Since(t0)
	// "Execute": write every output and a provenance document per quantum,
	// batch by batch, mergeWriteParallel batches at once.
	t1 := time.Now()
	fx := &mergeFixture{dir: dir, graphID: g.Header.GraphID, quanta: n}
	var items []qgraph.BatchItem
	for _, w := range g.Waves {
		items = append(items, w...)
	}
	var outputs, quanta atomic.Int64
	next := make(chan qgraph.BatchItem)
	var wg sync.WaitGroup
	for range mergeWriteParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				bat, err := execute.ReadBatch(ctx, bt.Store, it.Key)
				if err != nil {
					b.Error(err)
					continue
				}
				for _, q := range bat.Quanta {
					o, err := writeExecuted(ctx, bt, dir, bat, q)
					if err != nil {
						b.Error(err)
						continue
					}
					outputs.Add(int64(o))
					quanta.Add(1)
				}
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	fx.outputs = int(outputs.Load())
	if int(quanta.Load()) != n || fx.outputs != n*mergeOutputsPerQ {
		b.Fatalf("wrote %d quanta with %d outputs, want %d with %d", quanta.Load(), fx.outputs, n, n*mergeOutputsPerQ)
	}
	fmt.Printf("merge fixture: %d quanta planned (setup and plan %.1fs), %d output files and %d provenance documents written in %.1fs\n",
		n, planned.Seconds(), fx.outputs, n, time.Since(t1).Seconds())
	return fx
}

// writeExecuted writes what a succeeded execution of q leaves behind: its
// output files (small ones, written directly) and its provenance document
// (execute.WriteProvenance), as the executor describes them.
func writeExecuted(ctx context.Context, bt *butler.Butler, dir string, bat *qgraph.Batch, q qgraph.Quantum) (int, error) {
	start := time.Now().UTC()
	p := &execute.Provenance{Schema: execute.ProvenanceSchema, QuantumID: q.ID, GraphID: bat.GraphID, TaskLabel: q.Task,
		TaskClass: bat.Tasks[q.Task].Class, DataID: q.DataID, Run: bat.OutputRun, Status: execute.Succeeded,
		Host: "bench", MaxRSS: mergeProvRSSBytes, CPUTime: mergeProvCPUSeconds, SoftwareVersion: execute.Version(), Attempt: 1}
	for _, kind := range []struct {
		name string
		m    map[string][]string
	}{{"input", q.Inputs}, {"prerequisite", q.Prerequisites}, {"init_input", q.InitInputs}} {
		for _, conn := range sortedConns(kind.m) {
			for _, id := range kind.m[conn] {
				ds := bat.Datasets[id]
				uri := ds.URI
				if ds.File != nil {
					uri = ds.File.URI
				}
				p.Inputs = append(p.Inputs, execute.InputProv{DatasetID: id, DatasetType: ds.DatasetType, DataID: ds.DataID, Run: ds.Run,
					URI: uri, Connection: conn, Kind: kind.name, Available: true, Actual: true})
			}
		}
	}
	for _, conn := range sortedConns(q.Outputs) {
		for _, id := range q.Outputs[conn] {
			ds := bat.Datasets[id]
			data := fmt.Appendf(nil, "skybutler bench output %s %s %v\n", ds.DatasetType, id, ds.DataID)
			path := filepath.Join(dir, filepath.FromSlash(butler.DatastorePrefix+ds.URI))
			if err := writeFile(path, data); err != nil {
				return 0, err
			}
			p.Outputs = append(p.Outputs, execute.OutputProv{DatasetID: id, DatasetType: ds.DatasetType, DataID: ds.DataID, URI: ds.URI,
				Connection: conn, Actual: true, Formatter: ds.Formatter, StorageClass: ds.StorageClass,
				Size: int64(len(data)), Checksum: datastore.Checksum(data)})
		}
	}
	p.Start, p.End = start, time.Now().UTC()
	return len(p.Outputs), execute.WriteProvenance(ctx, bt.Store, p)
}

// writeFile writes a file, making its directory when missing.
func writeFile(path string, data []byte) error {
	err := os.WriteFile(path, data, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		err = os.WriteFile(path, data, 0o644)
	}
	return err
}

func sortedConns(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// merge times merge.Merge from a freshly opened butler (replaying the
// commit log included) and checks its result.
func (fx *mergeFixture) merge(b *testing.B, name string) *mergeResult {
	ctx := context.Background()
	runtime.GC()
	debug.FreeOSMemory()
	reset := resetHWM()
	r := &mergeResult{}
	stop := startCPUProfile(b, "merge-"+name)
	cpu0 := rusageCPU()
	t0 := time.Now()
	bt, err := butler.Open(ctx, fx.dir, quietLogger)
	if err != nil {
		b.Fatal(err)
	}
	opened := time.Since(t0)
	res, err := merge.Merge(ctx, bt, fx.graphID, merge.Options{Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	r.wall = time.Since(t0)
	r.cpu = rusageCPU() - cpu0
	stop()
	r.peak = vmHWM()
	r.res = res
	if res.Documents != fx.quanta || len(res.Rejected) > 0 {
		b.Fatalf("%s merge: %d documents, %d rejected; want %d, none", name, res.Documents, len(res.Rejected), fx.quanta)
	}
	switch name {
	case "cold":
		if res.Merged != fx.quanta || res.Datasets != fx.outputs {
			b.Fatalf("cold merge: %d quanta, %d datasets merged; want %d, %d", res.Merged, res.Datasets, fx.quanta, fx.outputs)
		}
	default:
		if res.Merged != 0 || res.Already != fx.quanta || res.Datasets != 0 {
			b.Fatalf("second merge: %d merged, %d already, %d datasets; want 0, %d, 0", res.Merged, res.Already, res.Datasets, fx.quanta)
		}
	}
	peakNote := ""
	if !reset {
		peakNote = " (process peak; clear_refs unavailable)"
	}
	s := r.wall.Seconds()
	if name != "cold" {
		fmt.Printf("merge %s (no-op: every quantum merged already): %d quanta in %.2fs (%.2fs CPU; open %.2fs) = %.0f quanta/s, peak RSS %.0f MiB%s; the cold merge took %.2fs\n",
			name, fx.quanta, s, r.cpu.Seconds(), opened.Seconds(), float64(fx.quanta)/s, float64(r.peak)/(1<<20), peakNote, fx.first.wall.Seconds())
		return r
	}
	fmt.Printf("merge %s: %d quanta (%d outputs, 3 per quantum; %d datasets registered, %d commits; open %.2fs) in %.2fs (%.2fs CPU) = %.0f quanta/s, %.0f datasets/s, peak RSS %.0f MiB%s; "+
		"target < %.0f s (%.2fx the target); DMTN-177 daf_butler ~12 min (%.0f s) -> %.0fx faster\n",
		name, fx.quanta, fx.outputs, res.Datasets, res.Commits, opened.Seconds(), s, r.cpu.Seconds(), float64(fx.quanta)/s, float64(res.Datasets)/s,
		float64(r.peak)/(1<<20), peakNote, mergeTargetSeconds, s/mergeTargetSeconds, dafButlerMergeSecs, dafButlerMergeSecs/s)
	return r
}
