package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pipelineRepo ingests 2 exposures of raws and darks, certifies the darks
// and defines SPHEREx/defaults.
func pipelineRepo(t *testing.T, r repo) {
	t.Helper()
	rawRepo(t, r)
	r.ok(t, "certify-calibrations", r.uri, "SPHEREx/calib/ingest", "SPHEREx/calib", "dark", "--begin-date", "2026-01-01", "--end-date", "2027-01-01")
	r.ok(t, "collection-chain", r.uri, "SPHEREx/defaults", "SPHEREx/raw/all", "SPHEREx/calib")
}

// failingPipeline is the example pipeline with measure replaced by a task
// that fails for detector 3 of one exposure.
func failingPipeline(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("../../examples/pipelines/spherex.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "failing.yaml")
	yaml := `imports:
  - location: ` + abs + `
    importContracts: false
tasks:
  measure:
    class: skybutler.examples.FailTask
    config:
      dimensions: [instrument, exposure, detector]
      inputs:
        - {name: exposure, datasetType: postISRCCD, storageClass: ExposureF}
      outputs:
        - {name: sources, datasetType: sourceTable, storageClass: ArrowTable}
      failOn:
        - {exposure: 2026030100002, detector: 3}
`
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func datasetCount(t *testing.T, r repo, dt, collection string) int {
	t.Helper()
	return len(jsonRows(t, r.ok(t, "query-datasets", r.uri, dt, "--collections", collection, "--format", "json")))
}

func TestRunThenQueryExactCounts(t *testing.T) {
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			pipelineRepo(t, r)
			out := r.ok(t, "run", r.uri, "-p", "../../examples/pipelines/spherex.yaml", "-i", "SPHEREx/defaults", "-o", "u/test/out", "-j", "2")
			if !strings.Contains(out, "Executed 26 quanta: 26 succeeded") {
				t.Fatalf("run: %s", out)
			}
			for dt, want := range map[string]int{"postISRCCD": 12, "sourceTable": 12, "exposureSummary": 2, "isr_metadata": 12, "summarize_log": 2, "isr_config": 1} {
				if n := datasetCount(t, r, dt, "u/test/out"); n != want {
					t.Errorf("%d %s, want %d", n, dt, want)
				}
			}
			// The summary names the 6 source tables it read; provenance rows match.
			graph := strings.Fields(strings.SplitN(out, "Planned graph ", 2)[1])[0]
			graph = strings.TrimSuffix(graph, ":")
			rep := r.ok(t, "report", r.uri, graph, "--format", "json")
			var report struct {
				Tasks []struct {
					Label     string
					Succeeded int
				}
			}
			json.Unmarshal([]byte(rep), &report)
			if len(report.Tasks) != 3 || report.Tasks[2].Succeeded != 2 {
				t.Fatalf("report %s", rep)
			}
			// Merge again: nothing new.
			if out := r.ok(t, "merge", r.uri, graph); !strings.Contains(out, "0 quanta (26 merged before), 0 datasets, 0 commits") {
				t.Fatalf("second merge: %s", out)
			}
		})
	}
}

func TestAFailingQuantumBlocksItsDownstream(t *testing.T) {
	r := fileRepo(t)
	pipelineRepo(t, r)
	res := r.run(t, "run", r.uri, "-p", failingPipeline(t), "-i", "SPHEREx/defaults", "-o", "u/test/fail", "-j", "2")
	if res.code != 1 || !strings.Contains(res.stdout, "Executed 26 quanta: 24 succeeded, 1 failed, 1 blocked") {
		t.Fatalf("run: %+v", res)
	}
	if n := datasetCount(t, r, "sourceTable", "u/test/fail"); n != 11 {
		t.Errorf("%d source tables, want 11 (the failed quantum's outputs are not registered)", n)
	}
	if n := datasetCount(t, r, "exposureSummary", "u/test/fail"); n != 1 {
		t.Errorf("%d summaries, want 1 (the other exposure's is blocked)", n)
	}
	graphs, _ := os.ReadDir(filepath.Join(r.uri, "qgraphs"))
	html := filepath.Join(t.TempDir(), "report.html")
	out := r.ok(t, "report", r.uri, graphs[0].Name(), "--html", html)
	if !strings.Contains(out, "detector=3") || !strings.Contains(out, "injected") && !strings.Contains(out, "fail") {
		t.Fatalf("report: %s", out)
	}
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), "Timeline") || !strings.Contains(string(page), "detector=3") {
		t.Fatal("the HTML report lacks the timeline or the failure")
	}
}

func TestAnInterruptedRunCompletesWithoutDuplicates(t *testing.T) {
	r := fileRepo(t)
	pipelineRepo(t, r)
	// Plan and execute in a process that is killed midway.
	cmd := exec.Command(binary, "run", r.uri, "-p", "../../examples/pipelines/spherex.yaml", "-i", "SPHEREx/defaults", "--output-run", "u/test/run", "-j", "1")
	cmd.Env = append(os.Environ(), "SKYBUTLER_CACHE_DIR="+r.cache)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	provDir := filepath.Join(r.uri, "provenance", "u", "test", "run")
	for i := 0; i < 400; i++ {
		entries, _ := os.ReadDir(provDir)
		if len(entries) >= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Again, onto the same run.
	out := r.ok(t, "run", r.uri, "-p", "../../examples/pipelines/spherex.yaml", "-i", "SPHEREx/defaults", "--output-run", "u/test/run", "--extend-run", "-j", "2")
	if !strings.Contains(out, "26 succeeded") {
		t.Fatalf("second run: %s", out)
	}
	for dt, want := range map[string]int{"postISRCCD": 12, "sourceTable": 12, "exposureSummary": 2} {
		if n := datasetCount(t, r, dt, "u/test/run"); n != want {
			t.Errorf("%d %s, want %d", n, dt, want)
		}
	}
	if out := r.ok(t, "verify", r.uri, "--collections", "u/test/run", "--full"); !strings.Contains(out, "no problems") {
		t.Fatalf("verify: %s", out)
	}
}

func TestAMissingInputFailsOnlyTheQuantaThatNeedIt(t *testing.T) {
	r := fileRepo(t)
	pipelineRepo(t, r)
	rows := jsonRows(t, r.ok(t, "query-datasets", r.uri, "raw", "--where", "detector = 5 AND exposure.seq_num = 1", "--show-uri", "--format", "json"))
	if len(rows) != 1 {
		t.Fatalf("%d raws", len(rows))
	}
	os.Remove(strings.TrimPrefix(rows[0]["uri"].(string), "file://"))
	res := r.run(t, "run", r.uri, "-p", "../../examples/pipelines/spherex.yaml", "-i", "SPHEREx/defaults", "-o", "u/test/missing", "-j", "2")
	if res.code != 1 || !strings.Contains(res.stdout, "Executed 26 quanta: 23 succeeded, 1 failed, 2 blocked") {
		t.Fatalf("run: %+v", res)
	}
	if n := datasetCount(t, r, "postISRCCD", "u/test/missing"); n != 11 {
		t.Errorf("%d postISRCCD, want 11", n)
	}
	graphs, _ := os.ReadDir(filepath.Join(r.uri, "qgraphs"))
	out := r.ok(t, "report", r.uri, graphs[0].Name())
	if !strings.Contains(out, "missing") || !strings.Contains(out, "detector=5") {
		t.Fatalf("report: %s", out)
	}
}
