package pipelines

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/pipeline"
)

// Registered names of the example task classes.
const (
	IsrClass       = "skybutler.examples.IsrTask"
	MeasureClass   = "skybutler.examples.MeasureTask"
	SummarizeClass = "skybutler.examples.SummarizeTask"
	NoOpClass      = "skybutler.examples.NoOpTask"
	FailClass      = "skybutler.examples.FailTask"
)

// Files holds the example pipelines (spherex.yaml); load one with
// pipeline.LoadFS(Files, SpherexPipeline).
//
//go:embed *.yaml
var Files embed.FS

// SpherexPipeline is the name of the SPHEREx-like pipeline in Files.
const SpherexPipeline = "spherex.yaml"

var (
	registerOnce sync.Once
	registerErr  error
)

// Classes returns the example task classes.
func Classes() []pipeline.TaskDef {
	return []pipeline.TaskDef{IsrTask{}, MeasureTask{}, SummarizeTask{}, NoOpTask{}, FailTask{}}
}

// Register adds the example task classes to the pipeline registry. It may
// be called any number of times.
func Register() error {
	registerOnce.Do(func() {
		for _, def := range Classes() {
			if err := pipeline.Register(def); err != nil {
				registerErr = fmt.Errorf("register example tasks: %w", err)
				return
			}
		}
	})
	return registerErr
}

var exposureDims = []string{"instrument", "exposure", "detector"}

// getImage reads an image input.
func getImage(ctx context.Context, b pipeline.QuantumButler, connection string) (*datastore.Image, error) {
	obj, err := b.Get(ctx, connection, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", connection, err)
	}
	var img *datastore.Image
	switch x := obj.(type) {
	case *datastore.Image:
		img = x
	case datastore.Image:
		img = &x
	default:
		return nil, fmt.Errorf("read %s: got %T, want an image", connection, obj)
	}
	if err := img.Validate(); err != nil {
		return nil, fmt.Errorf("read %s: %w", connection, err)
	}
	return img, nil
}

// ---------------------------------------------------------------- IsrTask

// IsrTask subtracts the master dark from a raw exposure.
type IsrTask struct{}

// Name returns IsrClass.
func (IsrTask) Name() string { return IsrClass }

// ConfigSchema: doDark, darkScale.
func (IsrTask) ConfigSchema() pipeline.ConfigSchema {
	return pipeline.ConfigSchema{Fields: []pipeline.ConfigField{
		{Name: "doDark", Type: pipeline.FieldBool, Default: true, Doc: "Subtract the master dark."},
		{Name: "darkScale", Type: pipeline.FieldFloat, Default: 1.0, Doc: "Extra factor applied to the dark before subtracting it."},
	}}
}

// Dimensions: instrument, exposure, detector.
func (IsrTask) Dimensions(pipeline.Config) []string { return slices.Clone(exposureDims) }

// Connections: raw, dark (with doDark), postISRCCD.
func (IsrTask) Connections(cfg pipeline.Config) []pipeline.Connection {
	raw := pipeline.NewInput("raw", "raw", datastore.StorageClassExposureF, exposureDims...)
	raw.Doc = "Raw exposure of one detector."
	out := []pipeline.Connection{raw}
	if cfg.Bool("doDark") {
		dark := pipeline.NewPrerequisite("dark", "dark", datastore.StorageClassImageF, "instrument", "detector")
		dark.IsCalibration = true
		dark.Doc = "Master dark of the detector, valid at the exposure's time."
		out = append(out, dark)
	}
	post := pipeline.NewOutput("postISRCCD", "postISRCCD", datastore.StorageClassExposureF, exposureDims...)
	post.Doc = "Dark-subtracted exposure."
	return append(out, post)
}

// New returns the task.
func (IsrTask) New(cfg pipeline.Config) (pipeline.Task, error) {
	return isrRunner{doDark: cfg.Bool("doDark"), darkScale: cfg.Float("darkScale")}, nil
}

type isrRunner struct {
	doDark    bool
	darkScale float64
}

