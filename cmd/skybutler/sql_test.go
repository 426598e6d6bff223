package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/delta"
	"github.com/skybutler/skybutler/lib/registry"
)

// sqlRows runs skybutler sql with --format json.
func sqlRows(t *testing.T, r repo, query string) []map[string]any {
	t.Helper()
	return jsonRows(t, r.ok(t, "sql", r.uri, query, "--format", "json"))
}

// TestTheREADMEQueries runs the SQL examples of docs/sql.md on a repository
// with raws, darks and a run of the example pipeline in which one quantum
// failed (and its downstream was blocked).
func TestTheREADMEQueries(t *testing.T) {
	r := fileRepo(t)
	pipelineRepo(t, r)
	res := r.run(t, "run", r.uri, "-p", failingPipeline(t), "-i", "SPHEREx/defaults", "-o", "u/test/fail", "-j", "2")
	if res.code != 1 || !strings.Contains(res.stdout, "1 failed") {
		t.Fatalf("run: %+v", res)
	}
	outputs := jsonRows(t, r.ok(t, "query-datasets", r.uri, "postISRCCD", "--collections", "u/test/fail", "--where", "detector = 2 AND exposure.seq_num = 1", "--format", "json"))
	if len(outputs) != 1 {
		t.Fatalf("%d postISRCCD outputs", len(outputs))
	}
	outputID := outputs[0]["id"].(string)
	tests := []struct {
		name, query string
		check       func(t *testing.T, rows []map[string]any)
	}{
		{"datasets per type and run", "SELECT dataset_type, run, count(*) AS n FROM datasets GROUP BY ALL ORDER BY ALL", func(t *testing.T, rows []map[string]any) {
			got := map[string]float64{}
			for _, row := range rows {
				got[row["dataset_type"].(string)] += row["n"].(float64)
			}
			for dt, want := range map[string]float64{"raw": 12, "dark": 6, "postISRCCD": 12, "sourceTable": 11, "exposureSummary": 1} {
				if got[dt] != want {
					t.Errorf("%s: %v datasets, want %v", dt, got[dt], want)
				}
			}
		}},
		{"quanta that failed with their errors", "SELECT task_label, error FROM quanta WHERE status = 'failed'", func(t *testing.T, rows []map[string]any) {
			if len(rows) != 1 || rows[0]["task_label"] != "measure" || rows[0]["error"] == nil || rows[0]["error"] == "" {
				t.Fatalf("failed quanta %v", rows)
			}
		}},
		{"files used by a given output", "SELECT i.dataset_type, f.uri FROM quantum_outputs o JOIN quantum_inputs i USING (quantum_id) JOIN files f ON f.dataset_id = i.dataset_id WHERE o.dataset_id = '" + outputID + "' ORDER BY ALL", func(t *testing.T, rows []map[string]any) {
			var types []string
			for _, row := range rows {
				types = append(types, row["dataset_type"].(string))
				if !strings.HasSuffix(row["uri"].(string), ".fits") {
					t.Errorf("uri %v", row["uri"])
				}
			}
			if !slices.Equal(types, []string{"dark", "raw"}) {
				t.Fatalf("inputs %v, want the dark and the raw", rows)
			}
		}},
		{"blocked quanta are recorded too", "SELECT status, count(*) AS n FROM quanta GROUP BY status ORDER BY status", func(t *testing.T, rows []map[string]any) {
			got := map[string]float64{}
			for _, row := range rows {
				got[row["status"].(string)] = row["n"].(float64)
			}
			if got["succeeded"] != 24 || got["failed"] != 1 {
				t.Fatalf("statuses %v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, sqlRows(t, r, tc.query))
		})
	}
}

func TestSQLOutputFormatsAndErrors(t *testing.T) {
	r := fileRepo(t)
	rawRepo(t, r)
	query := "SELECT dataset_type, count(*) AS n, min(ingest_time) IS NOT NULL AS stamped FROM datasets GROUP BY ALL ORDER BY ALL"
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, res result)
	}{
		{"an aligned table by default", []string{"sql", r.uri, query}, func(t *testing.T, res result) {
			lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
			if len(lines) != 4 || !strings.HasPrefix(lines[0], "dataset_type n  stamped") || !strings.HasPrefix(lines[1], "------------ -- -------") ||
				!strings.HasPrefix(lines[2], "dark         6  true") || !strings.HasPrefix(lines[3], "raw          12 true") {
				t.Fatalf("table:\n%s", res.stdout)
			}
		}},
		{"csv with a header", []string{"sql", r.uri, query, "--format", "csv"}, func(t *testing.T, res result) {
			recs, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
			if err != nil || len(recs) != 3 || !slices.Equal(recs[0], []string{"dataset_type", "n", "stamped"}) || !slices.Equal(recs[2], []string{"raw", "12", "true"}) {
				t.Fatalf("csv %q: %v", res.stdout, err)
			}
		}},
		{"json objects", []string{"sql", r.uri, query, "--format", "json"}, func(t *testing.T, res result) {
			rows := jsonRows(t, res.stdout)
			if len(rows) != 2 || rows[1]["n"] != 12.0 || rows[1]["stamped"] != true {
				t.Fatalf("json %v", rows)
			}
		}},
		{"an empty result", []string{"sql", r.uri, "SELECT * FROM datasets WHERE false"}, func(t *testing.T, res result) {
			if strings.TrimSpace(res.stdout) != "No results." {
				t.Fatalf("%q", res.stdout)
			}
		}},
		{"empty tables have views with their columns", []string{"sql", r.uri, "SELECT count(*) AS n, count(task_label) AS labels, count(max_rss) AS rss FROM quanta", "--format", "csv"}, func(t *testing.T, res result) {
			if res.stdout != "n,labels,rss\n0,0,0\n" {
				t.Fatalf("%q", res.stdout)
			}
		}},
		{"a DuckDB error is one line", []string{"sql", r.uri, "SELEC dataset_type FROM datasets"}, func(t *testing.T, res result) {
			if res.code == 0 || !strings.HasPrefix(res.stderr, "error: sql: Parser Error") || strings.Count(res.stderr, "\n") != 1 {
				t.Fatalf("%+v", res)
			}
		}},
		{"an unknown table is an error", []string{"sql", r.uri, "SELECT * FROM nosuch"}, func(t *testing.T, res result) {
			if res.code == 0 || !strings.Contains(res.stderr, "nosuch") || strings.Count(res.stderr, "\n") != 1 {
				t.Fatalf("%+v", res)
			}
		}},
		{"an unknown format is refused", []string{"sql", r.uri, query, "--format", "xml"}, func(t *testing.T, res result) {
			if res.code == 0 || !strings.Contains(res.stderr, "--format") {
				t.Fatalf("%+v", res)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, r.run(t, tc.args...))
		})
	}
}

