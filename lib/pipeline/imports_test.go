package pipeline

import (
	"reflect"
	"slices"
	"testing"
	"testing/fstest"
)

const basePipeline = `description: Base.
instrument: SPHEREx
parameters:
  scale: 2.0
  threshold: 4.0
tasks:
  isr:
    class: test.Isr
    config:
      darkScale: parameters.scale
  measure:
    class: test.Measure
    config:
      threshold: parameters.threshold
  summarize: test.Summarize
subsets:
  step1: [isr, measure]
  step2: [summarize]
contracts:
  - contract: isr.darkScale >= 1
  - contract: measure.threshold < 10 and summarize.connections.summary == 'exposureSummary'
`

func TestImports(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pipeline  string
		labels    []string
		subsets   []string
		contracts int
		check     func(t *testing.T, p *Pipeline)
	}{
		{name: "an import brings everything", pipeline: joinLines("imports: [base.yaml]"),
			labels: []string{"isr", "measure", "summarize"}, subsets: []string{"step1", "step2"}, contracts: 2,
			check: func(t *testing.T, p *Pipeline) {
				if p.Instrument != "SPHEREx" || p.Description != "" {
					t.Errorf("instrument %q (want the import's), description %q (want this file's)", p.Instrument, p.Description)
				}
			}},
		{name: "include keeps labels and expands subsets", pipeline: joinLines("imports:", "  - location: base.yaml", "    include: [step1]"),
			labels: []string{"isr", "measure"}, subsets: []string{"step1"}, contracts: 1},
		{name: "exclude drops labels, broken subsets and contracts about them", pipeline: joinLines("imports:", "  - location: base.yaml", "    exclude: [isr]"),
			labels: []string{"measure", "summarize"}, subsets: []string{"step2"}, contracts: 1},
		{name: "importContracts false drops the contracts", pipeline: joinLines("imports:", "  - {location: base.yaml, importContracts: false}"),
			labels: []string{"isr", "measure", "summarize"}, subsets: []string{"step1", "step2"}, contracts: 0},
		{name: "a local label of the same class overrides the imported config",
			pipeline: joinLines("imports: [base.yaml]", "tasks:", "  isr:", "    config: {doDark: false}", "  measure:", "    class: test.Measure", "    config: {threshold: 3}"),
			labels:   []string{"isr", "measure", "summarize"}, subsets: []string{"step1", "step2"}, contracts: 2,
			check: func(t *testing.T, p *Pipeline) {
				isr, _ := p.Task("isr")
				if isr.Config.Bool("doDark") || isr.Config.Float("darkScale") != 2 {
					t.Errorf("isr config = %v (want doDark false from here, darkScale 2 from the import)", isr.Config)
				}
				if m, _ := p.Task("measure"); m.Config.Float("threshold") != 3 {
					t.Errorf("threshold = %v", m.Config["threshold"])
				}
			}},
		{name: "a local label of another class replaces the imported task",
			pipeline: joinLines("imports: [{location: base.yaml, importContracts: false}]", "tasks:", "  summarize:", "    class: test.Declared", "    config: {level: 7}"),
			labels:   []string{"isr", "measure", "summarize"}, subsets: []string{"step1", "step2"},
			check: func(t *testing.T, p *Pipeline) {
				s, _ := p.Task("summarize")
				if s.Class.Name() != "test.Declared" || s.Config.Int("level") != 7 {
					t.Errorf("summarize = %s %v", s.Class.Name(), s.Config)
				}
			}},
		{name: "local parameters apply to imported tasks",
			pipeline: joinLines("parameters: {scale: 1.5}", "imports: [base.yaml]"),
			labels:   []string{"isr", "measure", "summarize"}, subsets: []string{"step1", "step2"}, contracts: 2,
			check: func(t *testing.T, p *Pipeline) {
				if isr, _ := p.Task("isr"); isr.Config.Float("darkScale") != 1.5 {
					t.Errorf("darkScale = %v", isr.Config["darkScale"])
				}
				if !reflect.DeepEqual(p.Parameters, map[string]any{"scale": 1.5, "threshold": 4.0}) {
					t.Errorf("parameters = %v", p.Parameters)
				}
			}},
		{name: "two imports of one file with different includes",
			pipeline: joinLines("imports:", "  - {location: base.yaml, include: [isr]}", "  - {location: base.yaml, include: [step2]}"),
			labels:   []string{"isr", "summarize"}, subsets: []string{"step2"}, contracts: 1},
		{name: "a local subset may name imported tasks",
			pipeline: joinLines("imports: [base.yaml]", "subsets:", "  all: {subset: [isr, measure, summarize], description: Everything.}"),
			labels:   []string{"isr", "measure", "summarize"}, subsets: []string{"all", "step1", "step2"}, contracts: 2},
		{name: "an import location may use environment variables",
			pipeline: joinLines("imports:", "  - ${PIPE_DIR}/base.yaml"),
			labels:   []string{"isr", "measure", "summarize"}, subsets: []string{"step1", "step2"}, contracts: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"base.yaml": basePipeline, "p.yaml": tc.pipeline})
			t.Setenv("PIPE_DIR", dir)
			p, err := Load(dir + "/p.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Labels(); !slices.Equal(got, tc.labels) {
				t.Errorf("labels = %v, want %v", got, tc.labels)
			}
			if got := sortedKeys(p.Subsets); !slices.Equal(got, tc.subsets) {
				t.Errorf("subsets = %v, want %v", got, tc.subsets)
			}
			if len(p.Contracts) != tc.contracts {
				t.Errorf("%d contracts, want %d", len(p.Contracts), tc.contracts)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestSelectors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.yaml": threeTasks})
	for _, tc := range []struct {
		name   string
		spec   string
		labels []string
	}{
		{"no selector keeps every task", "p.yaml", []string{"isr", "measure", "summarize"}},
		{"a label selects one task", "p.yaml#measure", []string{"measure"}},
		{"a subset selects its tasks", "p.yaml#step1", []string{"isr", "measure"}},
		{"labels and subsets combine, spaces allowed", "p.yaml#step2, isr", []string{"summarize", "isr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(dir + "/" + tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Labels(); !slices.Equal(got, tc.labels) {
				t.Errorf("labels = %v, want %v", got, tc.labels)
			}
		})
	}
}

func TestLoadFSReadsImportsFromTheFS(t *testing.T) {
	fsys := fstest.MapFS{
		"pipes/base.yaml": {Data: []byte(basePipeline)},
		"pipes/p.yaml":    {Data: []byte(joinLines("imports: [{location: base.yaml, include: [isr]}]"))},
	}
	p, err := LoadFS(fsys, "pipes/p.yaml#isr")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Labels(); !slices.Equal(got, []string{"isr"}) {
		t.Errorf("labels = %v", got)
	}
	if p.File() != "pipes/p.yaml" {
		t.Errorf("file = %q", p.File())
	}
}