// Run writes postISRCCD = raw - darkScale * f * dark. The factor f puts
// the dark in the raw's terms, from their headers:
//   - a dark rate (BUNIT ending in "/s") is multiplied by the raw's
//     DARKTIME (else EXPTIME); otherwise a dark frame is scaled by the
//     ratio of the raw's DARKTIME (or EXPTIME) to the dark's, when both
//     have one;
//   - a dark in electrons (BUNIT starting with "electron") subtracted from
//     a raw in ADU (BUNIT "adu") is divided by the raw's GAIN (e-/ADU).
//
// Without those keywords f is 1. The output keeps the raw's header and
// records the dark and the factor applied (ISRDARK, DARKFAC, HISTORY).
func (r isrRunner) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	raw, err := getImage(ctx, b, "raw")
	if err != nil {
		return err
	}
	out := &datastore.Image{Width: raw.Width, Height: raw.Height, Pixels: slices.Clone(raw.Pixels), Header: slices.Clone(raw.Header)}
	if r.doDark {
		dark, err := getImage(ctx, b, "dark")
		if err != nil {
			return err
		}
		if dark.Width != raw.Width || dark.Height != raw.Height {
			return fmt.Errorf("isr: dark is %dx%d but the raw is %dx%d", dark.Width, dark.Height, raw.Width, raw.Height)
		}
		f := r.darkScale * darkFactor(raw.Header, dark.Header)
		for i, d := range dark.Pixels {
			out.Pixels[i] = float32(float64(raw.Pixels[i]) - f*float64(d))
		}
		out.Header.Set("ISRDARK", true, "dark subtracted")
		out.Header.Set("DARKFAC", f, "factor applied to the dark before subtracting it")
		out.Header = append(out.Header, datastore.Card{Key: "HISTORY", Comment: fmt.Sprintf("skybutler isr: subtracted %.6g x dark", f)})
		b.Log().Info("isr: dark subtracted", "factor", f)
	} else {
		out.Header.Set("ISRDARK", false, "dark subtracted")
	}
	if err := b.Put(ctx, out, "postISRCCD", 0); err != nil {
		return fmt.Errorf("isr: write postISRCCD: %w", err)
	}
	return nil
}

func darkFactor(raw, dark datastore.Header) float64 {
	f := 1.0
	unit, _ := dark.String("BUNIT")
	rawTime, rawOK := raw.Float("DARKTIME")
	if !rawOK {
		rawTime, rawOK = raw.Float("EXPTIME")
	}
	if len(unit) >= 2 && unit[len(unit)-2:] == "/s" {
		if rawOK {
			f *= rawTime
		}
	} else {
		darkTime, darkOK := dark.Float("DARKTIME")
		if !darkOK {
			darkTime, darkOK = dark.Float("EXPTIME")
		}
		if rawOK && darkOK && darkTime > 0 {
			f *= rawTime / darkTime
		}
	}
	rawUnit, _ := raw.String("BUNIT")
	if gain, ok := raw.Float("GAIN"); ok && gain > 0 && rawUnit == "adu" && len(unit) >= 8 && unit[:8] == "electron" {
		f /= gain
	}
	return f
}

// ------------------------------------------------------------ MeasureTask

// MeasureTask finds sources by thresholding.
type MeasureTask struct{}

// Name returns MeasureClass.
func (MeasureTask) Name() string { return MeasureClass }

// ConfigSchema: threshold, radius.
func (MeasureTask) ConfigSchema() pipeline.ConfigSchema {
	return pipeline.ConfigSchema{Fields: []pipeline.ConfigField{
		{Name: "threshold", Type: pipeline.FieldFloat, Default: 5.0, Doc: "Detection threshold in units of the background noise (sigma)."},
		{Name: "radius", Type: pipeline.FieldInt, Default: int64(2), Doc: "Half-width of the box summed for a source's flux and centroid (pixels)."},
	}}
}

// ValidateConfig checks threshold > 0 and 0 <= radius <= 50.
func (MeasureTask) ValidateConfig(cfg pipeline.Config) error {
	if t := cfg.Float("threshold"); !(t > 0) {
		return &pipeline.FieldError{Field: "threshold", Err: fmt.Errorf("threshold %v must be positive", t)}
	}
	if r := cfg.Int("radius"); r < 0 || r > 50 {
		return &pipeline.FieldError{Field: "radius", Err: fmt.Errorf("radius %d must be in 0..50", r)}
	}
	return nil
}

// Dimensions: instrument, exposure, detector.
func (MeasureTask) Dimensions(pipeline.Config) []string { return slices.Clone(exposureDims) }

// Connections: postISRCCD -> sourceTable.
func (MeasureTask) Connections(pipeline.Config) []pipeline.Connection {
	in := pipeline.NewInput("exposure", "postISRCCD", datastore.StorageClassExposureF, exposureDims...)
	in.Doc = "Dark-subtracted exposure."
	out := pipeline.NewOutput("sources", "sourceTable", datastore.StorageClassArrowTable, exposureDims...)
	out.Doc = "Detected sources: detector, x, y, flux, peak."
	return []pipeline.Connection{in, out}
}

