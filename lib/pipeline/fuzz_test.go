package pipeline

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// FuzzParse checks that parsing pipeline YAML never panics (parse's
// recover would report an "internal error"), that Validate never panics
// either, and that every pipeline it accepts survives a Marshal/Parse
// round trip unchanged. Imports are read from an in-memory FS holding
// base.yaml, so the fuzzer never touches the disk. Seeds:
// testdata/fuzz/FuzzParse plus the pipelines of the tests.
func FuzzParse(f *testing.F) {
	for _, s := range []string{threeTasks, basePipeline,
		joinLines("imports:", "  - {location: base.yaml, exclude: [step1]}", "tasks:", "  x: {class: test.Declared, config: {inputs: [{name: i, datasetType: exposureSummary, storageClass: ArrowTable}]}}"),
		joinLines("tasks:", "  run:", "    class: exec", "    config:", "      command: [cp, '{input:a}', '{output:b}']", "      inputs: [{name: a, storageClass: Bytes}]", "      outputs: [{name: b, storageClass: Bytes}]"),
	} {
		f.Add([]byte(s))
	}
	fsys := fstest.MapFS{"base.yaml": {Data: []byte(basePipeline)}}
	u := dimensions.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parse(&loader{fsys: fsys}, data, "fuzz.yaml", "", false)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("parse panicked: %v", err)
			}
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("marshal an accepted pipeline: %v", err)
		}
		q, err := parse(&loader{fsys: fsys}, out, "marshalled.yaml", "", false)
		if err != nil {
			t.Fatalf("reparse the marshalled pipeline: %v\n%s", err, out)
		}
		if !samePipeline(p, q) {
			t.Fatalf("round trip changed the pipeline:\n%s", out)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Validate panicked: %v", r)
				}
			}()
			_ = p.Validate(u)
			_, _, _, _, _, _ = p.DatasetTypes()
		}()
	})
}
