package pipelines

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/examples/synth"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/pipeline/pipelinetest"
)

func TestMain(m *testing.M) {
	if err := Register(); err != nil {
		panic(err)
	}
	if err := Register(); err != nil { // a second call is harmless
		panic(err)
	}
	os.Exit(m.Run())
}

func loadSpherex(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.LoadFS(Files, SpherexPipeline)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(dimensions.Default()); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpherexPipelineLoads(t *testing.T) {
	p := loadSpherex(t)
	if got := p.Labels(); !slices.Equal(got, []string{"isr", "measure", "summarize"}) {
		t.Errorf("labels = %v", got)
	}
	if p.Instrument != "SPHEREx" || len(p.Contracts) != 2 || !slices.Equal(p.Subsets["step1"], []string{"isr", "measure"}) {
		t.Errorf("instrument %q, %d contracts, subsets %v", p.Instrument, len(p.Contracts), p.Subsets)
	}
	inputs, prereqs, inter, outputs, initOut, err := p.DatasetTypes()
	if err != nil {
		t.Fatal(err)
	}
	name := func(ns []pipeline.DatasetTypeNode) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Name)
		}
		return out
	}
	if !slices.Equal(name(inputs), []string{"raw"}) || !slices.Equal(name(prereqs), []string{"dark"}) ||
		!slices.Equal(name(inter), []string{"postISRCCD", "sourceTable"}) || len(initOut) != 3 ||
		!slices.Contains(name(outputs), "exposureSummary") {
		t.Errorf("dataset types: %v %v %v %v %v", name(inputs), name(prereqs), name(inter), name(outputs), name(initOut))
	}
	if !prereqs[0].IsCalibration || !slices.Equal(prereqs[0].Dimensions, []string{"instrument", "detector"}) {
		t.Errorf("dark = %+v", prereqs[0])
	}
	if s := outputs[0]; s.Name != "exposureSummary" || !slices.Equal(s.Dimensions, []string{"instrument", "exposure"}) || s.StorageClass != "ArrowTable" {
		t.Errorf("exposureSummary = %+v", s)
	}
	if ref, err := pipeline.Load("spherex.yaml#step1"); err != nil || !slices.Equal(ref.Labels(), []string{"isr", "measure"}) {
		t.Errorf("step1 from disk: %v, %v", ref, err)
	}
	if _, err := p.Override("isr", "doDark", false); !errors.Is(err, pipeline.ErrContract) {
		t.Errorf("doDark false breaks a contract: %v", err)
	}
	if q, err := p.Override("isr", "darkScale", 0.5); err != nil {
		t.Error(err)
	} else if isr, _ := q.Task("isr"); isr.Config.Float("darkScale") != 0.5 {
		t.Errorf("darkScale = %v", isr.Config["darkScale"])
	}
}

func image(w, h int, pix []float32, header datastore.Header) *datastore.Image {
	return &datastore.Image{Width: w, Height: h, Pixels: pix, Header: header}
}

func runTask(t *testing.T, n *pipeline.TaskNode, b *pipelinetest.Butler) error {
	t.Helper()
	task, err := n.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	return task.Run(context.Background(), b, b.Context(n, t.TempDir()))
}