// New returns the task.
func (MeasureTask) New(cfg pipeline.Config) (pipeline.Task, error) {
	if err := (MeasureTask{}).ValidateConfig(cfg); err != nil {
		return nil, err
	}
	return measureRunner{threshold: cfg.Float("threshold"), radius: cfg.Int("radius")}, nil
}

type measureRunner struct {
	threshold float64
	radius    int
}

// Background returns the median and the robust noise (1.4826 x median
// absolute deviation; the standard deviation when that is 0) of pixels.
func Background(pixels []float32) (median, sigma float64) {
	if len(pixels) == 0 {
		return 0, 0
	}
	v := make([]float64, len(pixels))
	for i, p := range pixels {
		v[i] = float64(p)
	}
	sort.Float64s(v)
	median = medianSorted(v)
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - median)
	}
	sort.Float64s(dev)
	sigma = 1.4826 * medianSorted(dev)
	if sigma == 0 {
		var sum float64
		for _, x := range v {
			sum += (x - median) * (x - median)
		}
		sigma = math.Sqrt(sum / float64(len(v)))
	}
	return median, sigma
}

func medianSorted(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Run detects sources: local maxima (over the 8 neighbours; ties go to the
// first in row-major order) above median + threshold x sigma.
func (r measureRunner) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	img, err := getImage(ctx, b, "exposure")
	if err != nil {
		return err
	}
	bg, sigma := Background(img.Pixels)
	level := bg + r.threshold*sigma
	det := dataIDInt(q.DataID, "detector")
	var xs, ys, fluxes, peaks []float64
	w, h := img.Width, img.Height
	for y := range h {
		for x := range w {
			v := img.At(x, y)
			if float64(v) <= level || !isPeak(img, x, y) {
				continue
			}
			var sum, pos, sx, sy float64
			for yy := max(0, y-r.radius); yy <= min(h-1, y+r.radius); yy++ {
				for xx := max(0, x-r.radius); xx <= min(w-1, x+r.radius); xx++ {
					d := float64(img.At(xx, yy)) - bg
					sum += d
					if d > 0 {
						pos += d
						sx += d * float64(xx)
						sy += d * float64(yy)
					}
				}
			}
			cx, cy := float64(x), float64(y)
			if pos > 0 {
				cx, cy = sx/pos, sy/pos
			}
			xs, ys = append(xs, cx), append(ys, cy)
			fluxes, peaks = append(fluxes, sum), append(peaks, float64(v)-bg)
		}
	}
	dets := make([]int64, len(xs))
	for i := range dets {
		dets[i] = det
	}
	table := &datastore.Table{Columns: []datastore.Column{
		{Name: "detector", Values: dets},
		{Name: "x", Values: nonNil(xs)},
		{Name: "y", Values: nonNil(ys)},
		{Name: "flux", Values: nonNil(fluxes)},
		{Name: "peak", Values: nonNil(peaks)},
	}}
	b.Log().Info("measure: sources found", "n", len(xs), "background", bg, "sigma", sigma, "level", level)
	if err := b.Put(ctx, table, "sources", 0); err != nil {
		return fmt.Errorf("measure: write sourceTable: %w", err)
	}
	return nil
}

func nonNil(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return v
}

// isPeak: (x, y) is above every neighbour before it in row-major order and
// not below any after it.
func isPeak(img *datastore.Image, x, y int) bool {
	v := img.At(x, y)
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			xx, yy := x+dx, y+dy
			if (dx == 0 && dy == 0) || xx < 0 || yy < 0 || xx >= img.Width || yy >= img.Height {
				continue
			}
			n := img.At(xx, yy)
			before := dy < 0 || dy == 0 && dx < 0
			if n > v || before && n == v {
				return false
			}
		}
	}
	return true
}

