package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/query"
	"github.com/skybutler/skybutler/lib/registry"
)

// dsSizes lays out a query fixture of n raw datasets in run1: exposures
// 1..nExp of six detectors each (the last one possibly fewer); run2 holds
// the exposures lo..hi again (a reprocessing), and the chain searches run2
// then run1.
type dsSizes struct {
	n          int
	nExp       int64
	one        int64 // the exposure of the single-exposure query
	lo, hi     int64 // the range query, and the exposures of run2
	ffLo, ffHi int64 // the find-first query over the chain
}

func newSizes(n int) dsSizes {
	s := dsSizes{n: n, nExp: int64((n + detectorsPerExposure - 1) / detectorsPerExposure)}
	w := min(1000, max(1, s.nExp/4))
	s.one = max(1, s.nExp/2)
	s.lo = w
	s.hi = s.lo + w - 1
	s.ffLo = max(1, s.lo-w/2)
	s.ffHi = min(s.nExp, s.hi+w/2)
	return s
}

// detectors is how many detectors exposure e has in run1.
func (s dsSizes) detectors(e int64) int64 {
	return min(detectorsPerExposure, max(0, int64(s.n)-(e-1)*detectorsPerExposure))
}

// count is the number of run1 datasets of exposures lo..hi.
func (s dsSizes) count(lo, hi int64) int {
	n := 0
	for e := lo; e <= hi; e++ {
		n += int(s.detectors(e))
	}
	return n
}

// benchQuery is one query-datasets call, in skybutler's where language and
// as the SQL daf_butler would run.
type benchQuery struct {
	name        string
	where       string
	collections []string
	findFirst   bool
	peer        peerQuery
	want        int
}

func (s dsSizes) queries(fx *fixture) []benchQuery {
	inst := fx.instrument
	return []benchQuery{
		{name: "exposure", where: fmt.Sprintf("instrument = '%s' AND exposure = %d", inst, s.one),
			collections: []string{fx.run1},
			peer:        peerQuery{collections: []string{fx.run1}, where: "t.instrument = ? AND t.exposure = ?", args: []any{inst, s.one}},
			want:        s.count(s.one, s.one)},
		{name: "range", where: fmt.Sprintf("instrument = '%s' AND exposure IN (%d..%d)", inst, s.lo, s.hi),
			collections: []string{fx.run1},
			peer:        peerQuery{collections: []string{fx.run1}, where: "t.instrument = ? AND t.exposure BETWEEN ? AND ?", args: []any{inst, s.lo, s.hi}},
			want:        s.count(s.lo, s.hi)},
		{name: "findfirst-chain", where: fmt.Sprintf("instrument = '%s' AND exposure IN (%d..%d)", inst, s.ffLo, s.ffHi),
			collections: []string{fx.chain}, findFirst: true,
			peer: peerQuery{collections: []string{fx.chain}, where: "t.instrument = ? AND t.exposure BETWEEN ? AND ?", args: []any{inst, s.ffLo, s.ffHi}, findFirst: true},
			want: s.count(s.ffLo, s.ffHi)},
	}
}

// datasetOf is a fixture dataset with the datastore record of a fixture dataset: a direct
// ingest of a file outside the repository.
func (fx *fixture) datasetOf(run string, exp, det int64) datasetInfo {
	uri := fmt.Sprintf("file:///data/spherex/raw/%07d/spx_%07d_%d.fits", exp/1000, exp, det)
	return datasetInfo{id: fx.datasetID(run, exp, det), exposure: exp, detector: det, uri: uri,
		checksum: datastore.Checksum([]byte(uri)), size: 16 << 20}
}

// buildStats reports how a fixture was built.
type buildStats struct {
	total, records, datasets time.Duration
	cpu                      time.Duration   // process CPU time (user+system, all threads) during the build
	commits                  []time.Duration // dataset commits
}

func (s buildStats) String() string {
	var first, last, worst time.Duration
	if len(s.commits) > 0 {
		first, last = s.commits[0], s.commits[len(s.commits)-1]
		for _, c := range s.commits {
			worst = max(worst, c)
		}
	}
	return fmt.Sprintf("%.1fs wall, %.1fs CPU (dimension records %.1fs, datasets %.1fs in %d commits: first %.1fs, last %.1fs, slowest %.1fs)",
		s.total.Seconds(), s.cpu.Seconds(), s.records.Seconds(), s.datasets.Seconds(), len(s.commits), first.Seconds(), last.Seconds(), worst.Seconds())
}

