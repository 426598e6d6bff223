package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/examples/synth"
)

// rawRepo is a repository with the spherex instrument and 2 exposures of
// raws (12 files) and one epoch of darks ingested with ingest-raws.
func rawRepo(t *testing.T, r repo) (string, []synth.FileInfo) {
	t.Helper()
	dir := t.TempDir()
	raws, err := synth.GenerateRaws(dir, synth.Options{Exposures: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.GenerateDarks(filepath.Join(dir, "darks"), synth.Options{Darks: 1}); err != nil {
		t.Fatal(err)
	}
	r.ok(t, "create", r.uri)
	r.ok(t, "register-instrument", r.uri, "spherex")
	out := r.ok(t, "ingest-raws", r.uri, dir)
	if !strings.Contains(out, "Ingested 18, already present 0, failed 0") {
		t.Fatalf("ingest-raws: %s", out)
	}
	return dir, raws
}

func jsonRows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return rows
}

func TestDatasetCommands(t *testing.T) {
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			dir, _ := rawRepo(t, r)
			// ingest-raws again: nothing new.
			if out := r.ok(t, "ingest-raws", r.uri, dir); !strings.Contains(out, "Ingested 0, already present 18") {
				t.Fatalf("second ingest-raws: %s", out)
			}
			rows := jsonRows(t, r.ok(t, "query-datasets", r.uri, "raw", "--collections", "SPHEREx/raw/all", "--where", "detector IN (1..3) AND exposure.observation_type = 'science'", "--format", "json"))
			if len(rows) != 6 {
				t.Fatalf("%d raws for 3 detectors x 2 exposures", len(rows))
			}
			ids := jsonRows(t, r.ok(t, "query-data-ids", r.uri, "exposure", "--datasets", "raw", "--collections", "SPHEREx/raw/all", "--format", "json"))
			if len(ids) != 2 {
				t.Fatalf("%d exposure data IDs, want 2", len(ids))
			}
			// certify the darks, then find them by time through a chain.
			out := r.ok(t, "certify-calibrations", r.uri, "SPHEREx/calib/ingest", "SPHEREx/calib", "dark", "--begin-date", "2026-01-01", "--end-date", "2027-01-01")
			if !strings.Contains(out, "Certified 6 dark") {
				t.Fatalf("certify: %s", out)
			}
			res := r.run(t, "certify-calibrations", r.uri, "SPHEREx/calib/ingest", "SPHEREx/calib", "dark", "--begin-date", "2026-06-01")
			if res.code != 1 || !strings.Contains(res.stderr, "overlaps") {
				t.Fatalf("overlapping certification: %+v", res)
			}
			r.ok(t, "collection-chain", r.uri, "SPHEREx/defaults", "SPHEREx/raw/all", "SPHEREx/calib")
			rows = jsonRows(t, r.ok(t, "query-datasets", r.uri, "--collections", "SPHEREx/defaults", "--find-first", "--format", "json"))
			if len(rows) != 18 {
				t.Fatalf("%d datasets through the chain, want 12 raws + 6 darks", len(rows))
			}
			// associate a subset into a TAGGED collection.
			if out := r.ok(t, "associate", r.uri, "best", "--collections", "SPHEREx/raw/all", "--datasets", "raw", "--where", "detector = 1"); !strings.Contains(out, "Associated 2") {
				t.Fatalf("associate: %s", out)
			}
			if rows := jsonRows(t, r.ok(t, "query-datasets", r.uri, "--collections", "best", "--format", "json")); len(rows) != 2 {
				t.Fatalf("%d in the tagged collection", len(rows))
			}
			// retrieve-artifacts copies files out.
			dest := t.TempDir()
			if out := r.ok(t, "retrieve-artifacts", r.uri, dest, "--collections", "best"); !strings.Contains(out, "Retrieved 2 files") {
				t.Fatalf("retrieve: %s", out)
			}
			// verify: all good.
			if out := r.ok(t, "verify", r.uri, "--full"); !strings.Contains(out, "Verified 18 files: no problems") {
				t.Fatalf("verify: %s", out)
			}
			// prune: dry run changes nothing, purge removes.
			before := r.fingerprint(t)
			if out := r.ok(t, "prune-datasets", r.uri, "SPHEREx/raw/all", "--datasets", "raw", "--where", "detector = 6", "--purge", "--dry-run"); !strings.Contains(out, "Would prune 2") {
				t.Fatalf("dry run: %s", out)
			}
			if !mapsEqual(before, r.fingerprint(t)) {
				t.Fatal("a dry run changed the repository")
			}
			r.ok(t, "prune-datasets", r.uri, "SPHEREx/raw/all", "--datasets", "raw", "--where", "detector = 6", "--purge")
			if rows := jsonRows(t, r.ok(t, "query-datasets", r.uri, "raw", "--format", "json")); len(rows) != 10 {
				t.Fatalf("%d raws after purging detector 6", len(rows))
			}
			// remove-runs of the calibration input run.
			r.ok(t, "remove-runs", r.uri, "SPHEREx/calib/*")
			if rows := jsonRows(t, r.ok(t, "query-datasets", r.uri, "dark", "--format", "json")); len(rows) != 0 {
				t.Fatalf("%d darks after remove-runs", len(rows))
			}
			if out := r.ok(t, "verify", r.uri, "--full"); !strings.Contains(out, "Verified 10 files: no problems") {
				t.Fatalf("verify after removals: %s", out)
			}
		})
	}
}

