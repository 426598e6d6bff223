package qgraph_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/qgraph/qgraphtest"
)

func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "schemas", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.NewCompiler().Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

func TestBatchAndWaveObjectsMatchTheirJSONSchemas(t *testing.T) {
	batchSchema := compileSchema(t, "qgraph-batch.schema.json")
	waveSchema := compileSchema(t, "qgraph-wave.schema.json")
	b, info := repo(t, qgraphtest.Spec{Exposures: 3, Partial: []int{4}})
	p := spherex(t)
	// A first graph, whose isr outputs then exist for one exposure: the
	// second graph skips those quanta and reads the existing outputs
	// (inputs with datastore records, intermediates and finals).
	h, err := qgraph.Plan(ctx, b, qgraph.Options{Pipeline: p, Inputs: inputs, Output: "u/test/out", BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	insertOutputs(t, b, h.OutputRun, []string{"postISRCCD", "isr_metadata", "isr_log"}, info.Exposures[:1], []int{1, 2, 3, 4, 5, 6})
	h2, err := qgraph.Plan(ctx, b, qgraph.Options{Pipeline: p, Output: "u/test/out", SkipExistingIn: []string{"u/test/out"}, BatchSize: 7,
		Now: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if h2.SkipExisted != 6 {
		t.Fatalf("second plan skipped %d quanta, want 6", h2.SkipExisted)
	}
	checked := 0
	for _, hd := range []*qgraph.Header{h, h2} {
		for w := range hd.Waves {
			data, err := b.Store.Get(ctx, qgraph.WaveKey(hd.GraphID, w))
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, waveSchema, data); err != nil {
				t.Fatalf("wave %d of %s: %v", w, hd.GraphID, err)
			}
			var items []qgraph.BatchItem
			if err := json.Unmarshal(data, &items); err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				data, err := b.Store.Get(ctx, it.Key)
				if err != nil {
					t.Fatal(err)
				}
				if err := validate(t, batchSchema, data); err != nil {
					t.Fatalf("batch %s: %v", it.Key, err)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d batches checked", checked)
	}
	// The schemas do check: a batch without its datasets' records fails.
	data, _ := b.Store.Get(ctx, qgraph.BatchKey(h.GraphID, "0000-isr-000000"))
	bad := bytes.Replace(data, []byte(`"file":{`), []byte(`"fyle":{`), 1)
	if err := validate(t, batchSchema, bad); err == nil || !strings.Contains(err.Error(), "fyle") {
		t.Fatalf("a corrupted batch validates: %v", err)
	}
	if err := validate(t, waveSchema, []byte(`[{"graph_id":"x","batch":"b","key":"k","wave":0,"quanta":1}]`)); err == nil {
		t.Fatal("a corrupted wave manifest validates")
	}
}
