package pipeline_test

import (
	"context"
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/pipeline/pipelinetest"
)

// execNode parses a one-task pipeline whose task "run" has the exec config
// given as YAML flow mappings.
func execNode(t *testing.T, config string) *pipeline.TaskNode {
	t.Helper()
	p, err := pipeline.Parse([]byte("tasks:\n  run:\n    class: exec\n    config:\n"+config), "exec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := p.Task("run")
	return n
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

func runExec(t *testing.T, n *pipeline.TaskNode, b pipeline.QuantumButler, bb *pipelinetest.Butler) error {
	t.Helper()
	task, err := n.NewTask()
	if err != nil {
		t.Fatal(err)
	}
	return task.Run(context.Background(), b, bb.Context(n, t.TempDir()))
}

func TestExecTask(t *testing.T) {
	needTools(t, "cp", "cat", "sort", "printenv", "true", "false", "sleep")
	dataID := map[string]any{"instrument": "SPHEREx", "exposure": int64(7), "detector": int64(3)}
	for _, tc := range []struct {
		name    string
		config  string
		inputs  map[string][]any
		noFiles bool
		check   func(t *testing.T, b *pipelinetest.Butler, err error)
	}{
		{name: "cp copies a staged input to an output file",
			config: `      command: [cp, "{input:in}", "{output:out}"]
      dimensions: [instrument, exposure, detector]
      inputs: [{name: in, datasetType: rawBytes, storageClass: Bytes}]
      outputs: [{name: out, datasetType: copiedBytes, storageClass: Bytes}]
`,
			inputs: map[string][]any{"in": {[]byte("hello\n")}},
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := b.Output("out", 0); string(got.([]byte)) != "hello\n" {
					t.Errorf("output = %q", got)
				}
			}},
		{name: "sort merges every ref of a multiple input into one file",
			config: `      command: [sort, -o, "{output:merged}", "{input:parts:all}"]
      inputs: [{name: parts, storageClass: Bytes, multiple: true}]
      outputs: [{name: merged, storageClass: Bytes}]
`,
			inputs: map[string][]any{"parts": {[]byte("b\nd\n"), []byte("c\na\n")}},
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := b.Output("merged", 0); string(got.([]byte)) != "a\nb\nc\nd\n" {
					t.Errorf("output = %q", got)
				}
			}},
		{name: "cat's stdout and env placeholders go to the log",
			config: `      command: [cat, "{input:in}"]
      env: {DET: "d{dataId:detector}"}
      inputs: [{name: in, storageClass: Bytes}, {name: other, storageClass: Bytes}]
      outputs: []
`,
			inputs: map[string][]any{"in": {[]byte("line one\nline two")}, "other": {[]byte("x")}},
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err != nil {
					t.Fatal(err)
				}
				log := b.LogText()
				if !strings.Contains(log, `msg="line one" stream=stdout`) || !strings.Contains(log, `msg="line two" stream=stdout`) {
					t.Errorf("log:\n%s", log)
				}
				if !reflect.DeepEqual(b.Unused(), map[string][]int{"other": {0}}) {
					t.Errorf("unused = %v (the command never mentions other)", b.Unused())
				}
			}},
		{name: "env values expand placeholders",
			config: `      command: [printenv, DET]
      env: {DET: "det={dataId:detector} label={label}"}
`,
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(b.LogText(), `msg="det=3 label=run"`) {
					t.Errorf("log:\n%s", b.LogText())
				}
			}},
		{name: "a non-zero exit reports the last lines of stderr",
			config: `      command: [cat, /no/such/file]
`,
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				var ee *pipeline.ExecError
				if !errors.As(err, &ee) || ee.ExitCode != 1 {
					t.Fatalf("error = %v", err)
				}
				if !strings.Contains(err.Error(), "exited with status 1; stderr: ") || !strings.Contains(err.Error(), "/no/such/file") {
					t.Errorf("error = %v", err)
				}
			}},
		{name: "the no-work exit status reports no work",
			config: `      command: ["false"]
      noWorkExitCode: 1
`,
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if !errors.Is(err, pipeline.ErrNoWork) {
					t.Errorf("error = %v", err)
				}
			}},
		{name: "a command past its timeout is killed",
			config: `      command: [sleep, "10"]
      timeout: 200ms
`,
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
					t.Errorf("error = %v", err)
				}
			}},
		{name: "an output the command did not write is an error",
			config: `      command: ["true", "{output:out}"]
      outputs: [{name: out, storageClass: Bytes}]
`,
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err == nil || !strings.Contains(err.Error(), "did not write output out") {
					t.Errorf("error = %v", err)
				}
			}},
		{name: "an optional output may be left unwritten",
			config: `      command: ["true"]
      outputs: [{name: out, storageClass: Bytes, optional: true}]
`,
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if len(b.Written()) != 0 {
					t.Errorf("written = %v", b.Written())
				}
			}},
		{name: "without a FileButler images go through the FITS formatter",
			config: `      command: [cp, "{input:img}", "{output:copy}"]
      inputs: [{name: img, storageClass: ExposureF}]
      outputs: [{name: copy, storageClass: ExposureF}]
`,
			noFiles: true,
			inputs:  map[string][]any{"img": {&datastore.Image{Width: 2, Height: 1, Pixels: []float32{1.5, -2}, Header: datastore.Header{{Key: "EXPTIME", Value: 10.0}}}}},
			check: func(t *testing.T, b *pipelinetest.Butler, err error) {
				if err != nil {
					t.Fatal(err)
				}
				got, _ := b.Output("copy", 0)
				img := got.(*datastore.Image)
				if img.Width != 2 || !reflect.DeepEqual(img.Pixels, []float32{1.5, -2}) {
					t.Errorf("image = %+v", img)
				}
				if v, _ := img.Header.Float("EXPTIME"); v != 10 {
					t.Errorf("EXPTIME = %v", v)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := execNode(t, tc.config)
			b := pipelinetest.ForTask(n, dataID)
			for conn, objs := range tc.inputs {
				for _, o := range objs {
					b.AddInput(conn, map[string]any{"detector": int64(3)}, o)
				}
			}
			var qb pipeline.QuantumButler = b
			if tc.noFiles {
				qb = pipelinetest.NoFiles(b)
			}
			start := time.Now()
			err := runExec(t, n, qb, b)
			if time.Since(start) > 8*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			tc.check(t, b, err)
		})
	}
}