func dataIDInt(id map[string]any, key string) int64 {
	switch v := id[key].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

// ---------------------------------------------------------- SummarizeTask

// SummarizeTask gathers the source tables of an exposure's detectors.
type SummarizeTask struct{}

// Name returns SummarizeClass.
func (SummarizeTask) Name() string { return SummarizeClass }

// ConfigSchema: no fields.
func (SummarizeTask) ConfigSchema() pipeline.ConfigSchema { return pipeline.ConfigSchema{} }

// Dimensions: instrument, exposure.
func (SummarizeTask) Dimensions(pipeline.Config) []string {
	return []string{"instrument", "exposure"}
}

// Connections: sourceTable (every detector) -> exposureSummary.
func (SummarizeTask) Connections(pipeline.Config) []pipeline.Connection {
	in := pipeline.NewInput("sources", "sourceTable", datastore.StorageClassArrowTable, exposureDims...)
	in.Multiple = true
	in.Doc = "Source tables of the exposure's detectors."
	out := pipeline.NewOutput("summary", "exposureSummary", datastore.StorageClassArrowTable, "instrument", "exposure")
	out.Doc = "One row per detector: detector, n_sources, mean_flux."
	return []pipeline.Connection{in, out}
}

// New returns the task.
func (SummarizeTask) New(pipeline.Config) (pipeline.Task, error) { return summarizeRunner{}, nil }

type summarizeRunner struct{}

// Run writes one row per detector, sorted by detector; mean_flux is 0 for
// a detector without sources. No source tables is no_work.
func (summarizeRunner) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	refs := b.Refs("sources")
	if len(refs) == 0 {
		return fmt.Errorf("summarize: no source tables for %v: %w", q.DataID, pipeline.ErrNoWork)
	}
	type row struct {
		det  int64
		n    int64
		mean float64
	}
	rows := make([]row, 0, len(refs))
	for i, ref := range refs {
		obj, err := b.Get(ctx, "sources", i)
		if err != nil {
			return fmt.Errorf("summarize: read sourceTable %v: %w", ref.DataID, err)
		}
		var t *datastore.Table
		switch x := obj.(type) {
		case *datastore.Table:
			t = x
		case datastore.Table:
			t = &x
		default:
			return fmt.Errorf("summarize: sourceTable %v is %T, want a table", ref.DataID, obj)
		}
		rw := row{det: dataIDInt(ref.DataID, "detector"), n: int64(t.NumRows())}
		if c, ok := t.Column("flux"); ok && rw.n > 0 {
			fl, ok := c.Values.([]float64)
			if !ok {
				return fmt.Errorf("summarize: sourceTable %v: flux column is %T, want []float64", ref.DataID, c.Values)
			}
			var s float64
			for _, f := range fl {
				s += f
			}
			rw.mean = s / float64(len(fl))
		}
		rows = append(rows, rw)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].det < rows[j].det })
	dets, ns, means := make([]int64, len(rows)), make([]int64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		dets[i], ns[i], means[i] = r.det, r.n, r.mean
	}
	table := &datastore.Table{Columns: []datastore.Column{
		{Name: "detector", Values: dets},
		{Name: "n_sources", Values: ns},
		{Name: "mean_flux", Values: means},
	}}
	if err := b.Put(ctx, table, "summary", 0); err != nil {
		return fmt.Errorf("summarize: write exposureSummary: %w", err)
	}
	return nil
}

// --------------------------------------------------------------- NoOpTask

// NoOpTask declares its connections in its config and writes a minimal
// object to each output ref; with readInputs it also reads every input.
type NoOpTask struct{}

// Name returns NoOpClass.
func (NoOpTask) Name() string { return NoOpClass }

// ConfigSchema: dimensions, inputs, outputs (pipeline.DeclaredConnections),
// readInputs.
func (NoOpTask) ConfigSchema() pipeline.ConfigSchema {
	return pipeline.ConfigSchema{Fields: append(pipeline.DeclaredConnectionFields(),
		pipeline.ConfigField{Name: "readInputs", Type: pipeline.FieldBool, Doc: "Read every input (else inputs are only marked unused)."})}
}

// ValidateConfig checks the declared connections.
func (NoOpTask) ValidateConfig(cfg pipeline.Config) error {
	_, _, err := pipeline.DeclaredConnections(cfg)
	return err
}

// Dimensions returns the configured dimensions.
func (NoOpTask) Dimensions(cfg pipeline.Config) []string { return cfg.Strings("dimensions") }

// Connections returns the declared connections.
func (NoOpTask) Connections(cfg pipeline.Config) []pipeline.Connection {
	c, _, _ := pipeline.DeclaredConnections(cfg)
	return c
}

// New returns the task.
func (NoOpTask) New(cfg pipeline.Config) (pipeline.Task, error) {
	conns, _, err := pipeline.DeclaredConnections(cfg)
	if err != nil {
		return nil, err
	}
	return noOpRunner{conns: conns, read: cfg.Bool("readInputs")}, nil
}

type noOpRunner struct {
	conns []pipeline.Connection
	read  bool
}

