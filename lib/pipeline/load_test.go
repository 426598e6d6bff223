package pipeline

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/dimensions"
)

func TestParseResolvesTheThreeTaskPipeline(t *testing.T) {
	p := mustParse(t, threeTasks)
	if got, want := p.Labels(), []string{"isr", "measure", "summarize"}; !slices.Equal(got, want) {
		t.Errorf("task order = %v, want %v (producers before consumers)", got, want)
	}
	if p.Description != "Three tasks." || p.Instrument != "SPHEREx" {
		t.Errorf("description, instrument = %q, %q", p.Description, p.Instrument)
	}
	if !reflect.DeepEqual(p.Parameters, map[string]any{"scale": 2.5}) {
		t.Errorf("parameters = %v", p.Parameters)
	}
	if !reflect.DeepEqual(p.Subsets, map[string][]string{"step1": {"isr", "measure"}, "step2": {"summarize"}}) {
		t.Errorf("subsets = %v", p.Subsets)
	}
	if p.SubsetDescriptions["step1"] != "Per detector." {
		t.Errorf("subset descriptions = %v", p.SubsetDescriptions)
	}
	isr, _ := p.Task("isr")
	wantCfg := Config{
		"doDark": true, "darkScale": 2.5, "mode": "fast", "nIter": int64(3), "badAmps": []any{}, "options": map[string]any{},
		"connections": map[string]any{"raw": "raw", "dark": "masterDark", "postISRCCD": "postISRCCD"},
	}
	if !reflect.DeepEqual(isr.Config, wantCfg) {
		t.Errorf("isr config = %#v\nwant %#v", isr.Config, wantCfg)
	}
	if c, _ := isr.Connection("dark"); c.DatasetType != "masterDark" || !c.IsCalibration || c.Kind != PrerequisiteInput {
		t.Errorf("dark connection = %+v", c)
	}
	var names []string
	for _, c := range isr.Connections {
		names = append(names, c.Name+"="+c.DatasetType)
	}
	if want := []string{"raw=raw", "dark=masterDark", "postISRCCD=postISRCCD", "_config=isr_config", "_metadata=isr_metadata", "_log=isr_log"}; !slices.Equal(names, want) {
		t.Errorf("isr connections = %v, want %v", names, want)
	}
	if c, _ := isr.Connection(MetadataConnection); c.Kind != Output || c.StorageClass != "TaskMetadata" || !slices.Equal(c.Dimensions, expDims) {
		t.Errorf("metadata connection = %+v", c)
	}
	if c, _ := isr.Connection(ConfigConnection); c.Kind != InitOutput || c.StorageClass != "Config" || len(c.Dimensions) != 0 {
		t.Errorf("config connection = %+v", c)
	}
	if m, _ := p.Task("measure"); m.Config.Float("threshold") != 4 {
		t.Errorf("an int given to a float field: threshold = %#v", m.Config["threshold"])
	}
	if isr.Source() != "test.yaml:11" {
		t.Errorf("isr source = %q", isr.Source())
	}
}

func TestTaskOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"consumers declared first come after their producers", threeTasks, []string{"isr", "measure", "summarize"}},
		{"independent tasks keep declaration order", joinLines(
			"tasks:",
			"  b: {class: test.Declared, config: {outputs: [{name: o, datasetType: B, storageClass: Bytes}]}}",
			"  a: {class: test.Declared, config: {outputs: [{name: o, datasetType: A, storageClass: Bytes}]}}",
			"  c: {class: test.Declared, config: {outputs: [{name: o, datasetType: C, storageClass: Bytes}]}}",
		), []string{"b", "a", "c"}},
		{"a diamond is ordered by its edges and then by declaration", joinLines(
			"tasks:",
			"  join: {class: test.Declared, config: {inputs: [{name: l, datasetType: L, storageClass: Bytes}, {name: r, datasetType: R, storageClass: Bytes}]}}",
			"  right: {class: test.Declared, config: {inputs: [{name: i, datasetType: S, storageClass: Bytes}], outputs: [{name: o, datasetType: R, storageClass: Bytes}]}}",
			"  left: {class: test.Declared, config: {inputs: [{name: i, datasetType: S, storageClass: Bytes}], outputs: [{name: o, datasetType: L, storageClass: Bytes}]}}",
			"  source: {class: test.Declared, config: {outputs: [{name: o, datasetType: S, storageClass: Bytes}]}}",
		), []string{"source", "right", "left", "join"}},
		{"init-outputs read as init-inputs order tasks too", joinLines(
			"tasks:",
			"  user: {class: test.InitUser, config: {connections.schema: maker_config}}",
			"  maker: {class: test.Declared}",
		), []string{"maker", "user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.yaml), "order.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Labels(); !slices.Equal(got, tc.want) {
				t.Errorf("order = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigOverridesAndRenames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		check  func(t *testing.T, n *TaskNode)
	}{
		{"defaults apply without a config section", "{}", func(t *testing.T, n *TaskNode) {
			if !n.Config.Bool("doDark") || n.Config.Float("darkScale") != 1 || n.Config.String("mode") != "fast" || n.Config.Int("nIter") != 3 {
				t.Errorf("config = %v", n.Config)
			}
		}},
		{"a list of config blocks applies in order", "[{mode: slow, nIter: 5}, {mode: exact}]", func(t *testing.T, n *TaskNode) {
			if n.Config.String("mode") != "exact" || n.Config.Int("nIter") != 5 {
				t.Errorf("config = %v", n.Config)
			}
		}},
		{"lists and maps are typed", "{badAmps: [1, 2], options: {a: [x], b: 2}}", func(t *testing.T, n *TaskNode) {
			if !reflect.DeepEqual(n.Config["badAmps"], []any{int64(1), int64(2)}) || !reflect.DeepEqual(n.Config["options"], map[string]any{"a": []any{"x"}, "b": int64(2)}) {
				t.Errorf("config = %v", n.Config)
			}
		}},
		{"a connections mapping renames dataset types", "{connections: {raw: myRaw, postISRCCD: calexp.pre}}", func(t *testing.T, n *TaskNode) {
			in, _ := n.Connection("raw")
			out, _ := n.Connection("postISRCCD")
			if in.DatasetType != "myRaw" || out.DatasetType != "calexp.pre" {
				t.Errorf("raw -> %s, postISRCCD -> %s", in.DatasetType, out.DatasetType)
			}
			if dt, _ := n.Config.DatasetTypeOf("raw"); dt != "myRaw" {
				t.Errorf("config connections.raw = %q", dt)
			}
		}},
		{"config decides which connections exist", "{doDark: false}", func(t *testing.T, n *TaskNode) {
			if _, ok := n.Connection("dark"); ok {
				t.Error("dark connection exists without doDark")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, "tasks:\n  isr:\n    class: test.Isr\n    config: "+tc.config+"\n")
			n, _ := p.Task("isr")
			tc.check(t, n)
		})
	}
}

func TestOverrideAppliesAfterTheFileAndRechecksContracts(t *testing.T) {
	p := mustParse(t, threeTasks)
	q, err := p.Override("measure", "threshold", 3.5)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := q.Task("measure"); m.Config.Float("threshold") != 3.5 {
		t.Errorf("threshold = %v", m.Config["threshold"])
	}
	if m, _ := p.Task("measure"); m.Config.Float("threshold") != 4 {
		t.Errorf("the original pipeline changed: threshold = %v", m.Config["threshold"])
	}
	if _, err := p.Override("measure", "threshold", 7.0); !errors.Is(err, ErrContract) || !contains(err.Error(), "dark needed") {
		t.Errorf("override breaking a contract: %v", err)
	}
	if _, err := p.Override("isr", "connections.raw", "raw2"); err != nil {
		t.Errorf("rename by override: %v", err)
	}
	if _, err := p.Override("meassure", "threshold", 1); !errors.Is(err, ErrUnknownLabel) || !contains(err.Error(), `did you mean "measure"`) {
		t.Errorf("override of an unknown label: %v", err)
	}
	if _, err := p.Override("isr", "darkScal", 1); !errors.Is(err, ErrConfig) || !contains(err.Error(), "override isr:darkScal") {
		t.Errorf("override of an unknown field: %v", err)
	}
}

func TestDatasetTypesClassifiesThePipeline(t *testing.T) {
	p := mustParse(t, threeTasks)
	if err := p.Validate(dimensions.Default()); err != nil {
		t.Fatal(err)
	}
	inputs, prereqs, inter, outputs, initOut, err := p.DatasetTypes()
	if err != nil {
		t.Fatal(err)
	}
	names := func(ns []DatasetTypeNode) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Name)
		}
		return out
	}
	for _, c := range []struct {
		what string
		got  []string
		want []string
	}{
		{"inputs", names(inputs), []string{"raw"}},
		{"prerequisites", names(prereqs), []string{"masterDark"}},
		{"intermediates", names(inter), []string{"postISRCCD", "sourceTable"}},
		{"outputs", names(outputs), []string{"exposureSummary", "isr_log", "isr_metadata", "measure_log", "measure_metadata", "summarize_log", "summarize_metadata"}},
		{"init-outputs", names(initOut), []string{"isr_config", "measure_config", "summarize_config"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if d := prereqs[0]; !d.IsCalibration || d.StorageClass != "ImageF" || !slices.Equal(d.Dimensions, []string{"instrument", "detector"}) || !slices.Equal(d.Consumers, []string{"isr"}) {
		t.Errorf("masterDark = %+v", d)
	}
	if d := inter[1]; d.Producer != "measure" || d.StorageClass != "ArrowTable" || !slices.Equal(d.Consumers, []string{"summarize"}) {
		t.Errorf("sourceTable = %+v (its producer's storage class, though summarize reads it as DataFrame)", d)
	}
	if prod, ok := p.Producer("sourceTable"); !ok || prod.Label != "measure" {
		t.Errorf("producer of sourceTable = %v", prod)
	}
	if _, ok := p.Producer("raw"); ok {
		t.Error("raw has a producer")
	}
	if cs := p.Consumers("postISRCCD"); len(cs) != 1 || cs[0].Label != "measure" {
		t.Errorf("consumers of postISRCCD = %v", cs)
	}
	if cs := p.Consumers("exposureSummary"); len(cs) != 0 {
		t.Errorf("consumers of exposureSummary = %v", cs)
	}
}

func TestValidateNormalisesDimensions(t *testing.T) {
	p := mustParse(t, joinLines(
		"tasks:",
		"  a:",
		"    class: test.Declared",
		"    config:",
		"      dimensions: [detector, exposure]",
		"      outputs: [{name: o, datasetType: thing, storageClass: Bytes}]",
	))
	if err := p.Validate(dimensions.Default()); err != nil {
		t.Fatal(err)
	}
	a, _ := p.Task("a")
	if want := []string{"instrument", "detector", "exposure"}; !slices.Equal(a.Dimensions, want) {
		t.Errorf("task dimensions = %v, want %v", a.Dimensions, want)
	}
	if o, _ := a.Connection("o"); !slices.Equal(o.Dimensions, []string{"instrument", "detector", "exposure"}) {
		t.Errorf("output dimensions = %v", o.Dimensions)
	}
}

func TestSubsetSelectsTasks(t *testing.T) {
	p := mustParse(t, threeTasks)
	for _, tc := range []struct {
		name      string
		names     []string
		labels    []string
		subsets   []string
		contracts int
	}{
		{"a subset expands to its labels", []string{"step1"}, []string{"isr", "measure"}, []string{"step1"}, 1},
		{"a single label drops the subsets it breaks and its contracts", []string{"measure"}, []string{"measure"}, nil, 0},
		// Without measure, isr and summarize are independent: declaration order.
		{"labels and subsets combine", []string{"isr", "step2"}, []string{"summarize", "isr"}, []string{"step2"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := p.Subset(tc.names...)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Labels(); !slices.Equal(got, tc.labels) {
				t.Errorf("labels = %v, want %v", got, tc.labels)
			}
			if got := sortedKeys(q.Subsets); !slices.Equal(got, tc.subsets) && !(len(got) == 0 && len(tc.subsets) == 0) {
				t.Errorf("subsets = %v, want %v", got, tc.subsets)
			}
			if len(q.Contracts) != tc.contracts {
				t.Errorf("%d contracts, want %d", len(q.Contracts), tc.contracts)
			}
		})
	}
	if _, err := p.Subset("stepp1"); !errors.Is(err, ErrUnknownLabel) || !contains(err.Error(), `did you mean "step1"`) {
		t.Errorf("unknown subset: %v", err)
	}
}

func TestMarshalRoundTrips(t *testing.T) {
	p := mustParse(t, threeTasks)
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(data, "marshalled.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !samePipeline(p, q) {
		t.Errorf("round trip changed the pipeline:\n%s", data)
	}
	again, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("marshal is not stable:\n%s\n---\n%s", data, again)
	}
}

// samePipeline compares what a pipeline means (not where it came from).
func samePipeline(a, b *Pipeline) bool {
	if !slices.Equal(a.Labels(), b.Labels()) || a.Description != b.Description || a.Instrument != b.Instrument ||
		!reflect.DeepEqual(a.Parameters, b.Parameters) || !reflect.DeepEqual(a.Subsets, b.Subsets) ||
		!reflect.DeepEqual(a.SubsetDescriptions, b.SubsetDescriptions) || len(a.Contracts) != len(b.Contracts) {
		return false
	}
	for i, t := range a.Tasks {
		u := b.Tasks[i]
		if t.Class.Name() != u.Class.Name() || !reflect.DeepEqual(t.Config, u.Config) ||
			!reflect.DeepEqual(t.Connections, u.Connections) || !slices.Equal(t.Dimensions, u.Dimensions) {
			return false
		}
	}
	for i, c := range a.Contracts {
		if c.Expr != b.Contracts[i].Expr || c.Msg != b.Contracts[i].Msg {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
