package qgraph_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
	"github.com/skybutler/skybutler/lib/qgraph"
	"github.com/skybutler/skybutler/lib/qgraph/qgraphtest"
)

func TestMain(m *testing.M) { s3test.Main(m) }

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// planRepo is a repository with 3 exposures and the example pipeline
// stored at pipelines/spherex.yaml, as events/plan-request.json expects.
func planRepo(t *testing.T, uri string) *butler.Butler {
	t.Helper()
	b, err := butler.Create(ctx, uri, butler.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qgraphtest.Populate(ctx, b, qgraphtest.Spec{Exposures: 3, Calibs: []qgraphtest.Calib{{Collection: calib}}}); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile("../../examples/pipelines/spherex.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.Put(ctx, "pipelines/spherex.yaml", yaml); err != nil {
		t.Fatal(err)
	}
	spherex(t) // registers the example task classes
	return b
}

func TestThePlanFunctionAnswersTheExampleRequestWithTheExampleResponse(t *testing.T) {
	for _, kind := range []string{"file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			uri := t.TempDir()
			if kind == "s3" {
				srv := s3test.Shared(t)
				for _, kv := range srv.Env() {
					k, v, _ := strings.Cut(kv, "=")
					t.Setenv(k, v)
				}
				t.Setenv("SKYBUTLER_CACHE_DIR", t.TempDir())
				uri = "s3://" + srv.NewBucket(t) + "/repo"
			}
			b := planRepo(t, uri)
			var req qgraph.PlanRequest
			if err := json.Unmarshal(readEvent(t, "plan-request.json"), &req); err != nil {
				t.Fatal(err)
			}
			if _, err := qgraph.HandlePlan(ctx, b, req, nil); err == nil || !strings.Contains(err.Error(), "s3://skybutler-demo/repo") {
				t.Fatalf("a request for another repository: %v", err)
			}
			req.Repo = b.URI
			got, err := qgraph.HandlePlan(ctx, b, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The example response, for this repository, graph and time.
			var ex qgraph.PlanResponse
			text := readEvent(t, "plan-response.json")
			if err := json.Unmarshal(text, &ex); err != nil {
				t.Fatal(err)
			}
			bucket, prefix := "", ""
			if kind == "s3" {
				bucket, prefix, _ = strings.Cut(strings.TrimPrefix(b.URI, "s3://"), "/")
				prefix += "/"
			}
			r := strings.NewReplacer(ex.GraphID, got.GraphID, ex.OutputRun, got.OutputRun, ex.Repo, b.URI,
				`"bucket": "skybutler-demo"`, `"bucket": "`+bucket+`"`, `"object_key": "repo/`, `"object_key": "`+prefix)
			var want qgraph.PlanResponse
			if err := json.Unmarshal([]byte(r.Replace(string(text))), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, &want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Fatalf("response\n%s\nwant (events/plan-response.json)\n%s", g, r.Replace(string(text)))
			}
			if !strings.HasPrefix(got.OutputRun, "u/ops/spherex/") {
				t.Fatalf("output run %s", got.OutputRun)
			}
			// Each wave's ItemReader location holds its manifest.
			for _, w := range got.Waves {
				items, err := qgraph.LoadWave(ctx, b.Store, got.GraphID, w.Wave)
				if err != nil || len(items) != w.Batches {
					t.Fatalf("wave %d: %v", w.Wave, err)
				}
				if kind == "s3" && w.ObjectKey != "repo/"+w.Key {
					t.Fatalf("wave %d object key %s", w.Wave, w.ObjectKey)
				}
			}
		})
	}
}

func TestThePlanFunctionTakesAnInlinePipeline(t *testing.T) {
	b := planRepo(t, t.TempDir())
	yaml, _ := os.ReadFile("../../examples/pipelines/spherex.yaml")
	got, err := qgraph.HandlePlan(ctx, b, qgraph.PlanRequest{Pipeline: "spherex.yaml#step1", PipelineYAML: string(yaml),
		Inputs: inputs, OutputRun: "u/ops/step1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Quanta != 36 || len(got.Tasks) != 2 || len(got.Waves) != 2 {
		t.Fatalf("response %+v: want isr and measure only", got)
	}
	if _, err := qgraph.HandlePlan(ctx, b, qgraph.PlanRequest{Pipeline: "pipelines/missing.yaml", Inputs: inputs, OutputRun: "x"}, nil); err == nil ||
		!strings.Contains(err.Error(), "pipelines/missing.yaml") {
		t.Fatalf("a missing pipeline: %v", err)
	}
}
