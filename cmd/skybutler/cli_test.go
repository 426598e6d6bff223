package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
)

var binary string

// TestMain builds the CLI once, so tests can run it as separate processes.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "skybutler-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "skybutler")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	s3test.Main(&cleanupM{m, dir})
}

type cleanupM struct {
	m   *testing.M
	dir string
}

func (c *cleanupM) Run() int {
	defer os.RemoveAll(c.dir)
	return c.m.Run()
}

// repo is a repository the CLI is run against: a local directory or a bucket
// on versitygw.
type repo struct {
	cache string
	uri   string
	env   []string
	store objstore.Store
}

func fileRepo(t *testing.T) repo {
	dir := t.TempDir()
	s, err := objstore.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return repo{uri: dir, store: s, cache: t.TempDir()}
}

func s3Repo(t *testing.T) repo {
	srv := s3test.Shared(t)
	b := srv.NewBucket(t)
	return repo{uri: "s3://" + b + "/repo", env: srv.Env(), store: srv.Store(t, b, "repo"), cache: t.TempDir()}
}

var repoKinds = []struct {
	name string
	new  func(t *testing.T) repo
}{{"file", fileRepo}, {"s3", s3Repo}}

type result struct {
	stdout, stderr string
	code           int
}

func (r repo) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "SKYBUTLER_CACHE_DIR="+r.cache), r.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func (r repo) ok(t *testing.T, args ...string) string {
	t.Helper()
	res := r.run(t, args...)
	if res.code != 0 {
		t.Fatalf("skybutler %s: exit %d: %s", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// fingerprint hashes every object of the repository.
func (r repo) fingerprint(t *testing.T) map[string][32]byte {
	t.Helper()
	ctx := context.Background()
	all, err := objstore.ListAll(ctx, r.store, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, o := range all {
		data, err := r.store.Get(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[o.Key] = sha256.Sum256(data)
	}
	return out
}

// TestEightProcessesRegisterCollectionsAtOnce: 8 separate skybutler
// processes register 25 collections each, one command per collection; all
// 200 are listed, once each, and the commit versions are contiguous.
func TestEightProcessesRegisterCollectionsAtOnce(t *testing.T) {
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			r.ok(t, "create", r.uri)
			const procs, each = 8, 25
			var wg sync.WaitGroup
			errs := make(chan string, procs*each)
			for p := range procs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						res := r.run(t, "register-collection", r.uri, fmt.Sprintf("proc%d/run%02d", p, i), "--type", "RUN")
						if res.code != 0 {
							errs <- res.stderr
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
			var cs []struct{ Name, Type string }
			if err := json.Unmarshal([]byte(r.ok(t, "query-collections", r.uri, "--format", "json")), &cs); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, c := range cs {
				if seen[c.Name] {
					t.Fatalf("collection %s listed twice", c.Name)
				}
				seen[c.Name] = true
			}
			if len(seen) != procs*each {
				t.Fatalf("%d collections, want %d", len(seen), procs*each)
			}
			var versions []int
			re := regexp.MustCompile(`^registry/_log/(\d{20})\.json$`)
			for k := range r.fingerprint(t) {
				if m := re.FindStringSubmatch(k); m != nil {
					v, _ := strconv.Atoi(m[1])
					versions = append(versions, v)
				}
			}
			slices.Sort(versions)
			if len(versions) != procs*each+1 || versions[0] != 0 || versions[len(versions)-1] != procs*each {
				t.Fatalf("commit versions %v, want 0..%d", versions, procs*each)
			}
		})
	}
}

// TestBadInputIsOneErrorLineAndChangesNothing runs commands that must fail
// and checks the message, the exit status and that no object changed.
func TestBadInputIsOneErrorLineAndChangesNothing(t *testing.T) {
	work := t.TempDir()
	badYAML := filepath.Join(work, "bad.yaml")
	os.WriteFile(badYAML, []byte("instrument: {name: X\ndetectors: [1, 2\n"), 0o644)
	badInstrument := filepath.Join(work, "badinst.yaml")
	os.WriteFile(badInstrument, []byte("name: X\ndetectors:\n  - {id: 1, no_such_field: 3}\n"), 0o644)
	tests := []struct {
		name string
		args []string // REPO is replaced by the repository URI
		want string   // a substring of the error line
	}{
		{"malformed instrument YAML", []string{"register-instrument", "REPO", badYAML}, "bad.yaml"},
		{"an instrument with an unknown field", []string{"register-instrument", "REPO", badInstrument}, "no_such_field"},
		{"an unknown instrument name", []string{"register-instrument", "REPO", "NoSuchCam"}, "NoSuchCam"},
		{"a dataset type with an unknown dimension", []string{"register-dataset-type", "REPO", "calexp", "ExposureF", "visit", "detectr"}, `unknown dimension "detectr"`},
		{"a dataset type redefined", []string{"register-dataset-type", "REPO", "raw", "Bytes", "exposure", "detector"}, "already registered"},
		{"a chain cycle", []string{"collection-chain", "REPO", "inner", "outer", "--mode", "extend"}, "cycle"},
		{"a duplicate collection", []string{"register-collection", "REPO", "run1", "--type", "RUN"}, "already exists"},
		{"an unknown collection type", []string{"register-collection", "REPO", "x", "--type", "BOGUS"}, "BOGUS"},
		{"a chain of a RUN", []string{"collection-chain", "REPO", "run1", "run2"}, "not CHAINED"},
		{"a chain to an unknown child", []string{"collection-chain", "REPO", "outer", "nope", "--mode", "extend"}, `"nope"`},
		{"a bad chain mode", []string{"collection-chain", "REPO", "outer", "run1", "--mode", "sideways"}, "sideways"},
		{"a bad where expression", []string{"query-dimension-records", "REPO", "detector", "--where", "detector = = 1"}, "position"},
		{"an unknown element", []string{"query-dimension-records", "REPO", "detectr"}, "detectr"},
		{"an unknown where field", []string{"query-dimension-records", "REPO", "detector", "--where", "detector.nope = 1"}, "detector.nope"},
		{"a repository that exists", []string{"create", "REPO"}, "exists"},
		{"a missing argument", []string{"register-collection", "REPO"}, "usage"},
		{"an unknown flag", []string{"query-collections", "REPO", "--bogus"}, "bogus"},
	}
	for _, kind := range repoKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := kind.new(t)
			r.ok(t, "create", r.uri)
			r.ok(t, "register-instrument", r.uri, "spherex")
			r.ok(t, "register-dataset-type", r.uri, "raw", "ImageF", "exposure", "detector")
			r.ok(t, "register-collection", r.uri, "run1", "--type", "RUN")
			r.ok(t, "register-collection", r.uri, "run2", "--type", "RUN")
			r.ok(t, "collection-chain", r.uri, "inner", "run1")
			r.ok(t, "collection-chain", r.uri, "outer", "inner", "run2")
			before := r.fingerprint(t)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					args := slices.Clone(tc.args)
					for i, a := range args {
						if a == "REPO" {
							args[i] = r.uri
						}
					}
					res := r.run(t, args...)
					if res.code != 1 {
						t.Fatalf("exit %d, want 1 (stderr %q)", res.code, res.stderr)
					}
					lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
					if len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tc.want) {
						t.Fatalf("stderr %q, want one line \"error: ...%s...\"", res.stderr, tc.want)
					}
					if after := r.fingerprint(t); !mapsEqual(before, after) {
						t.Fatalf("the repository changed")
					}
				})
			}
		})
	}
}