func TestIsrSubtractsTheScaledDark(t *testing.T) {
	dataID := map[string]any{"instrument": "SPHEREx", "exposure": int64(1), "detector": int64(2)}
	raw := []float32{500, 510, 520, 530, 540, 550}
	dark := []float32{0.5, 1, 2, 0, -1, 10}
	for _, tc := range []struct {
		name      string
		darkScale float64
		doDark    bool
		rawHdr    datastore.Header
		darkHdr   datastore.Header
		factor    float64
	}{
		{name: "without header keywords the dark is subtracted as it is", darkScale: 1, doDark: true, factor: 1},
		{name: "darkScale multiplies the dark", darkScale: 2.5, doDark: true, factor: 2.5},
		{name: "a dark rate in electrons is scaled by DARKTIME and divided by GAIN", darkScale: 1, doDark: true,
			rawHdr:  datastore.Header{{Key: "BUNIT", Value: "adu"}, {Key: "GAIN", Value: 1.5}, {Key: "DARKTIME", Value: 112.0}, {Key: "EXPTIME", Value: 50.0}},
			darkHdr: datastore.Header{{Key: "BUNIT", Value: "electron/s"}}, factor: 112 / 1.5},
		{name: "a dark frame is scaled by the ratio of exposure times", darkScale: 0.5, doDark: true,
			rawHdr: datastore.Header{{Key: "EXPTIME", Value: 30.0}}, darkHdr: datastore.Header{{Key: "EXPTIME", Value: 10.0}}, factor: 1.5},
		{name: "doDark false copies the raw", darkScale: 1, doDark: false, factor: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not the SPHEREx pipeline: its contract requires doDark.
			q, err := pipeline.Parse(fmt.Appendf(nil, "tasks:\n  isr:\n    class: %s\n    config: {doDark: %v, darkScale: %v}\n", IsrClass, tc.doDark, tc.darkScale), "isr.yaml")
			if err != nil {
				t.Fatal(err)
			}
			n, _ := q.Task("isr")
			b := pipelinetest.ForTask(n, dataID)
			b.AddInput("raw", dataID, image(3, 2, slices.Clone(raw), tc.rawHdr))
			if tc.doDark {
				b.AddInput("dark", map[string]any{"instrument": "SPHEREx", "detector": int64(2)}, image(3, 2, slices.Clone(dark), tc.darkHdr))
			} else if _, ok := n.Connection("dark"); ok {
				t.Error("a dark connection without doDark")
			}
			if err := runTask(t, n, b); err != nil {
				t.Fatal(err)
			}
			obj, ok := b.Output("postISRCCD", 0)
			if !ok {
				t.Fatal("no postISRCCD")
			}
			out := obj.(*datastore.Image)
			for i := range raw {
				want := float32(float64(raw[i]) - tc.factor*float64(dark[i]))
				if math.Abs(float64(out.Pixels[i]-want)) > 1e-3 {
					t.Errorf("pixel %d = %v, want %v", i, out.Pixels[i], want)
				}
			}
			if v, _ := out.Header.Bool("ISRDARK"); v != tc.doDark {
				t.Errorf("ISRDARK = %v", v)
			}
			for _, c := range tc.rawHdr {
				if v, _ := out.Header.Get(c.Key); v != c.Value {
					t.Errorf("header %s = %v, want the raw's %v", c.Key, v, c.Value)
				}
			}
		})
	}
}

