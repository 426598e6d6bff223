package merge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/registry"
)

func TestMain(m *testing.M) { s3test.Main(m) }

var ctx = context.Background()

// Two test task classes: "double" copies a Bytes input twice into its
// output (and fails for the detectors listed in failOn); "concat" joins all
// its (multiple) inputs.
type double struct{}

func (double) Name() string { return "test.Double" }
func (double) ConfigSchema() pipeline.ConfigSchema {
	return pipeline.ConfigSchema{Fields: []pipeline.ConfigField{{Name: "failOn", Type: pipeline.FieldList}}}
}
func (double) Dimensions(pipeline.Config) []string { return []string{"instrument", "detector"} }
func (double) Connections(pipeline.Config) []pipeline.Connection {
	return []pipeline.Connection{pipeline.NewInput("in", "notes", "Bytes", "instrument", "detector"),
		pipeline.NewOutput("out", "doubled", "Bytes", "instrument", "detector")}
}
func (double) New(cfg pipeline.Config) (pipeline.Task, error) { return doubleTask{cfg}, nil }

type doubleTask struct{ cfg pipeline.Config }

func (t doubleTask) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	for _, f := range t.cfg.List("failOn") {
		if fmt.Sprint(f) == fmt.Sprint(q.DataID["detector"]) {
			return errors.New("detector is broken")
		}
	}
	obj, err := b.Get(ctx, "in", 0)
	if err != nil {
		return err
	}
	data := obj.([]byte)
	b.Log().Info("doubling", "bytes", len(data))
	return b.Put(ctx, append(append([]byte{}, data...), data...), "out", 0)
}

type concat struct{}

func (concat) Name() string                        { return "test.Concat" }
func (concat) ConfigSchema() pipeline.ConfigSchema { return pipeline.ConfigSchema{} }
func (concat) Dimensions(pipeline.Config) []string { return []string{"instrument"} }
func (concat) Connections(pipeline.Config) []pipeline.Connection {
	in := pipeline.NewInput("in", "doubled", "Bytes", "instrument", "detector")
	in.Multiple = true
	return []pipeline.Connection{in, pipeline.NewOutput("out", "joined", "Bytes", "instrument")}
}
func (concat) New(pipeline.Config) (pipeline.Task, error) { return concatTask{}, nil }

type concatTask struct{}

func (concatTask) Run(ctx context.Context, b pipeline.QuantumButler, q pipeline.QuantumContext) error {
	var all []byte
	for i := range b.Refs("in") {
		obj, err := b.Get(ctx, "in", i)
		if err != nil {
			return err
		}
		all = append(all, obj.([]byte)...)
	}
	return b.Put(ctx, all, "out", 0)
}

func init() {
	pipeline.Register(double{})
	pipeline.Register(concat{})
}

