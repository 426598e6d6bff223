package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeClass is a task class for tests.
type fakeClass struct {
	name   string
	schema ConfigSchema
	dims   func(cfg Config) []string
	conns  func(cfg Config) []Connection
	run    func(ctx context.Context, b QuantumButler, q QuantumContext) error
}

func (f fakeClass) Name() string                        { return f.name }
func (f fakeClass) ConfigSchema() ConfigSchema          { return f.schema }
func (f fakeClass) Dimensions(cfg Config) []string      { return f.dims(cfg) }
func (f fakeClass) Connections(cfg Config) []Connection { return f.conns(cfg) }
func (f fakeClass) New(cfg Config) (Task, error)        { return fakeTask{f}, nil }

type fakeTask struct{ f fakeClass }

func (t fakeTask) Run(ctx context.Context, b QuantumButler, q QuantumContext) error {
	if t.f.run == nil {
		return nil
	}
	return t.f.run(ctx, b, q)
}

// declaredClass takes its connections from its config like exec does.
type declaredClass struct{}

func (declaredClass) Name() string { return "test.Declared" }
func (declaredClass) ConfigSchema() ConfigSchema {
	return ConfigSchema{Fields: append(DeclaredConnectionFields(),
		ConfigField{Name: "level", Type: FieldInt, Default: int64(1)})}
}
func (declaredClass) ValidateConfig(cfg Config) error {
	_, _, err := DeclaredConnections(cfg)
	return err
}
func (declaredClass) Dimensions(cfg Config) []string { return cfg.Strings("dimensions") }
func (declaredClass) Connections(cfg Config) []Connection {
	c, _, _ := DeclaredConnections(cfg)
	return c
}
func (declaredClass) New(Config) (Task, error) { return fakeTask{}, nil }

var expDims = []string{"instrument", "exposure", "detector"}

func static(d ...string) func(Config) []string { return func(Config) []string { return d } }

func init() {
	MustRegister(fakeClass{
		name: "test.Isr",
		schema: ConfigSchema{Fields: []ConfigField{
			{Name: "doDark", Type: FieldBool, Default: true},
			{Name: "darkScale", Type: FieldFloat, Default: 1.0},
			{Name: "mode", Type: FieldString, Default: "fast"},
			{Name: "nIter", Type: FieldInt, Default: int64(3)},
			{Name: "badAmps", Type: FieldList, Items: FieldInt},
			{Name: "options", Type: FieldMap},
		}},
		dims: static(expDims...),
		conns: func(cfg Config) []Connection {
			out := []Connection{NewInput("raw", "raw", "ExposureF", expDims...)}
			if cfg.Bool("doDark") {
				d := NewPrerequisite("dark", "dark", "ImageF", "instrument", "detector")
				d.IsCalibration = true
				out = append(out, d)
			}
			return append(out, NewOutput("postISRCCD", "postISRCCD", "ExposureF", expDims...))
		},
	})
	MustRegister(fakeClass{
		name:   "test.Measure",
		schema: ConfigSchema{Fields: []ConfigField{{Name: "threshold", Type: FieldFloat, Default: 5.0}}},
		dims:   static(expDims...),
		conns: func(Config) []Connection {
			return []Connection{
				NewInput("exposure", "postISRCCD", "ExposureF", expDims...),
				NewOutput("sources", "sourceTable", "ArrowTable", expDims...),
			}
		},
	})
	MustRegister(fakeClass{
		name:   "test.Summarize",
		schema: ConfigSchema{},
		dims:   static("instrument", "exposure"),
		conns: func(Config) []Connection {
			in := NewInput("sources", "sourceTable", "DataFrame", expDims...)
			in.Multiple = true
			return []Connection{in, NewOutput("summary", "exposureSummary", "ArrowTable", "instrument", "exposure")}
		},
	})
	MustRegister(fakeClass{
		name:   "test.InitUser",
		schema: ConfigSchema{},
		dims:   static("instrument"),
		conns: func(Config) []Connection {
			return []Connection{NewInitInput("schema", "srcSchema", "Config"), NewOutput("o", "initUserOut", "Bytes", "instrument")}
		},
	})
	MustRegister(declaredClass{})
}

// threeTasks is a valid pipeline over the test classes.
const threeTasks = `description: Three tasks.
instrument: SPHEREx
parameters:
  scale: 2.5
tasks:
  summarize: test.Summarize
  measure:
    class: test.Measure
    config:
      threshold: 4
  isr:
    class: test.Isr
    config:
      darkScale: parameters.scale
      connections.dark: masterDark
subsets:
  step1:
    subset: [isr, measure]
    description: Per detector.
  step2: [summarize]
contracts:
  - contract: "isr.doDark == True and measure.threshold < 5"
    msg: dark needed
`

// writeFiles writes name -> content under a new temporary directory and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustParse(t *testing.T, yaml string) *Pipeline {
	t.Helper()
	p, err := Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func joinLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
