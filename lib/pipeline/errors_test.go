package pipeline

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// TestLoadErrorsNameFileLineAndKey loads broken pipelines; each error must
// match its sentinel and contain "FILE:LINE: KEY" and the explanation.
func TestLoadErrorsNameFileLineAndKey(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string // p.yaml is loaded unless spec says otherwise
		spec     string
		validate bool
		kind     error
		want     []string
	}{
		{name: "an unknown task class (short form)",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isrr")},
			kind:  ErrUnknownTaskClass, want: []string{"p.yaml:2: tasks.isr: ", `unknown task class "test.Isrr"`, `did you mean "test.Isr"?`}},
		{name: "an unknown task class (long form) points at class",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: no.Such")},
			kind:  ErrUnknownTaskClass, want: []string{"p.yaml:3: tasks.isr.class: ", `"no.Such"`}},
		{name: "an unknown config field",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config:", "      mode: slow", "      doDrak: false")},
			kind:  ErrConfig, want: []string{"p.yaml:6: tasks.isr.config.doDrak: ", `unknown config field "doDrak" of test.Isr`, `did you mean "doDark"?`}},
		{name: "a config value of the wrong type",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config:", "      nIter: 2.5")},
			kind:  ErrConfig, want: []string{"p.yaml:5: tasks.isr.config.nIter: ", "want int, got float 2.5"}},
		{name: "a bool given as a string",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config: {doDark: 'yes'}")},
			kind:  ErrConfig, want: []string{"p.yaml:4: tasks.isr.config.doDark: ", `want bool, got string "yes"`}},
		{name: "a list item of the wrong type",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config:", "      badAmps: [1, two]")},
			kind:  ErrConfig, want: []string{"p.yaml:5: tasks.isr.config.badAmps: ", `item 1: want int, got string "two"`}},
		{name: "a rename of an unknown connection",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config:", "      connections.drak: myDark")},
			kind:  ErrConfig, want: []string{"p.yaml:5: tasks.isr.config.connections.drak: ", `no connection "drak"`, `did you mean "dark"?`}},
		{name: "a rename to an invalid dataset type name",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config:", "      connections: {dark: 'my dark'}")},
			kind:  ErrConfig, want: []string{"p.yaml:5: tasks.isr.config.connections: ", `dataset type name "my dark"`}},
		{name: "an undefined parameter",
			files: map[string]string{"p.yaml": joinLines("parameters: {scale: 2}", "tasks:", "  isr:", "    class: test.Isr", "    config:", "      darkScale: parameters.scal")},
			kind:  ErrParameter, want: []string{"p.yaml:6: tasks.isr.config.darkScale: ", `parameter "scal" is not defined`, `did you mean "scale"?`}},
		{name: "a class's own config check points at the field",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  run:", "    class: exec", "    config:", "      command: [cp, '{input:in}', '{output:out}']", "      inputs: [{name: in, storageClass: Bytes}]", "      outputs: [{name: out, storageClass: Bytes}]", "      timeout: soon")},
			kind:  ErrConfig, want: []string{"p.yaml:8: tasks.run.config.timeout: ", `"soon" is not a positive duration`}},
		{name: "a declared connection with an unknown storage class",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  a:", "    class: test.Declared", "    config:", "      outputs: [{name: o, storageClass: Picture}]")},
			kind:  ErrConfig, want: []string{"p.yaml:5: tasks.a.config.outputs: ", `storage class "Picture"`}},
		{name: "a dimension the universe does not have",
			files:    map[string]string{"p.yaml": joinLines("tasks:", "  a:", "    class: test.Declared", "    config: {dimensions: [instrument, exposre]}")},
			validate: true, kind: ErrDimensions, want: []string{"p.yaml:2: tasks.a: ", `unknown dimension "exposre"`, `did you mean "exposure"?`}},
		{name: "a connection dimension the universe does not have",
			files:    map[string]string{"p.yaml": joinLines("tasks:", "  a:", "    class: test.Declared", "    config:", "      dimensions: [instrument]", "      inputs: [{name: i, storageClass: Bytes, dimensions: [instrument, detectr]}]")},
			validate: true, kind: ErrDimensions, want: []string{"p.yaml:2: tasks.a: ", "connection i", `unknown dimension "detectr"`}},
		{name: "an output with dimensions its task lacks",
			files:    map[string]string{"p.yaml": joinLines("tasks:", "  a:", "    class: test.Declared", "    config:", "      dimensions: [instrument]", "      outputs: [{name: o, storageClass: Bytes, dimensions: [detector]}]")},
			validate: true, kind: ErrDimensions, want: []string{"p.yaml:2: tasks.a: ", "output o", "has dimension detector, which the task (instrument) does not have"}},
		{name: "tasks that disagree about a dataset type's dimensions",
			files: map[string]string{"p.yaml": joinLines("tasks:",
				"  a: {class: test.Declared, config: {dimensions: [instrument], inputs: [{name: i, datasetType: X, storageClass: Bytes}]}}",
				"  b: {class: test.Declared, config: {dimensions: [detector], inputs: [{name: i, datasetType: X, storageClass: Bytes}]}}")},
			validate: true, kind: ErrDatasetTypeConflict, want: []string{"p.yaml:3: tasks.b: ", "dataset type X the dimensions {instrument, detector}, but task a gives it {instrument}"}},
		{name: "an output dataset type produced by two tasks",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  measure: test.Measure", "  measure2:", "    class: test.Measure")},
			kind:  ErrDuplicateOutput, want: []string{"p.yaml:3: tasks.measure2: ", "dataset type sourceTable is an output of task measure2 (connection sources) and of task measure (p.yaml:2)"}},
		{name: "an automatic dataset type produced by a task",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  a: test.Measure", "  b: {class: test.Declared, config: {outputs: [{name: o, datasetType: a_log, storageClass: Bytes}]}}")},
			kind:  ErrDuplicateOutput, want: []string{"dataset type a_log is an output of"}},
		{name: "a cycle between two tasks",
			files: map[string]string{"p.yaml": joinLines("tasks:",
				"  a: {class: test.Declared, config: {inputs: [{name: i, datasetType: X, storageClass: Bytes}], outputs: [{name: o, datasetType: Y, storageClass: Bytes}]}}",
				"  b: {class: test.Declared, config: {inputs: [{name: i, datasetType: Y, storageClass: Bytes}], outputs: [{name: o, datasetType: X, storageClass: Bytes}]}}")},
			kind: ErrCycle, want: []string{"p.yaml:2: tasks.a: ", "a -(Y)-> b -(X)-> a"}},
		{name: "a task reading its own output",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  c:", "    class: test.Declared",
				"    config: {inputs: [{name: i, datasetType: X, storageClass: Bytes}], outputs: [{name: o, datasetType: X, storageClass: Bytes}]}")},
			kind: ErrCycle, want: []string{"p.yaml:2: tasks.c: ", "c -(X)-> c"}},
		{name: "a prerequisite that a task produces",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "  mk: {class: test.Declared, config: {outputs: [{name: o, datasetType: dark, storageClass: ImageF}]}}")},
			kind:  ErrDatasetTypeConflict, want: []string{"p.yaml:2: tasks.isr: ", "prerequisite input dark (dataset type dark) is produced by task mk"}},
		{name: "a dataset type read with an incompatible storage class",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  measure: test.Measure", "  img: {class: test.Declared, config: {inputs: [{name: i, datasetType: sourceTable, storageClass: ImageF}]}}")},
			kind:  ErrDatasetTypeConflict, want: []string{"p.yaml:3: tasks.img: ", "reads dataset type sourceTable as ImageF, but task measure has it as ArrowTable"}},
		{name: "a failing contract gives its message",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "contracts:", "  - contract: isr.darkScale > 1", "    msg: scale the dark up")},
			kind:  ErrContract, want: []string{"p.yaml:4: contracts.0: ", `contract "isr.darkScale > 1" failed: scale the dark up`}},
		{name: "a failing short-form contract",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "contracts:", "  - isr.doDark", "  - not isr.doDark")},
			kind:  ErrContract, want: []string{"p.yaml:5: contracts.1: ", `contract "not isr.doDark" failed`}},
		{name: "a contract about an unknown label",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "contracts:", "  - contract: irs.doDark")},
			kind:  ErrUnknownLabel, want: []string{"p.yaml:4: contracts.0: ", `no task labelled "irs"`, `did you mean "isr"?`}},
		{name: "a contract about an unknown field",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "contracts:", "  - isr.doDrak == True")},
			kind:  ErrContract, want: []string{"p.yaml:4: contracts.0: ", `isr has no field "doDrak"`, `did you mean "doDark"?`}},
		{name: "a contract that does not parse",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "contracts:", "  - 'isr.doDark =='")},
			kind:  ErrSyntax, want: []string{"p.yaml:4: contracts.0: ", "unexpected end of expression"}},
		{name: "a missing import",
			files: map[string]string{"p.yaml": joinLines("imports:", "  - location: nothere.yaml", "tasks: {}")},
			kind:  ErrImport, want: []string{"p.yaml:2: imports.0.location: ", `import "nothere.yaml"`, "no such file"}},
		{name: "an import loop",
			files: map[string]string{
				"p.yaml":     joinLines("imports: [sub/a.yaml]", "tasks: {isr: test.Isr}"),
				"sub/a.yaml": joinLines("description: a", "imports:", "  - ../p.yaml"),
			},
			kind: ErrImport, want: []string{filepath.Join("sub", "a.yaml") + ":3: imports.0: ", "import loop"}},
		{name: "an error inside an import names the imported file",
			files: map[string]string{
				"p.yaml": joinLines("imports: [b.yaml]"),
				"b.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config: {darkScale: high}"),
			},
			kind: ErrConfig, want: []string{"b.yaml:4: tasks.isr.config.darkScale: ", `want float, got string "high"`}},
		{name: "two imports defining one label",
			files: map[string]string{
				"p.yaml": joinLines("imports:", "  - b.yaml", "  - c.yaml"),
				"b.yaml": joinLines("tasks: {isr: test.Isr}"),
				"c.yaml": joinLines("tasks: {isr: test.Isr}"),
			},
			kind: ErrSyntax, want: []string{"p.yaml:3: imports.1: ", "task label isr is also defined by an earlier import"}},
		{name: "an include naming an unknown label",
			files: map[string]string{
				"p.yaml": joinLines("imports:", "  - location: b.yaml", "    include:", "      - isr", "      - mesure"),
				"b.yaml": joinLines("tasks: {isr: test.Isr, measure: test.Measure}"),
			},
			kind: ErrUnknownLabel, want: []string{"p.yaml:5: imports.0.include: ", `"mesure" is neither a task label nor a subset`, `did you mean "measure"?`}},
		{name: "an import with include and exclude",
			files: map[string]string{
				"p.yaml": joinLines("imports:", "  - location: b.yaml", "    include: [isr]", "    exclude: [measure]"),
				"b.yaml": joinLines("tasks: {isr: test.Isr, measure: test.Measure}"),
			},
			kind: ErrSyntax, want: []string{"p.yaml:4: imports.0.exclude: ", "include or exclude, not both"}},
		{name: "a selector naming an unknown label",
			files: map[string]string{"p.yaml": threeTasks},
			spec:  "p.yaml#isr,step3",
			kind:  ErrUnknownLabel, want: []string{"p.yaml: #isr,step3: ", `"step3" is neither a task label nor a subset`, `did you mean "step1"?`}},
		{name: "a subset naming an unknown label",
			files: map[string]string{"p.yaml": joinLines("tasks: {isr: test.Isr}", "subsets:", "  step1: [isr, measure]")},
			kind:  ErrUnknownLabel, want: []string{"p.yaml:3: subsets.step1: ", `no task labelled "measure"`}},
		{name: "a subset named like a task",
			files: map[string]string{"p.yaml": joinLines("tasks: {isr: test.Isr}", "subsets:", "  isr: [isr]")},
			kind:  ErrSyntax, want: []string{"p.yaml:3: subsets.isr: ", "has the name of a task label"}},
		{name: "an unknown top-level key",
			files: map[string]string{"p.yaml": joinLines("description: x", "task:", "  isr: test.Isr")},
			kind:  ErrSyntax, want: []string{"p.yaml:2: ", `unknown key "task"`, `did you mean "tasks"?`}},
		{name: "an unknown key of a task",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    configs: {}")},
			kind:  ErrSyntax, want: []string{"p.yaml:4: tasks.isr: ", `unknown key "configs"`, `did you mean "config"?`}},
		{name: "a label defined twice",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "  isr: test.Isr")},
			kind:  ErrSyntax, want: []string{"p.yaml:3: tasks: ", `duplicate key "isr" (first at line 2)`}},
		{name: "a label that is not an identifier",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  my-task: test.Isr")},
			kind:  ErrSyntax, want: []string{"p.yaml:2: tasks.my-task: ", `task label "my-task"`}},
		{name: "a label that is a reserved word",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  not: test.Isr")},
			kind:  ErrSyntax, want: []string{"p.yaml:2: tasks.not: ", "reserved word"}},
		{name: "a task without a class",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    config: {doDark: false}")},
			kind:  ErrSyntax, want: []string{"p.yaml:2: tasks.isr: ", "task isr has no class"}},
		{name: "malformed YAML",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr: test.Isr", "   bad: [")},
			kind:  ErrSyntax, want: []string{"p.yaml:3: ", "parse YAML"}},
		{name: "a python config block",
			files: map[string]string{"p.yaml": joinLines("tasks:", "  isr:", "    class: test.Isr", "    config:", "      - python: config.doDark = False")},
			kind:  ErrSyntax, want: []string{"p.yaml:5: tasks.isr.config.python: ", "not supported"}},
		{name: "a missing pipeline file",
			files: map[string]string{},
			spec:  "gone.yaml",
			kind:  ErrImport, want: []string{"gone.yaml: ", "read pipeline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			spec := tc.spec
			if spec == "" {
				spec = "p.yaml"
			}
			t.Chdir(dir)
			p, err := Load(spec)
			if err == nil && tc.validate {
				err = p.Validate(dimensions.Default())
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error does not match %v: %v", tc.kind, err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error is not an *Error: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestUnknownDimensionErrorsMatchTheDimensionsPackage(t *testing.T) {
	p := mustParse(t, joinLines("tasks:", "  a: {class: test.Declared, config: {dimensions: [visitt]}}"))
	err := p.Validate(dimensions.Default())
	if !errors.Is(err, dimensions.ErrUnknownDimension) || !errors.Is(err, ErrDimensions) {
		t.Errorf("error = %v", err)
	}
	if a, _ := p.Task("a"); len(a.Dimensions) != 1 || a.Dimensions[0] != "visitt" {
		t.Errorf("a failed Validate changed the task: %v", a.Dimensions)
	}
}