// setup makes a repository with 6 "notes" datasets (one per detector) and
// writes a hand-planned graph: 6 double quanta (wave 0, 2 batches) feeding
// one concat quantum (wave 1).
func setup(t *testing.T, uri string, failOn []any) (*butler.Butler, string) {
	t.Helper()
	b, err := butler.Create(ctx, uri, butler.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := dimensions.LoadInstrument("spherex")
	if _, _, _, err := b.RegisterInstrument(ctx, data); err != nil {
		t.Fatal(err)
	}
	run, out := "raw/notes", "u/test/run1"
	if _, err := b.Registry.RegisterCollections(ctx, registry.Collection{Name: run, Type: registry.Run}, registry.Collection{Name: out, Type: registry.Run}); err != nil {
		t.Fatal(err)
	}
	for _, dt := range []registry.DatasetType{
		{Name: "notes", Dimensions: []string{"detector"}, StorageClass: "Bytes"},
		{Name: "doubled", Dimensions: []string{"detector"}, StorageClass: "Bytes"},
		{Name: "joined", Dimensions: []string{"instrument"}, StorageClass: "Bytes"},
		{Name: "double_metadata", Dimensions: []string{"detector"}, StorageClass: "TaskMetadata"},
		{Name: "double_log", Dimensions: []string{"detector"}, StorageClass: "ButlerLogRecords"},
		{Name: "double_config", StorageClass: "Config"},
	} {
		if _, err := b.Registry.RegisterDatasetTypes(ctx, dt); err != nil {
			t.Fatal(err)
		}
	}
	graphID := "20260301T000000-test"
	batch0 := qgraph.Batch{GraphID: graphID, Wave: 0, Repo: b.URI, OutputRun: out, Datasets: map[string]qgraph.DatasetSpec{},
		Tasks: map[string]qgraph.TaskSpec{"double": {Label: "double", Class: "test.Double", Config: map[string]any{"failOn": failOn}, Dimensions: []string{"instrument", "detector"}}}}
	var doubledIDs []string
	snap := b.Registry.Current()
	for d := 1; d <= 6; d++ {
		id := map[string]any{"instrument": "SPHEREx", "detector": int64(d)}
		ref, err := b.Put(ctx, []byte(fmt.Sprintf("det%d;", d)), "notes", id, run)
		if err != nil {
			t.Fatal(err)
		}
		snap = b.Registry.Current()
		recs, _ := snap.FileRecords(ctx, "notes")
		f := recs[ref.ID][0]
		batch0.Datasets[ref.ID] = qgraph.DatasetSpec{ID: ref.ID, DatasetType: "notes", Run: run, DataID: id, StorageClass: "Bytes", File: &f}
		q := qgraph.Quantum{ID: fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", d), Task: "double", DataID: id,
			Inputs: map[string][]string{"in": {ref.ID}}, Outputs: map[string][]string{}}
		for _, o := range []struct{ conn, dt, sc string }{{"out", "doubled", "Bytes"}, {"_metadata", "double_metadata", "TaskMetadata"}, {"_log", "double_log", "ButlerLogRecords"}} {
			oid := registry.NewDatasetID()
			dt, _ := snap.DatasetType(ctx, o.dt)
			fm, _ := datastore.FormatterFor(o.sc, "")
			path, err := b.FilePath(snap, dt, registry.DatasetRef{ID: oid, DatasetType: o.dt, Run: out, DataID: id})
			if err != nil {
				t.Fatal(err)
			}
			batch0.Datasets[oid] = qgraph.DatasetSpec{ID: oid, DatasetType: o.dt, Run: out, DataID: id, StorageClass: o.sc, Formatter: fm.Name(), URI: path + fm.Extension(), Producer: q.ID}
			q.Outputs[o.conn] = []string{oid}
			if o.conn == "out" {
				doubledIDs = append(doubledIDs, oid)
			}
		}
		batch0.Quanta = append(batch0.Quanta, q)
	}
	batch1 := qgraph.Batch{GraphID: graphID, Wave: 1, Repo: b.URI, OutputRun: out, Datasets: map[string]qgraph.DatasetSpec{},
		Tasks: map[string]qgraph.TaskSpec{"concat": {Label: "concat", Class: "test.Concat", Config: map[string]any{}, Dimensions: []string{"instrument"}}}}
	cq := qgraph.Quantum{ID: "00000000-0000-4000-8000-000000000010", Task: "concat", DataID: map[string]any{"instrument": "SPHEREx"},
		Wave: 1, Inputs: map[string][]string{"in": doubledIDs}, Outputs: map[string][]string{}}
	for i, id := range doubledIDs {
		batch1.Datasets[id] = batch0.Datasets[id]
		cq.Upstream = append(cq.Upstream, batch0.Quanta[i].ID)
	}
	jid := registry.NewDatasetID()
	batch1.Datasets[jid] = qgraph.DatasetSpec{ID: jid, DatasetType: "joined", Run: out, DataID: cq.DataID, StorageClass: "Bytes", Formatter: "bytes", URI: out + "/joined/joined.dat", Producer: cq.ID}
	cq.Outputs["out"] = []string{jid}
	batch1.Quanta = []qgraph.Quantum{cq}
	put := func(key string, v any) {
		data, _ := json.Marshal(v)
		if _, err := b.Store.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
	}
	b0a, b0b := batch0, batch0
	b0a.Batch, b0a.Quanta = "w0-a", batch0.Quanta[:3]
	b0b.Batch, b0b.Quanta = "w0-b", batch0.Quanta[3:]
	batch1.Batch = "w1-a"
	for _, bt := range []qgraph.Batch{b0a, b0b, batch1} {
		put(qgraph.BatchKey(graphID, bt.Batch), bt)
	}
	put(qgraph.WaveKey(graphID, 0), []qgraph.BatchItem{{GraphID: graphID, Batch: "w0-a", Key: qgraph.BatchKey(graphID, "w0-a"), Quanta: 3},
		{GraphID: graphID, Batch: "w0-b", Key: qgraph.BatchKey(graphID, "w0-b"), Quanta: 3}})
	put(qgraph.WaveKey(graphID, 1), []qgraph.BatchItem{{GraphID: graphID, Batch: "w1-a", Key: qgraph.BatchKey(graphID, "w1-a"), Wave: 1, Quanta: 1}})
	put(qgraph.ManifestKey(graphID), qgraph.Header{GraphID: graphID, Created: time.Now(), Repo: b.URI, Inputs: []string{run}, OutputRun: out,
		Output: "u/test", Waves: 2, Batches: 3, Quanta: 7, TaskQuanta: []qgraph.TaskSum{{Label: "double", Class: "test.Double", Quanta: 6}, {Label: "concat", Class: "test.Concat", Quanta: 1}}})
	return b, graphID
}

func count(t *testing.T, b *butler.Butler, dt string) int {
	t.Helper()
	fresh, err := butler.Open(ctx, b.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := fresh.Registry.Current().Datasets(ctx, dt)
	if err != nil {
		t.Fatal(err)
	}
	return len(refs)
}

func TestRunThenMergeRegistersExactlyTheOutputsOfSucceededQuanta(t *testing.T) {
	b, graphID := setup(t, t.TempDir(), nil)
	docs, err := execute.RunLocal(ctx, b.Store, graphID, 2, execute.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := execute.Summarize(docs); s.Succeeded != 7 {
		t.Fatalf("statuses %+v", s)
	}
	res, err := Merge(ctx, b, graphID, Options{ChunkSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Merged != 7 || res.Datasets != 19 || res.Commits != 3 {
		t.Fatalf("merge %+v", res)
	}
	for dt, want := range map[string]int{"doubled": 6, "joined": 1, "double_metadata": 6, "double_log": 6, "double_config": 1} {
		if n := count(t, b, dt); n != want {
			t.Errorf("%d %s datasets, want %d", n, dt, want)
		}
	}
	obj, _, err := b.Get(ctx, "joined", map[string]any{"instrument": "SPHEREx"}, []string{"u/test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(obj.([]byte)); got != "det1;det1;det2;det2;det3;det3;det4;det4;det5;det5;det6;det6;" {
		t.Fatalf("joined %q", got)
	}
	c, err := b.Registry.Current().Collection(ctx, "u/test")
	if err != nil || c.Children[0] != "u/test/run1" {
		t.Fatalf("output chain %+v %v", c, err)
	}
	// Provenance rows match the documents; actual inputs name the real files.
	rows, _ := b.Registry.Current().QuantaRows(graphID)
	if len(rows) != 7 {
		t.Fatalf("%d quanta rows", len(rows))
	}
	doc, err := execute.ReadProvenance(ctx, b.Store, "u/test/run1", "00000000-0000-4000-8000-000000000010")
	if err != nil || len(doc.Inputs) != 6 || !doc.Inputs[0].Actual || !strings.HasPrefix(doc.Inputs[0].URI, "u/test/run1/doubled/") {
		t.Fatalf("concat provenance %+v %v", doc, err)
	}
	// Merging again changes nothing.
	before, _ := objstore.ListAll(ctx, b.Store, "registry/")
	res, err = Merge(ctx, b, graphID, Options{})
	if err != nil || res.Merged != 0 || res.Already != 7 || res.Commits != 0 {
		t.Fatalf("second merge %+v %v", res, err)
	}
	after, _ := objstore.ListAll(ctx, b.Store, "registry/")
	if len(before) != len(after) {
		t.Fatalf("a second merge wrote %d registry objects", len(after)-len(before))
	}
}

func TestAFailedQuantumBlocksDownstreamAndRegistersNothing(t *testing.T) {
	b, graphID := setup(t, t.TempDir(), []any{int64(4)})
	docs, err := execute.RunLocal(ctx, b.Store, graphID, 2, execute.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := execute.Summarize(docs); s.Succeeded != 5 || s.Failed != 1 || s.Blocked != 1 {
		t.Fatalf("statuses %+v", s)
	}
	if _, err := Merge(ctx, b, graphID, Options{}); err != nil {
		t.Fatal(err)
	}
	for dt, want := range map[string]int{"doubled": 5, "joined": 0, "double_metadata": 5, "double_log": 5} {
		if n := count(t, b, dt); n != want {
			t.Errorf("%d %s datasets, want %d", n, dt, want)
		}
	}
	h, _ := ReadHeader(ctx, b.Store, graphID)
	all, _ := ReadProvenance(ctx, b.Store, h, 4)
	rep := execute.NewReport(h, all)
	if len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0].Error, "detector is broken") || !strings.Contains(rep.Failures[0].DataID, "detector=4") {
		t.Fatalf("failures %+v", rep.Failures)
	}
	page, err := rep.HTML()
	if err != nil || !strings.Contains(string(page), "detector is broken") {
		t.Fatalf("html: %v", err)
	}
}

func TestAMissingInputFailsExactlyTheQuantaThatNeedIt(t *testing.T) {
	b, graphID := setup(t, t.TempDir(), nil)
	recs, _ := b.Registry.Current().FileRecords(ctx, "notes")
	refs, _ := b.Registry.Current().Datasets(ctx, "notes")
	var victim registry.DatasetRef
	for _, r := range refs {
		if r.DataID["detector"] == int64(2) {
			victim = r
		}
	}
	if err := b.Store.Delete(ctx, butler.DatastorePrefix+recs[victim.ID][0].URI); err != nil {
		t.Fatal(err)
	}
	docs, err := execute.RunLocal(ctx, b.Store, graphID, 2, execute.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		want := execute.Succeeded
		if d.DataID["detector"] == float64(2) || d.DataID["detector"] == int64(2) {
			want = execute.Failed
		}
		if d.TaskLabel == "concat" {
			want = execute.Blocked
		}
		if d.Status != want {
			t.Errorf("%s %v: %s (%s), want %s", d.TaskLabel, d.DataID, d.Status, d.ErrorMessage, want)
		}
		if d.Status == execute.Failed && (d.ErrorType != "missing_input" || !strings.Contains(d.ErrorMessage, "notes")) {
			t.Errorf("error %s: %s", d.ErrorType, d.ErrorMessage)
		}
	}
}

// TestConcurrentMergesRegisterEverythingOnce: two merges of the same graph at
// once, on versitygw, yield one copy of every row.
func TestConcurrentMergesRegisterEverythingOnce(t *testing.T) {
	srv := s3test.Shared(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("SKYBUTLER_CACHE_DIR", t.TempDir())
	b, graphID := setup(t, "s3://"+srv.NewBucket(t)+"/repo", nil)
	for _, batch := range []string{"w0-a", "w0-b", "w1-a"} { // as three Lambda invocations would
		if _, err := execute.RunBatch(ctx, b.Store, qgraph.BatchKey(graphID, batch), execute.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other, err := butler.Open(ctx, b.URI, nil)
			if err == nil {
				_, err = Merge(ctx, other, graphID, Options{ChunkSize: 2})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := count(t, b, "doubled"); n != 6 {
		t.Fatalf("%d doubled datasets, want 6", n)
	}
	fresh, _ := butler.Open(ctx, b.URI, nil)
	rows, _ := fresh.Registry.Current().QuantaRows(graphID)
	if len(rows) != 7 {
		t.Fatalf("%d quanta rows, want 7", len(rows))
	}
}

// TestTheFunctionHandlersRunTheExampleEvents drives the execute and merge
// handlers with the events/ payloads, as Step Functions would.
func TestTheFunctionHandlersRunTheExampleEvents(t *testing.T) {
	b, graphID := setup(t, t.TempDir(), nil)
	if graphID != "20260301T000000-test" {
		t.Fatalf("the event files name another graph than %s", graphID)
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("../../events", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	r1, err := execute.HandleExecute(ctx, b.Store, read("execute-item.json"), execute.Options{})
	if err != nil || r1.Succeeded != 3 {
		t.Fatalf("execute item: %+v %v", r1, err)
	}
	r2, err := execute.HandleExecute(ctx, b.Store, read("execute-items.json"), execute.Options{})
	if err != nil || r2.Succeeded != 4 || len(r2.Batches) != 2 {
		t.Fatalf("execute items: %+v %v", r2, err)
	}
	res, err := HandleEvent(ctx, b, read("merge.json"), Options{})
	if err != nil || res.Merged != 7 {
		t.Fatalf("merge: %+v %v", res, err)
	}
}

// TestProvenanceDocumentsMatchTheirSchema validates the documents of a run
// with a failure, a block and successes against schemas/provenance.schema.json.
func TestProvenanceDocumentsMatchTheirSchema(t *testing.T) {
	b, graphID := setup(t, t.TempDir(), []any{int64(2)})
	if _, err := execute.RunLocal(ctx, b.Store, graphID, 2, execute.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	schema, err := jsonschema.NewCompiler().Compile("../../schemas/provenance.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := objstore.ListAll(ctx, b.Store, "provenance/")
	if err != nil || len(objs) != 7 {
		t.Fatalf("%d documents (%v)", len(objs), err)
	}
	statuses := map[string]int{}
	for _, o := range objs {
		data, _ := b.Store.Get(ctx, o.Key)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		var p execute.Provenance
		json.Unmarshal(data, &p)
		statuses[p.Status]++
	}
	if statuses["failed"] != 1 || statuses["blocked"] != 1 || statuses["succeeded"] != 5 {
		t.Fatalf("statuses %v", statuses)
	}
	// And a broken document is refused.
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"schema": "skybutler/provenance/v1", "status": "done"}`))
	if schema.Validate(inst) == nil {
		t.Fatal("an invalid document passed the schema")
	}
}