// buildSky writes the fixture into a new skybutler repository at dir
// through the public registry API: dimension records first (day_obs and
// group, then exposures, in separate commits so that each commit finds the
// records it names in its snapshot), then datasets in commits of chunk rows
// (registry.InsertDatasets, every per-row check included).
func buildSky(ctx context.Context, dir string, fx *fixture, s dsSizes, chunk int) (buildStats, error) {
	var st buildStats
	t0, c0 := time.Now(), cpuTime()
	bt, err := newSkyRepo(ctx, dir, fx, []string{fx.run1, fx.run2}, []string{fx.run2, fx.run1})
	if err != nil {
		return st, err
	}
	reg := bt.Registry
	expChunk := int64(max(1, chunk/detectorsPerExposure)) * 2
	for _, element := range []string{"group", "exposure"} {
		for lo := int64(1); lo <= s.nExp; lo += expChunk {
			hi := min(s.nExp, lo+expChunk-1)
			var recs, days []dimensions.Record
			seenDay := map[int64]bool{}
			for e := lo; e <= hi; e++ {
				rs, err := fx.records(fx.exposure(e))
				if err != nil {
					return st, err
				}
				switch element {
				case "group":
					if d := rs[0].Values["day_obs"].(int64); !seenDay[d] {
						seenDay[d] = true
						days = append(days, rs[0])
					}
					recs = append(recs, rs[1])
				default:
					recs = append(recs, rs[2])
				}
			}
			if _, _, err := reg.InsertRecordSets(ctx, "bench-records", append(days, recs...)); err != nil {
				return st, fmt.Errorf("%s records %d..%d: %w", element, lo, hi, err)
			}
		}
	}
	st.records = time.Since(t0)
	t1 := time.Now()
	insert := func(run string, ks []int) error {
		refs := make([]registry.DatasetRef, 0, len(ks))
		files := make([]registry.FileRecord, 0, len(ks))
		for _, k := range ks {
			exp, det := nthDataset(k)
			d := fx.datasetOf(run, exp, det)
			refs = append(refs, registry.DatasetRef{ID: d.id, DatasetType: fx.datasetType.Name, Run: run, DataID: fx.dataID(exp, det)})
			files = append(files, registry.FileRecord{DatasetID: d.id, URI: d.uri, Formatter: fx.formatter, StorageClass: fx.storageClass, Size: d.size, Checksum: d.checksum})
		}
		tc := time.Now()
		_, err := reg.Commit(ctx, "bench-insert-datasets", func(tx *registry.Tx) error {
			_, err := registry.InsertDatasets(tx, refs, files, registry.InsertOptions{})
			return err
		})
		st.commits = append(st.commits, time.Since(tc))
		return err
	}
	for lo := 0; lo < s.n; lo += chunk {
		var ks []int
		for k := lo; k < min(s.n, lo+chunk); k++ {
			ks = append(ks, k)
		}
		if err := insert(fx.run1, ks); err != nil {
			return st, fmt.Errorf("datasets %d..: %w", lo, err)
		}
	}
	var ks []int
	for k := int((s.lo - 1) * detectorsPerExposure); k < min(s.n, int(s.hi*detectorsPerExposure)); k++ {
		ks = append(ks, k)
	}
	if err := insert(fx.run2, ks); err != nil {
		return st, fmt.Errorf("run2 datasets: %w", err)
	}
	st.datasets = time.Since(t1)
	st.total, st.cpu = time.Since(t0), cpuTime()-c0
	return st, nil
}

