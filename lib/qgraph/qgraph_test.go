package qgraph_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/examples/pipelines"
	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/qgraph/qgraphtest"
	"github.com/skybutler/skybutler/lib/registry"
)

var ctx = context.Background()

const calib = "SPHEREx/calib"

var inputs = []string{qgraphtest.RawRun, calib}

// repo makes a repository with the given synthetic data (one CALIBRATION
// collection of darks, "SPHEREx/calib", unless the spec has its own).
func repo(t *testing.T, spec qgraphtest.Spec) (*butler.Butler, *qgraphtest.Info) {
	t.Helper()
	b, err := butler.Create(ctx, t.TempDir(), butler.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Calibs == nil {
		spec.Calibs = []qgraphtest.Calib{{Collection: calib}}
	}
	info, err := qgraphtest.Populate(ctx, b, spec)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

// spherex is the example pipeline of examples/pipelines.
func spherex(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	if err := pipelines.Register(); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.LoadFS(pipelines.Files, pipelines.SpherexPipeline)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// parse reads a pipeline from YAML text.
func parse(t *testing.T, text string) *pipeline.Pipeline {
	t.Helper()
	if err := pipelines.Register(); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func build(t *testing.T, b *butler.Butler, o qgraph.Options) *qgraph.Graph {
	t.Helper()
	g, err := qgraph.Build(ctx, b, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func quanta(t *testing.T, g *qgraph.Graph) []qgraph.Quantum {
	t.Helper()
	qs, err := g.Quanta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// datasets returns every dataset spec of the graph's batches.
func datasets(t *testing.T, g *qgraph.Graph) map[string]qgraph.DatasetSpec {
	t.Helper()
	out := map[string]qgraph.DatasetSpec{}
	for i := range g.NumBatches() {
		b, err := g.Batch(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		for id, d := range b.Datasets {
			out[id] = d
		}
	}
	return out
}

func byTask(qs []qgraph.Quantum) map[string][]qgraph.Quantum {
	out := map[string][]qgraph.Quantum{}
	for _, q := range qs {
		out[q.Task] = append(out[q.Task], q)
	}
	return out
}

// key is a data ID as text, for matching quanta and datasets.
func key(id map[string]any, dims ...string) string {
	var parts []string
	for _, d := range dims {
		parts = append(parts, fmt.Sprintf("%s=%v", d, id[d]))
	}
	return strings.Join(parts, ",")
}

func TestTheExamplePipelinePlansIsrAndMeasurePerDetectorAndSummarizePerExposure(t *testing.T) {
	tests := []struct {
		name    string
		spec    qgraphtest.Spec
		dets    int // detectors in all
		expos   int
		fanIn   []int // sourceTable inputs per summarize quantum, sorted
		quantaN int
	}{
		{"one exposure of six detectors", qgraphtest.Spec{Exposures: 1}, 6, 1, []int{6}, 13},
		{"three exposures of six detectors", qgraphtest.Spec{Exposures: 3}, 18, 3, []int{6, 6, 6}, 39},
		{"two full exposures and one of two detectors", qgraphtest.Spec{Exposures: 2, Partial: []int{2}}, 14, 3, []int{2, 6, 6}, 31},
	}
	p := spherex(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := repo(t, tc.spec)
			g := build(t, b, qgraph.Options{Pipeline: p, Inputs: inputs, Output: "u/test/out"})
			h := g.Header
			if h.Quanta != tc.quantaN || h.Waves != 3 {
				t.Fatalf("%d quanta in %d waves, want %d in 3", h.Quanta, h.Waves, tc.quantaN)
			}
			want := []qgraph.TaskSum{{Label: "isr", Class: pipelines.IsrClass, Quanta: tc.dets},
				{Label: "measure", Class: pipelines.MeasureClass, Quanta: tc.dets},
				{Label: "summarize", Class: pipelines.SummarizeClass, Quanta: tc.expos}}
			if !slices.EqualFunc(h.TaskQuanta, want, func(a, b qgraph.TaskSum) bool {
				return a.Label == b.Label && a.Class == b.Class && a.Quanta == b.Quanta && a.Config != nil
			}) {
				t.Fatalf("tasks %+v, want %+v (with configs)", h.TaskQuanta, want)
			}
			qs := quanta(t, g)
			ds := datasets(t, g)
			tasks := byTask(qs)
			// isr: one raw, one dark, three outputs; wave 0; no upstream.
			isrOut := map[string]string{} // postISRCCD ID -> isr quantum
			for _, q := range tasks["isr"] {
				if q.Wave != 0 || len(q.Upstream) != 0 || len(q.Inputs["raw"]) != 1 || len(q.Prerequisites["dark"]) != 1 {
					t.Fatalf("isr quantum %+v", q)
				}
				raw := ds[q.Inputs["raw"][0]]
				if raw.File == nil || key(raw.DataID, "exposure", "detector") != key(q.DataID, "exposure", "detector") {
					t.Fatalf("isr %v reads raw %+v", q.DataID, raw)
				}
				if dark := ds[q.Prerequisites["dark"][0]]; dark.DatasetType != "dark" || dark.DataID["detector"] != q.DataID["detector"] || dark.File == nil {
					t.Fatalf("isr %v reads dark %+v", q.DataID, dark)
				}
				for _, conn := range []string{"postISRCCD", "_metadata", "_log"} {
					if len(q.Outputs[conn]) != 1 {
						t.Fatalf("isr %v outputs %v", q.DataID, q.Outputs)
					}
					out := ds[q.Outputs[conn][0]]
					if out.Producer != q.ID || out.Run != h.OutputRun || out.URI == "" || out.File != nil {
						t.Fatalf("isr output %+v", out)
					}
				}
				isrOut[q.Outputs["postISRCCD"][0]] = q.ID
			}
			// measure: reads the postISRCCD of the isr quantum of its data ID.
			measureOut := map[string]string{}
			for _, q := range tasks["measure"] {
				in := q.Inputs["exposure"]
				if q.Wave != 1 || len(in) != 1 || len(q.Upstream) != 1 || isrOut[in[0]] != q.Upstream[0] {
					t.Fatalf("measure quantum %+v", q)
				}
				if key(ds[in[0]].DataID, "exposure", "detector") != key(q.DataID, "exposure", "detector") {
					t.Fatalf("measure %v reads %v", q.DataID, ds[in[0]].DataID)
				}
				measureOut[q.Outputs["sources"][0]] = q.ID
			}
			// summarize: the sourceTable of every detector of its exposure.
			var fanIn []int
			for _, q := range tasks["summarize"] {
				in := q.Inputs["sources"]
				fanIn = append(fanIn, len(in))
				if q.Wave != 2 || len(q.Upstream) != len(in) {
					t.Fatalf("summarize quantum %+v", q)
				}
				if _, ok := q.DataID["detector"]; ok {
					t.Fatalf("summarize data ID %v has a detector", q.DataID)
				}
				var dets []int64
				for i, id := range in {
					if measureOut[id] != q.Upstream[i] || ds[id].DataID["exposure"] != q.DataID["exposure"] {
						t.Fatalf("summarize %v input %d: %+v", q.DataID, i, ds[id])
					}
					dets = append(dets, ds[id].DataID["detector"].(int64))
				}
				if !slices.IsSorted(dets) {
					t.Fatalf("summarize inputs not in detector order: %v", dets)
				}
			}
			slices.Sort(fanIn)
			if !slices.Equal(fanIn, tc.fanIn) {
				t.Fatalf("summarize fan-in %v, want %v", fanIn, tc.fanIn)
			}
		})
	}
}

func TestChangingOnlyTheCalibrationCollectionSwitchesTheDarks(t *testing.T) {
	b, info := repo(t, qgraphtest.Spec{Exposures: 4, Calibs: []qgraphtest.Calib{
		{Collection: "SPHEREx/calib/2025"}, {Collection: "SPHEREx/calib/2026", Epochs: 2}}})
	p := spherex(t)
	darksOf := func(coll string) (map[string]bool, []qgraph.Quantum) {
		g := build(t, b, qgraph.Options{Pipeline: p, Inputs: []string{qgraphtest.RawRun, coll}, OutputRun: "u/test/" + strings.ReplaceAll(coll, "/", "_")})
		used := map[string]bool{}
		qs := quanta(t, g)
		for _, q := range qs {
			for _, id := range q.Prerequisites["dark"] {
				used[id] = true
			}
		}
		return used, qs
	}
	certified := func(coll string) map[string]bool {
		out := map[string]bool{}
		for _, r := range info.Darks[coll] {
			out[r.ID] = true
		}
		return out
	}
	a, qa := darksOf("SPHEREx/calib/2025")
	bb, qb := darksOf("SPHEREx/calib/2026")
	if len(a) != 6 || len(bb) != 12 {
		t.Fatalf("%d darks from 2025 (want 6), %d from 2026 (want 12: two epochs)", len(a), len(bb))
	}
	for id := range a {
		if !certified("SPHEREx/calib/2025")[id] || bb[id] {
			t.Fatalf("dark %s: not from the 2025 collection or also planned from 2026", id)
		}
	}
	for id := range bb {
		if !certified("SPHEREx/calib/2026")[id] {
			t.Fatalf("dark %s is not from the 2026 collection", id)
		}
	}
	// Nothing else changed: the same quanta reading the same raws.
	rawsOf := func(qs []qgraph.Quantum) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.Task+key(q.DataID, "exposure", "detector")+strings.Join(q.Inputs["raw"], ","))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(rawsOf(qa), rawsOf(qb)) {
		t.Fatal("switching the calibration collection changed more than the darks")
	}
	// Each epoch's dark serves the exposures of its validity range.
	g := build(t, b, qgraph.Options{Pipeline: p, Inputs: []string{qgraphtest.RawRun, "SPHEREx/calib/2026"}, OutputRun: "u/test/epochs"})
	ds := datasets(t, g)
	perDark := map[string][]int64{}
	for _, q := range quanta(t, g) {
		if q.Task == "isr" && q.DataID["detector"] == int64(1) {
			d := q.Prerequisites["dark"][0]
			perDark[ds[d].Run] = append(perDark[ds[d].Run], q.DataID["exposure"].(int64))
		}
	}
	if len(perDark["SPHEREx/calib/2026/run0"]) != 2 || len(perDark["SPHEREx/calib/2026/run1"]) != 2 {
		t.Fatalf("exposures per dark epoch: %v", perDark)
	}
}

func TestAMissingDarkIsAnErrorListingTheDataIDsWithoutOne(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// Darks valid until the third exposure begins (exposures start every 2 minutes).
	b, info := repo(t, qgraphtest.Spec{Exposures: 5, Start: start, Calibs: []qgraphtest.Calib{
		{Collection: calib, Begin: start.Add(-time.Hour), End: start.Add(4 * time.Minute)}}})
	_, err := qgraph.Build(ctx, b, qgraph.Options{Pipeline: spherex(t), Inputs: inputs, Output: "u/test/out"})
	if !errors.Is(err, qgraph.ErrMissingPrerequisite) {
		t.Fatalf("error %v, want ErrMissingPrerequisite", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "for 18 quanta") || !strings.Contains(msg, "dark") {
		t.Fatalf("error %q does not count the 18 quanta (3 exposures x 6 detectors) without a dark", msg)
	}
	for _, e := range info.Exposures[2:] {
		if !strings.Contains(msg, fmt.Sprintf("exposure: %d", e)) {
			t.Fatalf("error %q does not name exposure %d", msg, e)
		}
	}
	for _, e := range info.Exposures[:2] {
		if strings.Contains(msg, fmt.Sprintf("exposure: %d", e)) {
			t.Fatalf("error %q names exposure %d, which has a dark", msg, e)
		}
	}
	// A data query leaving out the exposures without darks plans fine.
	g := build(t, b, qgraph.Options{Pipeline: spherex(t), Inputs: inputs, Output: "u/test/out",
		DataQuery: "exposure IN (e1, e2)", Bind: map[string]any{"e1": info.Exposures[0], "e2": info.Exposures[1]}})
	if g.Header.Quanta != 26 {
		t.Fatalf("%d quanta, want 26", g.Header.Quanta)
	}
}

func TestTheDataQueryConstrainsTheQuanta(t *testing.T) {
	b, info := repo(t, qgraphtest.Spec{Exposures: 10, FlatEvery: 5})
	p := spherex(t)
	tests := []struct {
		name  string
		query string
		bind  map[string]any
		isr   int
		summ  int
		err   string
	}{
		{"no query plans everything", "", nil, 60, 10, ""},
		{"a detector range", "detector IN (1..3)", nil, 30, 10, ""},
		{"one exposure", fmt.Sprintf("exposure = %d", info.Exposures[3]), nil, 6, 1, ""},
		{"a bound list of exposures", "exposure IN (e) AND detector = 6", map[string]any{"e": info.Exposures[:4]}, 4, 4, ""},
		{"a record field", "exposure.observation_type = 'science'", nil, 48, 8, ""},
		{"an implied dimension", "band = 'spx' AND physical_filter = 'SPHEREx-LVF'", nil, 60, 10, ""},
		{"an implied dimension's record", "physical_filter.band = 'spx'", nil, 60, 10, ""},
		{"a time constraint", fmt.Sprintf("exposure.timespan_begin < T'%s'", info.Begin.Add(5*time.Minute).Format("2006-01-02T15:04:05")), nil, 18, 3, ""},
		{"the instrument", "instrument = 'SPHEREx'", nil, 60, 10, ""},
		{"nothing matches", "detector = 9", nil, 0, 0, "empty quantum graph"},
		{"a dimension the pipeline lacks", "visit = 1", nil, 0, 0, `dimension "visit" is not one of the pipeline's dimensions`},
		{"an unknown dimension", "detectr = 1", nil, 0, 0, `unknown dimension "detectr"`},
		{"an unknown field", "exposure.colour = 'red'", nil, 0, 0, `exposure has no field "colour"`},
		{"a syntax error", "detector IN (1,", nil, 0, 0, "data query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := qgraph.Build(ctx, b, qgraph.Options{Pipeline: p, Inputs: inputs, Output: "u/test/out", DataQuery: tc.query, Bind: tc.bind})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := g.Header.TaskQuanta
			if got[0].Quanta != tc.isr || got[1].Quanta != tc.isr || got[2].Quanta != tc.summ {
				t.Fatalf("quanta %+v, want isr/measure %d, summarize %d", got, tc.isr, tc.summ)
			}
			if g.Header.DataQuery != tc.query {
				t.Fatalf("header data query %q", g.Header.DataQuery)
			}
		})
	}
}

// insertOutputs registers existing outputs of the example pipeline in a
// run, as if some quanta had run.
func insertOutputs(t *testing.T, b *butler.Butler, run string, types []string, exposures []int64, dets []int) {
	t.Helper()
	var refs []registry.DatasetRef
	var files []registry.FileRecord
	for _, typ := range types {
		for _, e := range exposures {
			for _, d := range dets {
				id := registry.NewDatasetID()
				dataID := map[string]any{"instrument": qgraphtest.Instrument, "exposure": e, "detector": int64(d)}
				if typ == "exposureSummary" || strings.HasPrefix(typ, "summarize_") {
					delete(dataID, "detector")
				}
				refs = append(refs, registry.DatasetRef{ID: id, DatasetType: typ, Run: run, DataID: dataID})
				files = append(files, registry.FileRecord{DatasetID: id, URI: fmt.Sprintf("%s/%s/%d_%d", run, typ, e, d), Formatter: "json",
					StorageClass: "StructuredDataDict", Size: 2, Checksum: "x"})
			}
		}
	}
	if _, err := b.Registry.Commit(ctx, "test-outputs", func(tx *registry.Tx) error {
		_, err := registry.InsertDatasets(tx, refs, files, registry.InsertOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSkipExistingInDropsTheQuantaWhoseOutputsAllExist(t *testing.T) {
	b, info := repo(t, qgraphtest.Spec{Exposures: 3})
	p := spherex(t)
	h, err := qgraph.Plan(ctx, b, qgraph.Options{Pipeline: p, Inputs: inputs, Output: "u/test/out"})
	if err != nil {
		t.Fatal(err)
	}
	run := h.OutputRun
	// Exposure 1: isr done for every detector; exposure 2: isr wrote
	// postISRCCD but not its metadata for detector 1 (not done).
	insertOutputs(t, b, run, []string{"postISRCCD", "isr_metadata", "isr_log"}, info.Exposures[:1], []int{1, 2, 3, 4, 5, 6})
	insertOutputs(t, b, run, []string{"postISRCCD"}, info.Exposures[1:2], []int{1})
	base := qgraph.Options{Pipeline: p, Inputs: inputs, Output: "u/test/out", ExtendRun: true}
	// Extending the run without skipping: the existing outputs are refused.
	if _, err := qgraph.Build(ctx, b, base); !errors.Is(err, qgraph.ErrOutputExists) || !strings.Contains(err.Error(), run) {
		t.Fatalf("error %v, want ErrOutputExists naming the run", err)
	}
	// Skipping in another collection that holds nothing changes nothing.
	o := base
	o.ExtendRun, o.Output, o.OutputRun = false, "", "u/test/other"
	o.SkipExistingIn = []string{qgraphtest.RawRun}
	if g := build(t, b, o); g.Header.Quanta != 39 || g.Header.SkipExisted != 0 {
		t.Fatalf("%d quanta, %d skipped", g.Header.Quanta, g.Header.SkipExisted)
	}
	// The done quanta are skipped; exposure 2's partial isr is planned again
	// (and then collides with the partial output in the extended run).
	o = base
	o.SkipExistingIn = []string{run}
	_, err = qgraph.Build(ctx, b, o)
	if !errors.Is(err, qgraph.ErrOutputExists) || !strings.Contains(err.Error(), fmt.Sprint(info.Exposures[1])) {
		t.Fatalf("error %v, want ErrOutputExists for exposure %d", err, info.Exposures[1])
	}
	// Into a new run, skipping what exists in the old one.
	o = qgraph.Options{Pipeline: p, Inputs: inputs, OutputRun: "u/test/rerun", SkipExistingIn: []string{run}}
	g := build(t, b, o)
	if g.Header.SkipExisted != 6 || g.Header.TaskQuanta[0].Quanta != 12 || g.Header.TaskQuanta[1].Quanta != 18 {
		t.Fatalf("header %+v: want 6 isr quanta skipped, 12 isr and 18 measure planned", g.Header)
	}
	ds := datasets(t, g)
	for _, q := range quanta(t, g) {
		if q.Task != "measure" || q.DataID["exposure"] != info.Exposures[0] {
			continue
		}
		in := ds[q.Inputs["exposure"][0]]
		if in.Run != run || in.File == nil || in.Producer != "" || len(q.Upstream) != 0 || q.Wave != 0 {
			t.Fatalf("measure %v reads %+v (upstream %v, wave %d), want the existing postISRCCD of %s", q.DataID, in, q.Upstream, q.Wave, run)
		}
	}
	// Everything skipped: an empty graph.
	all := []int{1, 2, 3, 4, 5, 6}
	insertOutputs(t, b, run, []string{"postISRCCD"}, info.Exposures[1:2], all[1:])
	insertOutputs(t, b, run, []string{"postISRCCD"}, info.Exposures[2:], all)
	insertOutputs(t, b, run, []string{"isr_metadata", "isr_log", "sourceTable", "measure_metadata", "measure_log"}, info.Exposures[1:], all)
	insertOutputs(t, b, run, []string{"sourceTable", "measure_metadata", "measure_log"}, info.Exposures[:1], all)
	insertOutputs(t, b, run, []string{"exposureSummary", "summarize_metadata", "summarize_log"}, info.Exposures, []int{0})
	if _, err := qgraph.Build(ctx, b, o); !errors.Is(err, qgraph.ErrEmptyGraph) || !strings.Contains(err.Error(), "all 39 quanta were skipped") {
		t.Fatalf("error %v, want ErrEmptyGraph", err)
	}
}

func TestWavesAndBatchSizes(t *testing.T) {
	b, _ := repo(t, qgraphtest.Spec{Exposures: 5})
	p := spherex(t)
	tests := []struct {
		name    string
		size    int
		perTask map[string]int
		want    map[string][]int // label -> quanta per batch
	}{
		{"the default size holds each task in one batch", 0, nil, map[string][]int{"isr": {30}, "measure": {30}, "summarize": {5}}},
		{"a batch size splits every task", 8, nil, map[string][]int{"isr": {8, 8, 8, 6}, "measure": {8, 8, 8, 6}, "summarize": {5}}},
		{"a per-task size overrides it", 8, map[string]int{"measure": 30, "summarize": 2}, map[string][]int{"isr": {8, 8, 8, 6}, "measure": {30}, "summarize": {2, 2, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, b, qgraph.Options{Pipeline: p, Inputs: inputs, OutputRun: "u/test/batches", BatchSize: tc.size, TaskBatchSize: tc.perTask})
			if len(g.Waves) != 3 || g.Header.Waves != 3 {
				t.Fatalf("%d waves", len(g.Waves))
			}
			got := map[string][]int{}
			n := 0
			for w, items := range g.Waves {
				for _, it := range items {
					bt, err := g.Batch(ctx, n)
					if err != nil {
						t.Fatal(err)
					}
					n++
					if it.Wave != w || bt.Wave != w || bt.Batch != it.Batch || len(bt.Quanta) != it.Quanta || it.Key != qgraph.BatchKey(g.Header.GraphID, it.Batch) {
						t.Fatalf("wave %d item %+v, batch %s wave %d with %d quanta", w, it, bt.Batch, bt.Wave, len(bt.Quanta))
					}
					label := bt.Quanta[0].Task
					wantWave := map[string]int{"isr": 0, "measure": 1, "summarize": 2}[label]
					for _, q := range bt.Quanta {
						if q.Task != label || q.Wave != wantWave {
							t.Fatalf("batch %s mixes %s (wave %d) with %s", bt.Batch, q.Task, q.Wave, label)
						}
					}
					if _, ok := bt.Tasks[label]; !ok || len(bt.Tasks) != 1 {
						t.Fatalf("batch %s tasks %v", bt.Batch, bt.Tasks)
					}
					got[label] = append(got[label], len(bt.Quanta))
				}
			}
			if n != g.Header.Batches || n != g.NumBatches() {
				t.Fatalf("%d batches listed, header says %d", n, g.Header.Batches)
			}
			for label, sizes := range tc.want {
				if !slices.Equal(got[label], sizes) {
					t.Fatalf("%s batches %v, want %v", label, got[label], sizes)
				}
			}
		})
	}
	if _, err := qgraph.Build(ctx, b, qgraph.Options{Pipeline: p, Inputs: inputs, OutputRun: "x", TaskBatchSize: map[string]int{"nope": 3}}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("a batch size for an unknown task: %v", err)
	}
}

func TestOutputCollectionsFollowPipetasksRules(t *testing.T) {
	b, _ := repo(t, qgraphtest.Spec{Exposures: 1})
	p := spherex(t)
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	plan := func(o qgraph.Options) (*qgraph.Header, error) {
		o.Pipeline = p
		if o.Now.IsZero() {
			o.Now = now
		}
		return qgraph.Plan(ctx, b, o)
	}
	chain := func(name string) []string {
		snap, err := b.Registry.Refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := snap.Collection(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return c.Children
	}
	// A new output: a CHAINED collection [run, inputs...], the run named by time.
	h, err := plan(qgraph.Options{Inputs: inputs, Output: "u/alice/out"})
	if err != nil {
		t.Fatal(err)
	}
	run1 := "u/alice/out/20260401T120000Z"
	if h.OutputRun != run1 || !slices.Equal(chain("u/alice/out"), []string{run1, qgraphtest.RawRun, calib}) {
		t.Fatalf("run %s, chain %v", h.OutputRun, chain("u/alice/out"))
	}
	snap, _ := b.Registry.Refresh(ctx)
	for _, dt := range []string{"postISRCCD", "sourceTable", "exposureSummary", "isr_config", "isr_metadata", "isr_log", "summarize_log"} {
		if _, err := snap.DatasetType(ctx, dt); err != nil {
			t.Fatalf("dataset type %s not registered: %v", dt, err)
		}
	}
	// Planning again into the same output prepends a new run.
	h2, err := plan(qgraph.Options{Inputs: inputs, Output: "u/alice/out", Now: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	run2 := "u/alice/out/20260401T130000Z"
	if h2.OutputRun != run2 || !slices.Equal(chain("u/alice/out"), []string{run2, run1, qgraphtest.RawRun, calib}) {
		t.Fatalf("second plan: run %s, chain %v", h2.OutputRun, chain("u/alice/out"))
	}
	// Without -i, the existing chain is the input.
	h3, err := plan(qgraph.Options{Output: "u/alice/out", Now: now.Add(2 * time.Hour)})
	if err != nil || h3.Quanta != 13 {
		t.Fatalf("plan from the chain alone: %v %+v", err, h3)
	}
	run3 := "u/alice/out/20260401T140000Z"
	// --replace-run drops the newest run from the chain; --prune-replaced purge removes it.
	h4, err := plan(qgraph.Options{Output: "u/alice/out", ReplaceRun: true, PruneReplaced: "purge", Now: now.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	run4 := "u/alice/out/20260401T150000Z"
	if h4.OutputRun != run4 || !slices.Equal(chain("u/alice/out"), []string{run4, run2, run1, qgraphtest.RawRun, calib}) {
		t.Fatalf("replace-run: chain %v", chain("u/alice/out"))
	}
	snap, _ = b.Registry.Refresh(ctx)
	if _, err := snap.Collection(ctx, run3); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("the replaced run %s still exists: %v", run3, err)
	}
	// --extend-run with -o extends the chain's first run.
	h5, err := plan(qgraph.Options{Output: "u/alice/out", ExtendRun: true, DataQuery: "detector = 1"})
	if err != nil || h5.OutputRun != run4 {
		t.Fatalf("extend-run: %v, run %v", err, h5)
	}
	if _, err := b.Registry.RegisterCollections(ctx, registry.Collection{Name: "a/run", Type: registry.Run}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    qgraph.Options
		want string
	}{
		{"no output at all", qgraph.Options{Inputs: inputs}, "give --output or --output-run"},
		{"an existing output run without --extend-run", qgraph.Options{Inputs: inputs, OutputRun: "a/run"}, `output run "a/run" already exists, but --extend-run was not given`},
		{"--extend-run of a run that does not exist", qgraph.Options{Inputs: inputs, OutputRun: "b/run", ExtendRun: true}, `cannot --extend-run: output run "b/run" does not exist`},
		{"--extend-run with a new output chain", qgraph.Options{Inputs: inputs, Output: "u/bob/new", ExtendRun: true}, "cannot use --extend-run with a non-existing or empty output chain"},
		{"--replace-run without --output", qgraph.Options{Inputs: inputs, OutputRun: "c/run", ReplaceRun: true}, "--output must point to an existing CHAINED collection for --replace-run"},
		{"--replace-run with a new output", qgraph.Options{Inputs: inputs, Output: "u/bob/new", ReplaceRun: true}, "--output must point to an existing CHAINED collection for --replace-run"},
		{"--prune-replaced without --replace-run", qgraph.Options{Inputs: inputs, Output: "u/alice/out", PruneReplaced: "purge"}, "--prune-replaced requires --replace-run"},
		{"--prune-replaced with an unknown mode", qgraph.Options{Inputs: inputs, Output: "u/alice/out", ReplaceRun: true, PruneReplaced: "shred"}, `--prune-replaced "shred": want unstore or purge`},
		{"--extend-run with --replace-run", qgraph.Options{Inputs: inputs, Output: "u/alice/out", ExtendRun: true, ReplaceRun: true}, "cannot be used together"},
		{"inputs that differ from the existing chain's", qgraph.Options{Inputs: []string{calib, qgraphtest.RawRun}, Output: "u/alice/out"}, "does not include the same sequence of (flattened) input collections"},
		{"an output that is not CHAINED", qgraph.Options{Inputs: inputs, Output: "a/run"}, `output collection "a/run" exists but has type RUN, not CHAINED`},
		{"an output run that is not a RUN", qgraph.Options{Inputs: inputs, OutputRun: calib}, `output run "SPHEREx/calib" exists but has type CALIBRATION, not RUN`},
		{"an unknown input collection", qgraph.Options{Inputs: []string{"nope"}, Output: "u/bob/x"}, `collection "nope"`},
		{"no inputs", qgraph.Options{Output: "u/bob/x"}, "no input collections"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := b.Registry.Refresh(ctx)
			tc.o.Now = now.Add(100 * time.Hour)
			_, err := plan(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if after, _ := b.Registry.Refresh(ctx); after.Version != before.Version {
				t.Fatalf("a refused plan committed (version %d -> %d)", before.Version, after.Version)
			}
		})
	}
	// --prune-replaced unstore keeps the replaced run's datasets but not their files.
	insertOutputs(t, b, run4, []string{"postISRCCD"}, []int64{snapExposure(t, b)}, []int{1, 2})
	h6, err := plan(qgraph.Options{Output: "u/alice/out", ReplaceRun: true, PruneReplaced: "unstore", Now: now.Add(4 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if c := chain("u/alice/out"); c[0] != h6.OutputRun || slices.Contains(c, run4) {
		t.Fatalf("chain %v after replacing %s", c, run4)
	}
	snap, _ = b.Registry.Refresh(ctx)
	refs, err := snap.QueryDatasets(ctx, registry.DatasetQuery{DatasetTypes: []string{"postISRCCD"}, Collections: []string{run4}})
	if err != nil || len(refs) != 2 {
		t.Fatalf("%d postISRCCD left in %s (%v), want 2", len(refs), run4, err)
	}
	files, _ := snap.FileRecords(ctx, "postISRCCD")
	for _, r := range refs {
		if len(files[r.ID]) != 0 {
			t.Fatalf("dataset %s of the replaced run still has a file record", r.ID)
		}
	}
}

// snapExposure returns an exposure of the repository.
func snapExposure(t *testing.T, b *butler.Butler) int64 {
	t.Helper()
	recs, err := b.Registry.Current().DimensionRecords(ctx, "exposure")
	if err != nil || len(recs) == 0 {
		t.Fatal(err)
	}
	return recs[0].Values["exposure"].(int64)
}

func TestSavedGraphsLoadBackAndAreImmutable(t *testing.T) {
	b, _ := repo(t, qgraphtest.Spec{Exposures: 2})
	g := build(t, b, qgraph.Options{Pipeline: spherex(t), Inputs: inputs, Output: "u/test/out", BatchSize: 5})
	if err := g.Save(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := g.Save(ctx, b); err != nil {
		t.Fatalf("saving the same graph again: %v", err)
	}
	id := g.Header.GraphID
	h, err := qgraph.LoadHeader(ctx, b.Store, id)
	if err != nil || h.Quanta != 26 || h.Batches != g.Header.Batches {
		t.Fatalf("manifest %+v: %v", h, err)
	}
	loaded, err := qgraph.Load(ctx, b.Store, id)
	if err != nil {
		t.Fatal(err)
	}
	want, got := quanta(t, g), quanta(t, loaded)
	if len(got) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded quanta differ:\n%v\n%v", got, want)
	}
	for w, items := range g.Waves {
		for _, it := range items {
			bt, err := qgraph.LoadBatch(ctx, b.Store, it.Key)
			if err != nil {
				t.Fatal(err)
			}
			if bt.GraphID != id || bt.Wave != w || len(bt.Quanta) != it.Quanta || bt.OutputRun != g.Header.OutputRun {
				t.Fatalf("batch %s: %+v", it.Key, bt)
			}
			// Self-contained: every referenced dataset is in the batch.
			for _, q := range bt.Quanta {
				for _, m := range []map[string][]string{q.Inputs, q.Prerequisites, q.Outputs} {
					for _, ids := range m {
						for _, d := range ids {
							if _, ok := bt.Datasets[d]; !ok {
								t.Fatalf("batch %s: quantum %s names dataset %s it does not hold", it.Batch, q.ID, d)
							}
						}
					}
				}
			}
		}
	}
	// WriteGraph and ReadGraph agree with the stored whole graph.
	path := filepath.Join(t.TempDir(), "g.qgraph")
	f, _ := os.Create(path)
	if err := g.WriteGraph(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, _ = os.Open(path)
	defer f.Close()
	again, err := qgraph.ReadGraph(f)
	if err != nil || again.Header.GraphID != id || len(quanta(t, again)) != 26 {
		t.Fatalf("read graph: %v", err)
	}
	// Immutable: another graph object under the same key is refused.
	if _, err := b.Store.Put(ctx, qgraph.ManifestKey(id), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := g.Save(ctx, b); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("overwriting a changed graph: %v", err)
	}
}

func TestTheDotOutputRendersWithGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz dot is not installed (make deps)")
	}
	b, _ := repo(t, qgraphtest.Spec{Exposures: 1})
	g := build(t, b, qgraph.Options{Pipeline: spherex(t), Inputs: inputs, Output: "u/test/out"})
	path := filepath.Join(t.TempDir(), "g.dot")
	f, _ := os.Create(path)
	if err := g.WriteDot(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(dot, "-Tsvg", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dot: %v: %s", err, out)
	}
	svg := string(out)
	// 13 quanta, 6 raws, 6 darks (one per detector), 45 outputs.
	if n := strings.Count(svg, `class="node"`); n != 13+6+6+39 {
		t.Fatalf("%d nodes in the SVG, want 64", n)
	}
	for _, s := range []string{"<svg", "summarize", "sourceTable", "dark"} {
		if !strings.Contains(svg, s) {
			t.Fatalf("the SVG lacks %q", s)
		}
	}
}

func TestPredictedURIsAreTheButlersFilePaths(t *testing.T) {
	templates := []string{
		"", // the default
		"{run:/}/{datasetType}/{exposure:020d}/{datasetType}_{detector:?}",
		"{run:/}/{datasetType}/{exposure:d}/{datasetType}_{detector:?}_{id}",
		"{run}/{datasetType}/{exposure.obs_id}/{detector:?}",
		"{run:/}/{datasetType}/{day_obs}/{group}/{physical_filter}_{band}_{exposure}_{detector:?}",
	}
	for _, tmpl := range templates {
		t.Run(fmt.Sprintf("template %q", tmpl), func(t *testing.T) {
			b, _ := repo(t, qgraphtest.Spec{Exposures: 2})
			b.Config.Datastore.Templates.Default = tmpl
			g := build(t, b, qgraph.Options{Pipeline: spherex(t), Inputs: inputs, Output: "u/test/out"})
			snap := b.Registry.Current()
			seen := map[string]bool{}
			for id, d := range datasets(t, g) {
				if d.Producer == "" {
					continue
				}
				dt := registry.DatasetType{Name: d.DatasetType, StorageClass: d.StorageClass}
				want, err := b.FilePath(snap, dt, registry.DatasetRef{ID: id, DatasetType: d.DatasetType, Run: d.Run, DataID: d.DataID})
				if err != nil {
					t.Fatal(err)
				}
				if ext := filepath.Ext(d.URI); d.URI != want+ext || ext == "" {
					t.Fatalf("%s %v: uri %q, the butler's path %q", d.DatasetType, d.DataID, d.URI, want)
				}
				if seen[d.URI] {
					t.Fatalf("two outputs at %s", d.URI)
				}
				seen[d.URI] = true
			}
			if len(seen) != 26*3 {
				t.Fatalf("%d outputs", len(seen))
			}
		})
	}
}

func TestFanOutToFinerDimensionsComesFromTheDimensionRecords(t *testing.T) {
	b, _ := repo(t, qgraphtest.Spec{Exposures: 2})
	// A per-exposure task (whose raws are optional, so they do not
	// constrain the data IDs), then a per-detector task reading its
	// output: the detectors come from the detector records.
	p := parse(t, `
instrument: SPHEREx
tasks:
  perExposure:
    class: skybutler.examples.NoOpTask
    config:
      dimensions: [instrument, exposure]
      inputs:
        - {name: raws, datasetType: raw, storageClass: ExposureF, dimensions: [instrument, exposure, detector], multiple: true, minimum: 0}
      outputs:
        - {name: background, datasetType: skyBackground, storageClass: StructuredDataDict}
  perDetector:
    class: skybutler.examples.NoOpTask
    config:
      dimensions: [instrument, exposure, detector]
      inputs:
        - {name: background, datasetType: skyBackground, storageClass: StructuredDataDict, dimensions: [instrument, exposure]}
      outputs:
        - {name: corrected, datasetType: corrected, storageClass: StructuredDataDict}
`)
	g := build(t, b, qgraph.Options{Pipeline: p, Inputs: inputs, OutputRun: "u/test/fanout", DataQuery: "detector IN (1..4)"})
	if got := g.Header.TaskQuanta; got[0].Quanta != 2 || got[1].Quanta != 8 {
		t.Fatalf("quanta %+v, want 2 per exposure and 8 per detector", got)
	}
	for _, q := range quanta(t, g) {
		if q.Task == "perExposure" && len(q.Inputs["raws"]) != 4 {
			t.Fatalf("perExposure reads %d raws, want 4 (the data query)", len(q.Inputs["raws"]))
		}
		if q.Task == "perDetector" && (len(q.Inputs["background"]) != 1 || len(q.Upstream) != 1 || q.Wave != 1) {
			t.Fatalf("perDetector %+v", q)
		}
	}
}

func TestPrerequisitesAreFoundByTheQuantumsImpliedDimensions(t *testing.T) {
	b, _ := repo(t, qgraphtest.Spec{Exposures: 2})
	// Flats per (physical_filter, detector): the exposures' filter is
	// SPHEREx-LVF, implied by the exposure; flats of another filter must
	// not be picked.
	if _, err := b.Registry.RegisterDatasetTypes(ctx, registry.DatasetType{Name: "flat", Dimensions: []string{"instrument", "physical_filter", "detector"},
		StorageClass: "ImageF", IsCalibration: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Registry.RegisterCollections(ctx, registry.Collection{Name: "flats/run", Type: registry.Run},
		registry.Collection{Name: "SPHEREx/flats", Type: registry.Calibration}); err != nil {
		t.Fatal(err)
	}
	var refs []registry.DatasetRef
	var files []registry.FileRecord
	for _, filter := range []string{"SPHEREx-LVF", "SPHEREx-D1"} {
		for det := 1; det <= 6; det++ {
			id := registry.NewDatasetID()
			refs = append(refs, registry.DatasetRef{ID: id, DatasetType: "flat", Run: "flats/run",
				DataID: map[string]any{"instrument": qgraphtest.Instrument, "physical_filter": filter, "detector": int64(det)}})
			files = append(files, registry.FileRecord{DatasetID: id, URI: fmt.Sprintf("flats/%s_%d.fits", filter, det), Formatter: "fits", StorageClass: "ImageF", Size: 1, Checksum: "x"})
		}
	}
	var inserted []registry.DatasetRef
	if _, err := b.Registry.Commit(ctx, "flats", func(tx *registry.Tx) error {
		var err error
		inserted, err = registry.InsertDatasets(tx, refs, files, registry.InsertOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Registry.Commit(ctx, "certify", func(tx *registry.Tx) error {
		_, err := registry.Certify(tx, "SPHEREx/flats", inserted, dimensionsTimespanAll())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p := parse(t, `
tasks:
  flatten:
    class: skybutler.examples.NoOpTask
    config:
      dimensions: [instrument, exposure, detector]
      inputs:
        - {name: raw, storageClass: ExposureF}
        - {name: flat, storageClass: ImageF, dimensions: [instrument, physical_filter, detector], prerequisite: true, isCalibration: true}
      outputs:
        - {name: flattened, storageClass: ExposureF}
`)
	g := build(t, b, qgraph.Options{Pipeline: p, Inputs: []string{qgraphtest.RawRun, "SPHEREx/flats"}, OutputRun: "u/test/flats"})
	ds := datasets(t, g)
	qs := quanta(t, g)
	if len(qs) != 12 {
		t.Fatalf("%d quanta", len(qs))
	}
	for _, q := range qs {
		flat := ds[q.Prerequisites["flat"][0]]
		if flat.DataID["physical_filter"] != "SPHEREx-LVF" || flat.DataID["detector"] != q.DataID["detector"] || q.DataID["physical_filter"] != "SPHEREx-LVF" {
			t.Fatalf("quantum %v got flat %v", q.DataID, flat.DataID)
		}
	}
}

// dimensionsTimespanAll is a validity range covering all time.
func dimensionsTimespanAll() dimensions.Timespan {
	return dimensions.Timespan{Begin: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
}