// TestDuckDBAgreesWithQueryDatasets: counts per dataset type from DuckDB
// reading the Parquet files directly equal those of query-datasets, on a
// local and an S3 repository (whose files are cached locally), also after
// compaction (the views follow the live files).
func TestDuckDBAgreesWithQueryDatasets(t *testing.T) {
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			rawRepo(t, r)
			check := func() {
				t.Helper()
				for dt, run := range map[string]string{"raw": "SPHEREx/raw/all", "dark": "SPHEREx/calib/ingest"} {
					want := len(jsonRows(t, r.ok(t, "query-datasets", r.uri, dt, "--collections", run, "--format", "json")))
					rows := sqlRows(t, r, "SELECT count(*) AS n, count(DISTINCT dataset_id) AS ids FROM datasets JOIN files USING (dataset_id, dataset_type) WHERE dataset_type = '"+dt+"' AND run = '"+run+"'")
					if want == 0 || rows[0]["n"] != float64(want) || rows[0]["ids"] != float64(want) {
						t.Fatalf("%s: DuckDB %v, query-datasets %d", dt, rows, want)
					}
				}
			}
			check()
			r.ok(t, "compact", r.uri)
			check()
			if kind.name == "s3" {
				var cached int
				filepath.WalkDir(r.cache, func(p string, d os.DirEntry, err error) error {
					if err == nil && strings.HasSuffix(p, ".parquet") {
						cached++
					}
					return nil
				})
				if cached == 0 {
					t.Fatal("no Parquet file was cached for the S3 repository")
				}
			}
		})
	}
}