func TestIsrRejectsADarkOfAnotherSize(t *testing.T) {
	n, _ := loadSpherex(t).Task("isr")
	b := pipelinetest.ForTask(n, map[string]any{"detector": int64(1)})
	b.AddInput("raw", nil, image(2, 2, make([]float32, 4), nil))
	b.AddInput("dark", nil, image(2, 1, make([]float32, 2), nil))
	if err := runTask(t, n, b); err == nil || !contains(err.Error(), "dark is 2x1 but the raw is 2x2") {
		t.Errorf("error = %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// patterned is a 40x32 background: 98, 100 or 102 in a period-5 pattern
// (median 100, 1.4826 x MAD = 2.9652), with two sources added.
func patterned() *datastore.Image {
	img := datastore.NewImage(40, 32)
	steps := []float32{-2, 0, 2, -2, 2}
	for y := range img.Height {
		for x := range img.Width {
			img.Set(x, y, 100+steps[(x+2*y)%5])
		}
	}
	add := func(x, y int, v float32) { img.Set(x, y, img.At(x, y)+v) }
	add(10, 8, 60) // a source with wings above the threshold
	add(9, 8, 20)
	add(11, 8, 20)
	add(10, 7, 20)
	add(10, 9, 20)
	add(30, 25, 40) // a single bright pixel
	return img
}

func TestBackgroundIsTheMedianAndRobustSigma(t *testing.T) {
	bg, sigma := Background(patterned().Pixels)
	if bg != 100 || math.Abs(sigma-2.9652) > 1e-9 {
		t.Errorf("background %v, sigma %v", bg, sigma)
	}
	if bg, sigma := Background([]float32{5, 5, 5, 7}); bg != 5 || math.Abs(sigma-math.Sqrt(1)) > 1e-9 {
		t.Errorf("a flat image falls back to the standard deviation: %v %v", bg, sigma)
	}
}

func TestMeasureFindsPeaksAboveThreshold(t *testing.T) {
	n, _ := loadSpherex(t).Task("measure")
	dataID := map[string]any{"instrument": "SPHEREx", "exposure": int64(1), "detector": int64(3)}
	b := pipelinetest.ForTask(n, dataID)
	img := patterned()
	b.AddInput("exposure", dataID, img)
	if err := runTask(t, n, b); err != nil {
		t.Fatal(err)
	}
	obj, _ := b.Output("sources", 0)
	tab := obj.(*datastore.Table)
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	if tab.NumRows() != 2 {
		t.Fatalf("%d sources, want 2: %+v", tab.NumRows(), tab)
	}
	col := func(name string) any { c, _ := tab.Column(name); return c.Values }
	if !reflect.DeepEqual(col("detector"), []int64{3, 3}) {
		t.Errorf("detector = %v", col("detector"))
	}
	// Flux: the background-subtracted sum over the 5x5 box (radius 2).
	boxFlux := func(cx, cy int) float64 {
		var s float64
		for y := cy - 2; y <= cy+2; y++ {
			for x := cx - 2; x <= cx+2; x++ {
				s += float64(img.At(x, y)) - 100
			}
		}
		return s
	}
	xs, ys, fl, pk := col("x").([]float64), col("y").([]float64), col("flux").([]float64), col("peak").([]float64)
	for i, want := range [][2]int{{10, 8}, {30, 25}} {
		if math.Abs(xs[i]-float64(want[0])) > 0.5 || math.Abs(ys[i]-float64(want[1])) > 0.5 {
			t.Errorf("source %d at (%.2f, %.2f), want near %v", i, xs[i], ys[i], want)
		}
		if f := boxFlux(want[0], want[1]); math.Abs(fl[i]-f) > 1e-6 {
			t.Errorf("source %d flux %v, want %v", i, fl[i], f)
		}
		if p := float64(img.At(want[0], want[1])) - 100; pk[i] != p {
			t.Errorf("source %d peak %v, want %v", i, pk[i], p)
		}
	}
	// A higher threshold keeps only the brighter source.
	q, err := loadSpherex(t).Override("measure", "threshold", 15.0)
	if err != nil {
		t.Fatal(err)
	}
	n2, _ := q.Task("measure")
	b2 := pipelinetest.ForTask(n2, dataID)
	b2.AddInput("exposure", dataID, img)
	if err := runTask(t, n2, b2); err != nil {
		t.Fatal(err)
	}
	if obj, _ := b2.Output("sources", 0); obj.(*datastore.Table).NumRows() != 1 {
		t.Errorf("threshold 15: %d sources, want 1", obj.(*datastore.Table).NumRows())
	}
}

func TestMeasureConfigIsChecked(t *testing.T) {
	p := loadSpherex(t)
	if _, err := p.Override("measure", "radius", -1); !errors.Is(err, pipeline.ErrConfig) {
		t.Errorf("radius -1: %v", err)
	}
	if _, err := p.Override("measure", "threshold", 0); !errors.Is(err, pipeline.ErrConfig) {
		t.Errorf("threshold 0: %v", err)
	}
}

func sourceTable(det int64, fluxes ...float64) *datastore.Table {
	dets := make([]int64, len(fluxes))
	for i := range dets {
		dets[i] = det
	}
	return &datastore.Table{Columns: []datastore.Column{{Name: "detector", Values: dets}, {Name: "flux", Values: append([]float64{}, fluxes...)}}}
}

func TestSummarizeFansInOverDetectors(t *testing.T) {
	n, _ := loadSpherex(t).Task("summarize")
	dataID := map[string]any{"instrument": "SPHEREx", "exposure": int64(20260301_00001)}
	b := pipelinetest.ForTask(n, dataID)
	for _, in := range []struct {
		det int64
		tab *datastore.Table
	}{{2, sourceTable(2, 10, 20, 60)}, {1, sourceTable(1, 5)}, {3, sourceTable(3)}} {
		b.AddInput("sources", map[string]any{"instrument": "SPHEREx", "exposure": dataID["exposure"], "detector": in.det}, in.tab)
	}
	if err := runTask(t, n, b); err != nil {
		t.Fatal(err)
	}
	obj, _ := b.Output("summary", 0)
	want := &datastore.Table{Columns: []datastore.Column{
		{Name: "detector", Values: []int64{1, 2, 3}},
		{Name: "n_sources", Values: []int64{1, 3, 0}},
		{Name: "mean_flux", Values: []float64{5, 30, 0}},
	}}
	if !reflect.DeepEqual(obj, want) {
		t.Errorf("summary = %+v, want %+v", obj, want)
	}
	empty := pipelinetest.ForTask(n, dataID)
	if err := runTask(t, n, empty); !errors.Is(err, pipeline.ErrNoWork) {
		t.Errorf("no source tables: %v, want no work", err)
	}
}

// TestSpherexChainOnSyntheticData runs isr, measure and summarize on
// synthetic SPHEREx raws and darks: subtracting the dark removes the hot
// pixels that measure would otherwise find.
func TestSpherexChainOnSyntheticData(t *testing.T) {
	dir := t.TempDir()
	opts := synth.Options{Exposures: 1, Detectors: []int{1, 2}, Seed: 7}
	raws, err := synth.GenerateRaws(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	darks, err := synth.GenerateDarks(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	fits, _ := datastore.FormatterFor(datastore.StorageClassExposureF, "")
	read := func(path string) *datastore.Image {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := fits.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*datastore.Image)
	}
	p := loadSpherex(t)
	isr, _ := p.Task("isr")
	measure, _ := p.Task("measure")
	summarize, _ := p.Task("summarize")
	measureOn := func(id map[string]any, img *datastore.Image) *datastore.Table {
		b := pipelinetest.ForTask(measure, id)
		b.AddInput("exposure", id, img)
		if err := runTask(t, measure, b); err != nil {
			t.Fatal(err)
		}
		obj, _ := b.Output("sources", 0)
		return obj.(*datastore.Table)
	}
	expID := map[string]any{"instrument": "SPHEREx", "exposure": raws[0].Exposure}
	sum := pipelinetest.ForTask(summarize, expID)
	var counts []int64
	for i, r := range raws {
		id := map[string]any{"instrument": "SPHEREx", "exposure": r.Exposure, "detector": int64(r.Detector)}
		bi := pipelinetest.ForTask(isr, id)
		bi.AddInput("raw", id, read(r.Path))
		bi.AddInput("dark", id, read(darks[i].Path))
		if err := runTask(t, isr, bi); err != nil {
			t.Fatal(err)
		}
		post, _ := bi.Output("postISRCCD", 0)
		sources := measureOn(id, post.(*datastore.Image))
		sum.AddInput("sources", id, sources)
		withDark, withoutDark := sources.NumRows(), measureOn(id, read(r.Path)).NumRows()
		counts = append(counts, int64(withDark))
		t.Logf("detector %d: %d sources after dark subtraction, %d on the raw", r.Detector, withDark, withoutDark)
		if withDark < 1 || withDark > 8 || withoutDark < withDark+5 {
			t.Errorf("detector %d: %d sources after dark subtraction, %d on the raw", r.Detector, withDark, withoutDark)
		}
	}
	if err := runTask(t, summarize, sum); err != nil {
		t.Fatal(err)
	}
	obj, _ := sum.Output("summary", 0)
	tab := obj.(*datastore.Table)
	if c, _ := tab.Column("detector"); !reflect.DeepEqual(c.Values, []int64{1, 2}) {
		t.Errorf("summary detectors = %v", c.Values)
	}
	if c, _ := tab.Column("n_sources"); !reflect.DeepEqual(c.Values, counts) {
		t.Errorf("summary n_sources = %v, want %v", c.Values, counts)
	}
}

func TestFailTaskFailsOrReportsNoWorkForChosenDataIDs(t *testing.T) {
	p, err := pipeline.Parse([]byte(`tasks:
  fail:
    class: skybutler.examples.FailTask
    config:
      dimensions: [instrument, exposure, detector]
      inputs: [{name: in, datasetType: raw, storageClass: ExposureF}]
      outputs: [{name: out, datasetType: failOut, storageClass: StructuredDataDict}]
      failOn: [{detector: 3}, 99]
      noWorkOn: [{exposure: 5, detector: 1}]
`), "fail.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := p.Task("fail")
	for _, tc := range []struct {
		name   string
		dataID map[string]any
		want   error
	}{
		{"a mapping pattern fails its data ID", map[string]any{"exposure": int64(5), "detector": int64(3)}, ErrInjected},
		{"a value pattern fails any key with that value", map[string]any{"exposure": int64(99), "detector": int64(2)}, ErrInjected},
		{"a no-work pattern reports no work", map[string]any{"exposure": int64(5), "detector": int64(1)}, pipeline.ErrNoWork},
		{"other data IDs succeed and write their outputs", map[string]any{"exposure": int64(6), "detector": int64(1)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := pipelinetest.ForTask(n, tc.dataID)
			b.AddInput("in", tc.dataID, datastore.NewImage(1, 1))
			err := runTask(t, n, b)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if obj, ok := b.Output("out", 0); !ok || !reflect.DeepEqual(obj, datastore.Dict{"task": "fail"}) {
					t.Errorf("output = %v", obj)
				}
				if !reflect.DeepEqual(b.Unused(), map[string][]int{"in": {0}}) {
					t.Errorf("unused = %v", b.Unused())
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := p.Override("fail", "failOn", []any{1.5}); !errors.Is(err, pipeline.ErrConfig) {
		t.Errorf("a float pattern: %v", err)
	}
}

func TestNoOpTaskWritesPlaceholders(t *testing.T) {
	p, err := pipeline.Parse([]byte(`tasks:
  noop:
    class: skybutler.examples.NoOpTask
    config:
      dimensions: [instrument, exposure]
      readInputs: true
      inputs: [{name: in, datasetType: anything, storageClass: Bytes, multiple: true}]
      outputs:
        - {name: img, storageClass: ImageF}
        - {name: tab, storageClass: ArrowTable}
        - {name: dict, storageClass: TaskMetadata}
        - {name: raw, storageClass: Bytes}
`), "noop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := p.Task("noop")
	b := pipelinetest.ForTask(n, map[string]any{"instrument": "X", "exposure": int64(1)})
	b.AddInput("in", nil, []byte("a"))
	b.AddInput("in", nil, []byte("b"))
	if err := runTask(t, n, b); err != nil {
		t.Fatal(err)
	}
	if got := b.Written(); !slices.Equal(got, []string{"dict", "img", "raw", "tab"}) {
		t.Errorf("written = %v", got)
	}
	if b.Reads()["in"] != 2 {
		t.Errorf("reads = %v", b.Reads())
	}
	for _, conn := range []string{"img", "tab", "dict", "raw"} {
		c, _ := n.Connection(conn)
		obj, _ := b.Output(conn, 0)
		f, _ := datastore.FormatterFor(c.StorageClass, "")
		if _, err := f.Write(obj); err != nil {
			t.Errorf("placeholder of %s cannot be stored: %v", c.StorageClass, err)
		}
	}
}