func TestVerifyReportsBitRotAndMissingFiles(t *testing.T) {
	r := fileRepo(t)
	rawRepo(t, r)
	var rows []map[string]any
	rows = jsonRows(t, r.ok(t, "query-datasets", r.uri, "raw", "--where", "detector IN (1, 2) AND exposure.seq_num = 1", "--show-uri", "--format", "json"))
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	flip := strings.TrimPrefix(rows[0]["uri"].(string), "file://")
	data, _ := os.ReadFile(flip)
	data[len(data)-10] ^= 0x40
	os.WriteFile(flip, data, 0o644)
	os.Remove(strings.TrimPrefix(rows[1]["uri"].(string), "file://"))
	res := r.run(t, "verify", r.uri)
	if res.code != 1 || !strings.Contains(res.stdout, "missing") || strings.Contains(res.stdout, "checksum") {
		t.Fatalf("quick verify: %+v", res)
	}
	res = r.run(t, "verify", r.uri, "--full")
	if res.code != 1 || !strings.Contains(res.stdout, "missing") || !strings.Contains(res.stdout, "checksum") || !strings.Contains(res.stderr, "2 of 18 files") {
		t.Fatalf("full verify: %+v", res)
	}
}

func TestTransferDatasetsBetweenRepositoryKinds(t *testing.T) {
	src := fileRepo(t)
	rawRepo(t, src)
	dst := s3Repo(t)
	dst.ok(t, "create", dst.uri)
	// one process sees both: the S3 environment is the destination's.
	src.env = dst.env
	if out := src.ok(t, "transfer-datasets", src.uri, dst.uri, "--collections", "SPHEREx/raw/all", "--where", "detector = 2"); !strings.Contains(out, "Transferred 2 datasets") {
		t.Fatalf("transfer: %s", out)
	}
	if out := src.ok(t, "transfer-datasets", src.uri, dst.uri, "--collections", "SPHEREx/raw/all", "--where", "detector = 2"); !strings.Contains(out, "Transferred 0 datasets") {
		t.Fatalf("second transfer: %s", out)
	}
	if out := dst.ok(t, "verify", dst.uri, "--full"); !strings.Contains(out, "Verified 2 files: no problems") {
		t.Fatalf("verify destination: %s", out)
	}
	back := fileRepo(t)
	back.ok(t, "create", back.uri)
	back.env = dst.env
	if out := back.ok(t, "transfer-datasets", dst.uri, back.uri, "--collections", "SPHEREx/raw/all"); !strings.Contains(out, "Transferred 2 datasets") {
		t.Fatalf("transfer back: %s", out)
	}
}

func TestIngestFilesTransferModes(t *testing.T) {
	r := fileRepo(t)
	r.ok(t, "create", r.uri)
	r.ok(t, "register-instrument", r.uri, "spherex")
	r.ok(t, "register-dataset-type", r.uri, "notes", "Bytes", "instrument", "detector")
	src := t.TempDir()
	for i, mode := range []string{"copy", "move", "link", "symlink", "direct", "auto"} {
		p := filepath.Join(src, mode+".txt")
		os.WriteFile(p, []byte(mode), 0o644)
		det := []string{"1", "2", "3", "4", "5", "6"}[i]
		r.ok(t, "ingest-files", r.uri, "notes", "run-"+mode, p, "--data-id", "instrument=SPHEREx", "--data-id", "detector="+det, "--transfer", mode)
		_, err := os.Stat(p)
		if (mode == "move") != os.IsNotExist(err) {
			t.Fatalf("%s: source exists: %v", mode, err)
		}
	}
	rows := jsonRows(t, r.ok(t, "query-datasets", r.uri, "notes", "--show-uri", "--format", "json"))
	if len(rows) != 6 {
		t.Fatalf("%d datasets", len(rows))
	}
	for _, row := range rows {
		uri := row["uri"].(string)
		inRepo := strings.HasPrefix(uri, "file://"+r.uri+"/datastore/")
		if (row["run"] == "run-direct") == inRepo {
			t.Fatalf("%s: uri %s", row["run"], uri)
		}
	}
	if out := r.ok(t, "verify", r.uri, "--full"); !strings.Contains(out, "Verified 6 files: no problems") {
		t.Fatalf("verify: %s", out)
	}
	res := r.run(t, "ingest-files", r.uri, "notes", "run-x", filepath.Join(src, "nope.txt"), "--data-id", "instrument=SPHEREx", "--data-id", "detector=1")
	if res.code != 1 || !strings.Contains(res.stderr, "nope.txt") {
		t.Fatalf("missing file: %+v", res)
	}
}