// buildPeer loads the same fixture into a daf_butler-style SQLite file, in
// transactions of chunk datasets.
func buildPeer(ctx context.Context, path string, fx *fixture, s dsSizes, chunk int) (*peerRepo, time.Duration, error) {
	t0, c0 := time.Now(), cpuTime()
	defer func() { lastPeerBuildCPU = cpuTime() - c0 }()
	p, err := createPeer(ctx, path, fx, []string{fx.run1, fx.run2}, fx.chain, []string{fx.run2, fx.run1})
	if err != nil {
		return nil, 0, err
	}
	load := func(run string, from, to int) error {
		return p.tx(ctx, func(tx *sqlTx) error {
			ins, err := p.prepareInsert(ctx, tx)
			if err != nil {
				return err
			}
			defer ins.close()
			last := int64(-1)
			for k := from; k < to; k++ {
				exp, det := nthDataset(k)
				if exp != last {
					if err := ins.records(ctx, fx, fx.exposure(exp)); err != nil {
						return err
					}
					last = exp
				}
				if err := ins.dataset(ctx, fx, run, fx.datasetOf(run, exp, det)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for lo := 0; lo < s.n; lo += chunk {
		if err := load(fx.run1, lo, min(s.n, lo+chunk)); err != nil {
			p.close()
			return nil, 0, err
		}
	}
	if err := load(fx.run2, int((s.lo-1)*detectorsPerExposure), min(s.n, int(s.hi*detectorsPerExposure))); err != nil {
		p.close()
		return nil, 0, err
	}
	if _, err := p.db.ExecContext(ctx, "ANALYZE"); err != nil {
		p.close()
		return nil, 0, err
	}
	return p, time.Since(t0), nil
}

// lastPeerBuildCPU is the CPU time of the last buildPeer.
var lastPeerBuildCPU time.Duration

// openSky opens the registry of a fixture repository (a cold reader: a new
// handle, nothing cached in memory; the OS page cache is warm).
func openSky(ctx context.Context, dir string, fx *fixture) (*registry.Registry, error) {
	store, err := objstore.NewFile(dir)
	if err != nil {
		return nil, err
	}
	return registry.Open(ctx, store, fx.u, registry.Options{Logger: quietLogger})
}

func skyQuery(ctx context.Context, snap *registry.Snapshot, fx *fixture, q benchQuery) ([]registry.DatasetRef, error) {
	expr, err := query.Parse(q.where, nil)
	if err != nil {
		return nil, err
	}
	return snap.QueryDatasets(ctx, registry.DatasetQuery{DatasetTypes: []string{fx.datasetType.Name},
		Collections: q.collections, Where: expr, FindFirst: q.findFirst})
}

// BenchmarkQueryDatasets measures query-datasets latency on a registry of
// SKYBUTLER_BENCH_DATASETS raw datasets (default 1,000,000) in one RUN, for
// (a) one exposure, (b) a range of 1000 exposures, (c) find-first over a
// chain of two runs; warm (the same snapshot, indexes built) and cold
// (registry.Open on the repository plus the query: the Parquet files are
// read and decoded again; the OS page cache is warm). The fixture is built
// once per run through the public registry API, and its build time printed.
//
// Cold runs are expensive at 1M, so each cold sub-benchmark times at most
// SKYBUTLER_BENCH_COLD_RUNS (default 3) opens whatever b.N is, and reports
// their mean as ns/op; warm ones run b.N queries.
//
// Peer: SQLite with daf_butler's schema holding the same rows, the same
// queries as daf_butler's SQL (tags joined to dataset, run collection and
// exposure record); cold = a new connection.
func BenchmarkQueryDatasets(b *testing.B) {
	ctx := context.Background()
	fx := newFixture(b)
	sz := newSizes(envInt(b, "SKYBUTLER_BENCH_DATASETS", 1_000_000))
	chunk := envInt(b, "SKYBUTLER_BENCH_COMMIT_ROWS", 100_000)
	coldRuns := envInt(b, "SKYBUTLER_BENCH_COLD_RUNS", 3)
	queries := sz.queries(fx)
	root := b.TempDir()
	skyDir := filepath.Join(root, "repo")
	peerPath := filepath.Join(root, "gen3.sqlite3")
	label := sizeLabel(sz.n)

	results := map[string]float64{} // side/mode/query -> ms per query
	var skyBuilt, peerBuilt bool
	var skyBuild buildStats
	var peerBuild time.Duration
	ensureSky := func(b *testing.B) {
		if skyBuilt {
			return
		}
		b.Logf("building the skybutler fixture: %d datasets (%d exposures) + %d in run2, commits of %d rows ...", sz.n, sz.nExp, sz.count(sz.lo, sz.hi), chunk)
		st, err := buildSky(ctx, skyDir, fx, sz, chunk)
		if err != nil {
			b.Fatal(err)
		}
		skyBuilt, skyBuild = true, st
		b.Logf("skybutler fixture built in %s; registry %.1f MB on disk", st, float64(dirSize(filepath.Join(skyDir, "registry")))/1e6)
		runtime.GC()
	}
	ensurePeer := func(b *testing.B) {
		if peerBuilt {
			return
		}
		p, took, err := buildPeer(ctx, peerPath, fx, sz, chunk)
		if err != nil {
			b.Fatal(err)
		}
		peerBuilt, peerBuild = true, took
		p.close()
		info, _ := os.Stat(peerPath)
		b.Logf("sqlite-daf_butler fixture built in %.1fs wall, %.1fs CPU; database %.1f MB", took.Seconds(), lastPeerBuildCPU.Seconds(), float64(info.Size())/1e6)
	}

	b.Run("skybutler", func(b *testing.B) {
		b.Run("cold", func(b *testing.B) {
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					ensureSky(b)
					runs := min(b.N, coldRuns)
					var total, cpu time.Duration
					var heap, live, sys, alloc float64
					for range runs {
						var m0, m1, m2 runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&m0)
						t0, c0 := time.Now(), cpuTime()
						reg, err := openSky(ctx, skyDir, fx)
						if err != nil {
							b.Fatal(err)
						}
						refs, err := skyQuery(ctx, reg.Current(), fx, q)
						d, c := time.Since(t0), cpuTime()-c0
						if err != nil {
							b.Fatal(err)
						}
						if len(refs) != q.want {
							b.Fatalf("%s: %d datasets, want %d", q.name, len(refs), q.want)
						}
						runtime.ReadMemStats(&m1)
						runtime.GC()
						runtime.ReadMemStats(&m2)
						writeHeapProfile(b, q.name)
						runtime.KeepAlive(reg)
						total += d
						cpu += c
						heap = max(heap, mb(m1.HeapAlloc))
						live = max(live, mb(m2.HeapAlloc)-mb(m0.HeapAlloc))
						sys = max(sys, mb(m1.Sys))
						alloc = max(alloc, mb(m1.TotalAlloc-m0.TotalAlloc))
					}
					mean := total / time.Duration(runs)
					b.ReportMetric(float64(mean.Nanoseconds()), "ns/op")
					b.ReportMetric(ms(mean), "ms/query")
					b.ReportMetric(ms(cpu/time.Duration(runs)), "cpu-ms/query")
					b.ReportMetric(float64(runs), "cold-runs")
					b.ReportMetric(heap, "heap-MB")
					b.ReportMetric(live, "live-heap-MB")
					b.ReportMetric(sys, "sys-MB")
					b.ReportMetric(alloc, "alloc-MB/op")
					results["skybutler/cold/"+q.name] = ms(mean)
					results["skybutler/cold/"+q.name+"/cpu"] = ms(cpu / time.Duration(runs))
					results["skybutler/cold/"+q.name+"/live-heap-MB"] = live
					results["skybutler/cold/"+q.name+"/sys-MB"] = sys
				})
			}
		})
		var warm *registry.Registry
		b.Run("warm", func(b *testing.B) {
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					ensureSky(b)
					if warm == nil {
						reg, err := openSky(ctx, skyDir, fx)
						if err != nil {
							b.Fatal(err)
						}
						warm = reg
					}
					snap := warm.Current()
					refs, err := skyQuery(ctx, snap, fx, q) // builds the snapshot's indexes
					if err != nil {
						b.Fatal(err)
					}
					if len(refs) != q.want {
						b.Fatalf("%s: %d datasets, want %d", q.name, len(refs), q.want)
					}
					b.ResetTimer()
					c0 := cpuTime()
					for i := 0; i < b.N; i++ {
						if _, err := skyQuery(ctx, snap, fx, q); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					per := b.Elapsed() / time.Duration(b.N)
					b.ReportMetric(ms(per), "ms/query")
					cpu := ms((cpuTime() - c0) / time.Duration(b.N))
					b.ReportMetric(cpu, "cpu-ms/query")
					b.ReportMetric(float64(len(refs)), "rows")
					results["skybutler/warm/"+q.name] = ms(per)
					results["skybutler/warm/"+q.name+"/cpu"] = cpu
				})
			}
		})
		warm = nil
		runtime.GC()
	})

	b.Run("sqlite-daf_butler", func(b *testing.B) {
		b.Run("cold", func(b *testing.B) {
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					ensurePeer(b)
					runs := min(b.N, coldRuns)
					var total, cpu time.Duration
					for range runs {
						t0, c0 := time.Now(), cpuTime()
						db, err := openPeerDB(peerPath)
						if err != nil {
							b.Fatal(err)
						}
						refs, err := peerQueryDatasets(ctx, db, peerDatasetTypeID, q.peer)
						db.Close()
						d, c := time.Since(t0), cpuTime()-c0
						if err != nil {
							b.Fatal(err)
						}
						if len(refs) != q.want {
							b.Fatalf("%s: %d datasets, want %d", q.name, len(refs), q.want)
						}
						total += d
						cpu += c
					}
					mean := total / time.Duration(runs)
					b.ReportMetric(float64(mean.Nanoseconds()), "ns/op")
					b.ReportMetric(ms(mean), "ms/query")
					b.ReportMetric(ms(cpu/time.Duration(runs)), "cpu-ms/query")
					b.ReportMetric(float64(runs), "cold-runs")
					results["sqlite/cold/"+q.name] = ms(mean)
					results["sqlite/cold/"+q.name+"/cpu"] = ms(cpu / time.Duration(runs))
				})
			}
		})
		b.Run("warm", func(b *testing.B) {
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					ensurePeer(b)
					db, err := openPeerDB(peerPath)
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					refs, err := peerQueryDatasets(ctx, db, peerDatasetTypeID, q.peer)
					if err != nil {
						b.Fatal(err)
					}
					if len(refs) != q.want {
						b.Fatalf("%s: %d datasets, want %d", q.name, len(refs), q.want)
					}
					b.ResetTimer()
					c0 := cpuTime()
					for i := 0; i < b.N; i++ {
						if _, err := peerQueryDatasets(ctx, db, peerDatasetTypeID, q.peer); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					per := b.Elapsed() / time.Duration(b.N)
					b.ReportMetric(ms(per), "ms/query")
					cpu := ms((cpuTime() - c0) / time.Duration(b.N))
					b.ReportMetric(cpu, "cpu-ms/query")
					b.ReportMetric(float64(len(refs)), "rows")
					results["sqlite/warm/"+q.name] = ms(per)
					results["sqlite/warm/"+q.name+"/cpu"] = cpu
				})
			}
		})
	})

	if skyBuilt && peerBuilt {
		sideBySide("query-datasets %s fixture build: skybutler %.1fs, sqlite-daf_butler %.1fs", label, skyBuild.total.Seconds(), peerBuild.Seconds())
	}
	for _, mode := range []string{"warm", "cold"} {
		for _, q := range queries {
			x, okx := results["skybutler/"+mode+"/"+q.name]
			y, oky := results["sqlite/"+mode+"/"+q.name]
			if !okx || !oky {
				continue
			}
			xc, yc := results["skybutler/"+mode+"/"+q.name+"/cpu"], results["sqlite/"+mode+"/"+q.name+"/cpu"]
			sideBySide("query-datasets %s %s %s (%d rows): skybutler %.3f ms, sqlite-daf_butler %.3f ms, ratio sqlite/skybutler = %.4g (>1: skybutler faster); CPU %.3f vs %.3f ms, ratio %.4g",
				label, mode, q.name, q.want, x, y, y/x, xc, yc, yc/xc)
		}
	}
	for _, q := range queries {
		if live, ok := results["skybutler/cold/"+q.name+"/live-heap-MB"]; ok {
			sideBySide("query-datasets %s cold %s: skybutler live heap %.0f MB, runtime Sys %.0f MB after the query", label, q.name, live, results["skybutler/cold/"+q.name+"/sys-MB"])
		}
	}
}

// writeHeapProfile writes the live heap to $SKYBUTLER_BENCH_HEAPPROFILE.NAME
// when that is set: what a cold-opened registry keeps after a query.
func writeHeapProfile(b *testing.B, name string) {
	base := os.Getenv("SKYBUTLER_BENCH_HEAPPROFILE")
	if base == "" {
		return
	}
	f, err := os.Create(base + "." + name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// sideBySide prints a comparison line. It goes to stdout directly: the log
// of a benchmark that has sub-benchmarks is shown only with -v.
func sideBySide(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

// peerDatasetTypeID: createPeer registers one dataset type, which SQLite
// numbers 1.
const peerDatasetTypeID = 1

func sizeLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
