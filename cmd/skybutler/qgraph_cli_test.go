package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/qgraph"
)

const spherexPipeline = "../../examples/pipelines/spherex.yaml"

// TestQgraphPlansIngestedRawsEndToEnd plans the example pipeline over raws
// and darks ingested with ingest-raws (2 exposures x 6 detectors), on a
// local repository and on versitygw.
func TestQgraphPlansIngestedRawsEndToEnd(t *testing.T) {
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			rawRepo(t, r)
			r.ok(t, "certify-calibrations", r.uri, "SPHEREx/calib/ingest", "SPHEREx/calib", "dark", "--begin-date", "2026-01-01", "--end-date", "2027-01-01")
			work := t.TempDir()
			saved, dot := filepath.Join(work, "g.qgraph"), filepath.Join(work, "g.dot")
			out := r.ok(t, "qgraph", r.uri, "-p", spherexPipeline, "-i", "SPHEREx/raw/all,SPHEREx/calib", "-o", "u/test/spherex",
				"--save-qgraph", saved, "--qgraph-dot", dot, "--show", "summary", "--batch-size", "5")
			m := regexp.MustCompile(`Planned graph (\S+): 26 quanta \(isr 12, measure 12, summarize 2\) in 3 waves, 7 batches; output run (u/test/spherex/\d{8}T\d{6}Z)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("qgraph output:\n%s", out)
			}
			graphID, run := m[1], m[2]
			for _, re := range []string{`(?m)^isr\s+12\s+skybutler.examples.IsrTask$`, `(?m)^summarize\s+2\s+skybutler.examples.SummarizeTask$`} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Fatalf("summary does not match %s:\n%s", re, out)
				}
			}
			// The graph is in the repository, complete.
			ctx := context.Background()
			objs, err := objstore.ListAll(ctx, r.store, qgraph.Prefix+graphID+"/")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			for _, k := range []string{qgraph.ManifestKey(graphID), qgraph.GraphKey(graphID), qgraph.WaveKey(graphID, 2), qgraph.BatchKey(graphID, "0002-summarize-000000")} {
				if !slices.Contains(keys, k) {
					t.Fatalf("%s missing from %v", k, keys)
				}
			}
			if len(keys) != 1+1+3+7 {
				t.Fatalf("%d graph objects, want 12: %v", len(keys), keys)
			}
			loaded, err := qgraph.Load(ctx, r.store, graphID)
			if err != nil || loaded.Header.Quanta != 26 || loaded.Header.OutputRun != run {
				t.Fatalf("load: %v %+v", err, loaded)
			}
			// --save-qgraph wrote the same graph.
			f, err := os.Open(saved)
			if err != nil {
				t.Fatal(err)
			}
			local, err := qgraph.ReadGraph(f)
			f.Close()
			if err != nil || local.Header.GraphID != graphID {
				t.Fatalf("saved graph: %v", err)
			}
			// --qgraph-dot renders.
			if dotBin, err := exec.LookPath("dot"); err == nil {
				if out, err := exec.Command(dotBin, "-Tsvg", "-o", filepath.Join(work, "g.svg"), dot).CombinedOutput(); err != nil {
					t.Fatalf("dot: %v: %s", err, out)
				}
			}
			// The output chain and run are registered.
			var cs []struct {
				Name, Type string
				Children   []string
			}
			if err := json.Unmarshal([]byte(r.ok(t, "query-collections", r.uri, "--format", "json")), &cs); err != nil {
				t.Fatal(err)
			}
			types := map[string]string{}
			for _, c := range cs {
				types[c.Name] = c.Type
			}
			if types["u/test/spherex"] != "CHAINED" || types[run] != "RUN" {
				t.Fatalf("collections %v", types)
			}
			// --show graph, a data query and JSON output.
			out = r.ok(t, "qgraph", r.uri, "-p", spherexPipeline+"#isr", "-i", "SPHEREx/raw/all,SPHEREx/calib", "--output-run", "u/test/isr",
				"-d", "detector IN (d) AND exposure.seq_num = 1", "--bind", "d=3", "--show", "graph", "--format", "json")
			if n := strings.Count(out, "Quantum "); n != 1 || !strings.Contains(out, "Prerequisite dark: dark") {
				t.Fatalf("--show graph:\n%s", out)
			}
			var h qgraph.Header
			if err := json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &h); err != nil || h.Quanta != 1 || h.OutputRun != "u/test/isr" {
				t.Fatalf("json header: %v %+v", err, h)
			}
		})
	}
}

func TestQgraphErrorsAreOneLineAndChangeNothing(t *testing.T) {
	r := fileRepo(t)
	rawRepo(t, r)
	r.ok(t, "register-collection", r.uri, "u/test/taken", "--type", "RUN")
	in := []string{"-p", spherexPipeline, "-i", "SPHEREx/raw/all"} // no darks in the search path
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no pipeline", []string{"-i", "SPHEREx/raw/all", "-o", "x"}, "give the pipeline with -p"},
		{"an existing output run", append(in, "--output-run", "u/test/taken"), "already exists, but --extend-run was not given"},
		{"--replace-run without an output chain", append(in, "--output-run", "u/test/new", "--replace-run"), "--output must point to an existing CHAINED collection"},
		{"no darks", append(in, "-o", "u/test/out"), "prerequisite dark (dataset type dark) not found valid at their times in [SPHEREx/raw/all] for 12 quanta"},
		{"a bad data query", append(in, "-o", "u/test/out", "-d", "detector = "), "data query"},
		{"a bad --show", append(in, "-o", "u/test/out", "--show", "everything"), `--show "everything"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := r.fingerprint(t)
			res := r.run(t, append([]string{"qgraph", r.uri}, tc.args...)...)
			if res.code != 1 || !strings.HasPrefix(res.stderr, "error: ") || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want one error line containing %q", res.code, res.stderr, tc.want)
			}
			after := r.fingerprint(t)
			for k := range after {
				if _, ok := before[k]; !ok && !strings.HasPrefix(k, ".objstore") {
					t.Fatalf("a failed qgraph wrote %s", k)
				}
			}
		})
	}
}