func mapsEqual(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestGarbageInACommitFileIsAClearError(t *testing.T) {
	r := fileRepo(t)
	r.ok(t, "create", r.uri)
	r.ok(t, "register-collection", r.uri, "a")
	if err := os.WriteFile(filepath.Join(r.uri, "registry/_log/00000000000000000002.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := r.fingerprint(t)
	for _, args := range [][]string{{"query-collections", r.uri}, {"register-collection", r.uri, "b"}} {
		res := r.run(t, args...)
		if res.code != 1 || !strings.HasPrefix(res.stderr, "error: ") || !strings.Contains(res.stderr, "00000000000000000002.json") || strings.Count(res.stderr, "\n") != 1 {
			t.Fatalf("%v: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
	if !mapsEqual(before, r.fingerprint(t)) {
		t.Fatal("the repository changed")
	}
}

func TestQueryCommandsPrintTablesAndJSON(t *testing.T) {
	r := fileRepo(t)
	r.ok(t, "create", r.uri)
	r.ok(t, "register-instrument", r.uri, "spherex")
	r.ok(t, "register-collection", r.uri, "SPHEREx/raw/all")
	r.ok(t, "register-collection", r.uri, "SPHEREx/calib", "--type", "CALIBRATION")
	r.ok(t, "collection-chain", r.uri, "SPHEREx/defaults", "SPHEREx/raw/all", "SPHEREx/calib")
	r.ok(t, "collection-chain", r.uri, "all", "SPHEREx/defaults")
	out := r.ok(t, "query-collections", r.uri, "--chains", "tree", "all")
	want := "Name                Type\n------------------- -----------\nall                 CHAINED\n  SPHEREx/defaults  CHAINED\n    SPHEREx/raw/all RUN\n    SPHEREx/calib   CALIBRATION\n"
	if out != want {
		t.Fatalf("tree:\n%s\nwant:\n%s", out, want)
	}
	out = r.ok(t, "query-collections", r.uri, "--chains", "flatten", "all")
	if !strings.Contains(out, "SPHEREx/raw/all RUN") || strings.Contains(out, "CHAINED") {
		t.Fatalf("flatten:\n%s", out)
	}
	out = r.ok(t, "query-dimension-records", r.uri, "detector", "--where", "instrument = 'SPHEREx' AND detector IN (2..3)", "--format", "json")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 2 || recs[0]["detector"] != float64(2) {
		t.Fatalf("records %s (%v)", out, err)
	}
	out = r.ok(t, "query-dimension-records", r.uri, "physical_filter", "--where", "band = b", "--bind", "b=spx3")
	if !strings.Contains(out, "SPHEREx-D3") || strings.Count(out, "\n") != 3 {
		t.Fatalf("physical filters:\n%s", out)
	}
	r.ok(t, "register-dataset-type", r.uri, "dark", "ImageF", "instrument", "detector", "--is-calibration")
	out = r.ok(t, "query-dataset-types", r.uri, "d*")
	if !strings.Contains(out, "dark (instrument, detector) ImageF        true") {
		t.Fatalf("dataset types:\n%s", out)
	}
}

func TestCustomUniverse(t *testing.T) {
	r := fileRepo(t)
	r.ok(t, "create", r.uri, "--dimension-config", "../../examples/spherex/dimensions.yaml")
	r.ok(t, "register-dataset-type", r.uri, "raw", "ImageF", "observation", "detector")
	res := r.run(t, "register-dataset-type", r.uri, "calexp", "ImageF", "visit", "detector")
	if res.code != 1 || !strings.Contains(res.stderr, `"visit"`) {
		t.Fatalf("visit in a universe without visits: %+v", res)
	}
}

func TestCompactKeepsQueriesTheSame(t *testing.T) {
	r := fileRepo(t)
	r.ok(t, "create", r.uri)
	for i := range 5 {
		r.ok(t, "register-collection", r.uri, fmt.Sprintf("run%d", i))
	}
	before := r.ok(t, "query-collections", r.uri)
	if out := r.ok(t, "compact", r.uri, "--checkpoint"); !strings.Contains(out, "5 files into 1") {
		t.Fatalf("compact: %s", out)
	}
	if after := r.ok(t, "query-collections", r.uri); after != before {
		t.Fatalf("after compaction:\n%s\nbefore:\n%s", after, before)
	}
}
