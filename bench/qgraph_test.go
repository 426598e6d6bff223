//go:build linux

package bench

// The quantum-graph planning benchmark: the three-task example pipeline
// (isr, measure per detector; summarize per exposure) planned over a
// synthetic registry of SPHEREx-like raws and certified darks, for 57,305
// and 1,000,000 quanta. Printed beside the pipe_base anchors: ~2,000
// quanta/s and ~2 GB of memory per 100k quanta.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skybutler/skybutler/examples/pipelines"
	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/qgraph/qgraphtest"
)

// qgraphQuietLog drops registry commit logging.
var qgraphQuietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// pipe_base's anchors.
const (
	pipeBaseQuantaPerSec = 2000.0
	pipeBaseBytesPer100k = 2e9
)

// qgraphSizes are the graph sizes planned (QGRAPH_SIZES overrides, e.g.
// "57305" for a quick run).
func qgraphSizes(tb testing.TB) []int {
	s := os.Getenv("QGRAPH_SIZES")
	if s == "" {
		return []int{57305, 1000000}
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 13 {
			tb.Fatalf("QGRAPH_SIZES=%q: want sizes of at least 13 quanta", s)
		}
		out = append(out, n)
	}
	return out
}

// vmHWM is the peak resident set size of this process (bytes).
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetHWM starts a new peak-RSS measurement (Linux: writing 5 to
// clear_refs resets VmHWM to the current RSS).
func resetHWM() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type qgraphResult struct {
	build, save       time.Duration
	buildCPU, saveCPU time.Duration
	peakBuild, peak   int64
	heapBuild         uint64
	batchBytes, files int64
	graphBytes        int64
	quanta            int
}

// BenchmarkQGraph plans the example pipeline once per size (the graph is
// far bigger than one op: b.N is ignored and ns/op suppressed); it
// reports build time, quanta/s and peak RSS, and the time to save the
// graph (batch objects, wave manifests, compressed whole graph) to a local
// repository.
func BenchmarkQGraph(b *testing.B) {
	if err := pipelines.Register(); err != nil {
		b.Fatal(err)
	}
	results := map[int]*qgraphResult{}
	for _, n := range qgraphSizes(b) {
		b.Run(fmt.Sprintf("quanta=%d", n), func(b *testing.B) {
			r := results[n]
			if r == nil {
				r = planOnce(b, n)
				results[n] = r
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(r.build.Seconds(), "s/build")
			b.ReportMetric(float64(r.quanta)/r.build.Seconds(), "quanta/s")
			b.ReportMetric(float64(r.peakBuild)/(1<<20), "MiB-peak-RSS")
			b.ReportMetric(r.save.Seconds(), "s/save")
		})
	}
}

func planOnce(b *testing.B, n int) *qgraphResult {
	ctx := context.Background()
	dir := b.TempDir()
	spec := qgraphtest.SpecForQuanta(n)
	spec.Bulk = true
	spec.Calibs = []qgraphtest.Calib{{Collection: "SPHEREx/calib", Epochs: 12}}
	t0 := time.Now()
	bt, err := butler.Create(ctx, dir, butler.CreateOptions{Logger: qgraphQuietLog})
	if err != nil {
		b.Fatal(err)
	}
	info, err := qgraphtest.Populate(ctx, bt, spec)
	if err != nil {
		b.Fatal(err)
	}
	setup := time.Since(t0)
	p, err := pipeline.LoadFS(pipelines.Files, pipelines.SpherexPipeline)
	if err != nil {
		b.Fatal(err)
	}
	bt = nil
	runtime.GC()
	debug.FreeOSMemory()
	reset := resetHWM()
	base := vmHWM()
	// Planning starts from a cold registry handle: open, replay, read.
	r := &qgraphResult{}
	cpu0 := rusageCPU()
	t0 = time.Now()
	bt, err = butler.Open(ctx, dir, qgraphQuietLog)
	if err != nil {
		b.Fatal(err)
	}
	g, err := qgraph.Build(ctx, bt, qgraph.Options{Pipeline: p, Inputs: []string{qgraphtest.RawRun, "SPHEREx/calib"}, Output: "u/bench/qgraph"})
	if err != nil {
		b.Fatal(err)
	}
	r.build = time.Since(t0)
	r.buildCPU = rusageCPU() - cpu0
	r.peakBuild = vmHWM()
	if path := os.Getenv("QGRAPH_HEAPPROFILE"); path != "" {
		// go tool pprof -sample_index=inuse_space bench.test PATH
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heapBuild = ms.HeapInuse
	r.quanta = g.Header.Quanta
	if r.quanta != n {
		b.Fatalf("planned %d quanta, want %d", r.quanta, n)
	}
	cpu0 = rusageCPU()
	t0 = time.Now()
	if err := g.Save(ctx, bt); err != nil {
		b.Fatal(err)
	}
	r.save = time.Since(t0)
	r.saveCPU = rusageCPU() - cpu0
	r.peak = vmHWM()
	store, _ := objstore.NewFile(dir)
	all, err := objstore.ListAll(ctx, store, qgraph.Prefix+g.Header.GraphID+"/")
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range all {
		r.files++
		if strings.Contains(o.Key, "/batches/") {
			r.batchBytes += o.Size
		}
		if strings.HasSuffix(o.Key, "graph.json.zst") {
			r.graphBytes = o.Size
		}
	}
	rate := float64(n) / r.build.Seconds()
	anchorMem := pipeBaseBytesPer100k * float64(n) / 1e5
	peakNote := ""
	if !reset {
		peakNote = " (process peak; clear_refs unavailable)"
	}
	fmt.Printf("qgraph %d quanta (%d exposures, %d raws; setup %.1fs): build %.2fs (%.2fs CPU) = %.0f quanta/s, %.0fx pipe_base's ~%.0f/s; "+
		"peak RSS %.0f MiB%s (+%.0f MiB over the %.0f MiB before; heap in use %.0f MiB) vs pipe_base ~%.1f GB (%.0fx less)\n",
		n, len(info.Exposures), info.Raws, setup.Seconds(), r.build.Seconds(), r.buildCPU.Seconds(), rate, rate/pipeBaseQuantaPerSec, pipeBaseQuantaPerSec,
		float64(r.peakBuild)/(1<<20), peakNote, float64(r.peakBuild-base)/(1<<20), float64(base)/(1<<20), float64(r.heapBuild)/(1<<20),
		anchorMem/1e9, anchorMem/float64(r.peakBuild))
	fmt.Printf("qgraph %d quanta: save %.2fs (%.2fs CPU): %d batches in %d waves, %d objects, %.0f MiB of batch JSON, whole graph %.0f MiB zstd; build+save %.0f quanta/s, peak RSS %.0f MiB\n",
		n, r.save.Seconds(), r.saveCPU.Seconds(), g.Header.Batches, g.Header.Waves, r.files, float64(r.batchBytes)/(1<<20), float64(r.graphBytes)/(1<<20),
		float64(n)/(r.build+r.save).Seconds(), float64(r.peak)/(1<<20))
	return r
}