func TestExecConfigIsChecked(t *testing.T) {
	def, _ := pipeline.Lookup(pipeline.ExecClass)
	for _, tc := range []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"no command", map[string]any{}, "command: no command is configured"},
		{"an unknown placeholder", map[string]any{"command": []any{"x", "{inptu:a}"}}, "unknown placeholder {inptu:a}"},
		{"an undeclared input", map[string]any{"command": []any{"x", "{input:a}"}}, `no input "a" is declared`},
		{"an output used as an input", map[string]any{"command": []any{"x", "{input:o}"}, "outputs": []any{map[string]any{"name": "o", "storageClass": "Bytes"}}}, `no input "o"`},
		{"an output never mentioned", map[string]any{"command": []any{"x"}, "outputs": []any{map[string]any{"name": "o", "storageClass": "Bytes"}}}, "output o is never mentioned"},
		{"an unterminated placeholder", map[string]any{"command": []any{"x", "{tmpdir"}}, "unterminated placeholder"},
		{"a lone closing brace", map[string]any{"command": []any{"x}"}}, "unmatched '}'"},
		{"a bad index", map[string]any{"command": []any{"x", "{input:a:first}"}, "inputs": []any{map[string]any{"name": "a", "storageClass": "Bytes"}}}, `"first" is neither all nor an index`},
		{"an unknown connection key", map[string]any{"command": []any{"x"}, "inputs": []any{map[string]any{"name": "a", "storageclass": "Bytes"}}}, `unknown key "storageclass"`},
		{"a connection without storage class", map[string]any{"command": []any{"x"}, "inputs": []any{map[string]any{"name": "a"}}}, "no storageClass"},
		{"a bad exit status", map[string]any{"command": []any{"x"}, "noWorkExitCode": 300}, "300 is not an exit status"},
		{"a bad env name", map[string]any{"command": []any{"x"}, "env": map[string]any{"A=B": "c"}}, `bad variable name "A=B"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pipeline.NewConfig(def, tc.cfg)
			if !errors.Is(err, pipeline.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
	cfg, err := pipeline.NewConfig(def, map[string]any{"command": []any{"echo", "{{literal}}", "{tmpdir}/x"}})
	if err != nil {
		t.Fatalf("escaped braces: %v", err)
	}
	if got := cfg.Strings("command"); len(got) != 3 {
		t.Errorf("command = %v", got)
	}
}