func (r noOpRunner) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	for _, c := range r.conns {
		switch {
		case c.Kind.IsInput():
			for i := range b.Refs(c.Name) {
				if !r.read {
					b.MarkInputUnused(c.Name, i)
				} else if _, err := b.Get(ctx, c.Name, i); err != nil {
					return fmt.Errorf("noop: %w", err)
				}
			}
		case c.Kind == pipeline.Output:
			for i := range b.Refs(c.Name) {
				obj, err := Placeholder(c.StorageClass, q.Label)
				if err != nil {
					return fmt.Errorf("noop: output %s: %w", c.Name, err)
				}
				if err := b.Put(ctx, obj, c.Name, i); err != nil {
					return fmt.Errorf("noop: %w", err)
				}
			}
		}
	}
	return nil
}

// Placeholder returns a minimal object of a storage class: a 1x1 image, a
// one-row table, a dict naming the task, or a few bytes.
func Placeholder(storageClass, label string) (any, error) {
	sc, err := datastore.LookupStorageClass(storageClass)
	if err != nil {
		return nil, err
	}
	for _, obj := range []any{
		datastore.NewImage(1, 1),
		&datastore.Table{Columns: []datastore.Column{{Name: "value", Values: []int64{0}}}},
		datastore.Dict{"task": label},
		[]byte("noop\n"),
	} {
		if sc.Accepts(obj) {
			return obj, nil
		}
	}
	return nil, fmt.Errorf("no placeholder object for storage class %s", storageClass)
}

// --------------------------------------------------------------- FailTask

// FailTask is NoOpTask that fails, or reports no_work, for chosen data IDs.
type FailTask struct{}

// ErrInjected is what FailTask returns (wrapped) for a data ID in failOn.
var ErrInjected = errors.New("injected failure")

// Name returns FailClass.
func (FailTask) Name() string { return FailClass }

// ConfigSchema: NoOpTask's fields plus failOn and noWorkOn.
func (FailTask) ConfigSchema() pipeline.ConfigSchema {
	s := NoOpTask{}.ConfigSchema()
	s.Fields = append(s.Fields,
		pipeline.ConfigField{Name: "failOn", Type: pipeline.FieldList,
			Doc: "Data IDs to fail for: a value matches a quantum whose data ID has it for any key; a mapping matches when every key has its value."},
		pipeline.ConfigField{Name: "noWorkOn", Type: pipeline.FieldList, Doc: "Data IDs to report no_work for, matched like failOn."},
	)
	return s
}

// ValidateConfig checks the declared connections and the match lists.
func (FailTask) ValidateConfig(cfg pipeline.Config) error {
	if _, _, err := pipeline.DeclaredConnections(cfg); err != nil {
		return err
	}
	for _, f := range []string{"failOn", "noWorkOn"} {
		for i, v := range cfg.List(f) {
			switch v.(type) {
			case int64, string, map[string]any:
			default:
				return &pipeline.FieldError{Field: f, Err: fmt.Errorf("item %d: want a data ID value (int or string) or a mapping", i)}
			}
		}
	}
	return nil
}

// Dimensions returns the configured dimensions.
func (FailTask) Dimensions(cfg pipeline.Config) []string { return cfg.Strings("dimensions") }

// Connections returns the declared connections.
func (FailTask) Connections(cfg pipeline.Config) []pipeline.Connection {
	return NoOpTask{}.Connections(cfg)
}

// New returns the task.
func (FailTask) New(cfg pipeline.Config) (pipeline.Task, error) {
	noop, err := NoOpTask{}.New(cfg)
	if err != nil {
		return nil, err
	}
	return failRunner{noop: noop.(noOpRunner), failOn: cfg.List("failOn"), noWorkOn: cfg.List("noWorkOn")}, nil
}

type failRunner struct {
	noop     noOpRunner
	failOn   []any
	noWorkOn []any
}

func (r failRunner) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	if matchDataID(r.failOn, q.DataID) {
		return fmt.Errorf("fail task %s for %v: %w", q.Label, q.DataID, ErrInjected)
	}
	if matchDataID(r.noWorkOn, q.DataID) {
		return fmt.Errorf("fail task %s for %v: %w", q.Label, q.DataID, pipeline.ErrNoWork)
	}
	return r.noop.Run(ctx, b, q)
}

// matchDataID reports whether one of the patterns matches id.
func matchDataID(patterns []any, id map[string]any) bool {
	same := func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
	for _, p := range patterns {
		switch x := p.(type) {
		case map[string]any:
			ok := len(x) > 0
			for k, v := range x {
				if got, has := id[k]; !has || !same(got, v) {
					ok = false
				}
			}
			if ok {
				return true
			}
		default:
			for _, v := range id {
				if same(v, x) {
					return true
				}
			}
		}
	}
	return false
}