func TestCompactPublishesTheDeltaLogsAndAthenaDDLNamesThem(t *testing.T) {
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			rawRepo(t, r)
			// Before publishing there is nothing for Athena.
			if res := r.run(t, "athena-ddl", r.uri, "--database", "sky", "--location", "s3://b/p"); res.code == 0 || !strings.Contains(res.stderr, "publish-delta") {
				t.Fatalf("athena-ddl before publishing: %+v", res)
			}
			out := r.ok(t, "compact", r.uri)
			if !strings.Contains(out, "Published ") {
				t.Fatalf("compact: %s", out)
			}
			if out := r.ok(t, "publish-delta", r.uri); !strings.Contains(out, "up to date") {
				t.Fatalf("publish-delta after compact: %s", out)
			}
			before := r.fingerprint(t)
			r.ok(t, "publish-delta", r.uri)
			if after := r.fingerprint(t); len(after) != len(before) {
				t.Fatal("a second publish-delta wrote objects")
			}
			// The datasets log replays to the live files.
			ctx := context.Background()
			tb, err := delta.ReadTable(ctx, r.store, registry.TableDatasets)
			if err != nil {
				t.Fatal(err)
			}
			var pst delta.PublishStats
			if err := json.Unmarshal([]byte(r.ok(t, "publish-delta", r.uri, "--format", "json")), &pst); err != nil || pst.Commits != 0 {
				t.Fatalf("publish-delta --format json: %+v %v", pst, err)
			}
			if tb.Registry > pst.RegistryVersion || len(tb.Files) == 0 {
				t.Fatalf("datasets log at registry version %d with %d files; published through %d", tb.Registry, len(tb.Files), pst.RegistryVersion)
			}
			var n int64
			for _, f := range tb.Files {
				var st delta.Stats
				if err := json.Unmarshal([]byte(f.Stats), &st); err != nil {
					t.Fatal(err)
				}
				n += st.NumRecords
			}
			if n != 18 {
				t.Fatalf("the datasets log lists %d rows, want 18", n)
			}
			args := []string{"athena-ddl", r.uri, "--database", "sky"}
			if kind.name == "file" {
				if res := r.run(t, args...); res.code == 0 || !strings.Contains(res.stderr, "--location") {
					t.Fatalf("athena-ddl of a local repository without --location: %+v", res)
				}
				args = append(args, "--location", "s3://bucket/prefix/")
			}
			ddl := r.ok(t, args...)
			loc := "s3://bucket/prefix"
			if kind.name == "s3" {
				loc = r.uri
			}
			for _, table := range []string{"datasets", "files", "collections", "dimension_detector"} {
				want := "CREATE EXTERNAL TABLE sky." + table + "\nLOCATION '" + loc + "/registry/tables/" + table + "/'\nTBLPROPERTIES ('table_type' = 'DELTA');"
				if !strings.Contains(ddl, want) {
					t.Fatalf("athena-ddl lacks\n%s\nin\n%s", want, ddl)
				}
			}
			if strings.Contains(ddl, "sky.quanta") {
				t.Fatal("athena-ddl names quanta, which has no Delta log")
			}
			if n := strings.Count(ddl, "CREATE EXTERNAL TABLE"); n < 8 {
				t.Fatalf("%d tables", n)
			}
			if res := r.run(t, "athena-ddl", r.uri, "--database", "Bad-Name", "--location", "s3://b/p"); res.code == 0 {
				t.Fatalf("a bad database name was accepted: %+v", res)
			}
		})
	}
}
