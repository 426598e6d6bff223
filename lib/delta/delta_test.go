package delta

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
	"github.com/skybutler/skybutler/lib/registry"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// ---- a replayer independent of the package: generic JSON, spec field names.

type replayedFile struct {
	size       int64
	partition  map[string]any
	numRecords int64
	dataChange bool
}

type replayed struct {
	versions  int64 // number of versions
	protocol  map[string]any
	metaData  map[string]any
	files     map[string]replayedFile // object key -> add
	txns      []int64                 // txn version of each version >= 1
	ops       []string                // registryOperation of each version >= 1
	dataFalse int                     // adds and removes with dataChange=false
}

func logVersions(t *testing.T, store objstore.Store, table string) []string {
	t.Helper()
	all, err := objstore.ListAll(context.Background(), store, registry.TablesPrefix+table+"/_delta_log/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range all {
		if strings.HasSuffix(o.Key, ".json") {
			keys = append(keys, o.Key)
		}
	}
	return keys
}

// replay applies a table's Delta log in version order, checking the fields
// the Delta protocol requires of each action.
func replay(t *testing.T, store objstore.Store, table string) replayed {
	t.Helper()
	ctx := context.Background()
	rp := replayed{files: map[string]replayedFile{}}
	dir := registry.TablesPrefix + table + "/"
	for i, key := range logVersions(t, store, table) {
		if want := fmt.Sprintf("%s_delta_log/%020d.json", dir, i); key != want {
			t.Fatalf("version %d is %s, want %s", i, key, want)
		}
		data, err := store.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		txn := int64(-1)
		op := ""
		for _, line := range lines {
			var a map[string]map[string]any
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("%s: %v: %s", key, err, line)
			}
			if len(a) != 1 {
				t.Fatalf("%s: a line with %d actions: %s", key, len(a), line)
			}
			for kind, body := range a {
				switch kind {
				case "protocol":
					requireFields(t, key, body, "minReaderVersion", "minWriterVersion")
					rp.protocol = body
				case "metaData":
					requireFields(t, key, body, "id", "format", "schemaString", "partitionColumns", "configuration")
					rp.metaData = body
				case "txn":
					requireFields(t, key, body, "appId", "version")
					if body["appId"] == "skybutler" {
						txn = int64(body["version"].(float64))
					}
				case "commitInfo":
					if sky, ok := body["skybutler"].(map[string]any); ok {
						op, _ = sky["registryOperation"].(string)
					}
				case "remove":
					requireFields(t, key, body, "path", "dataChange", "deletionTimestamp")
					p := decode(t, dir, body["path"].(string))
					if _, ok := rp.files[p]; !ok {
						t.Fatalf("%s removes %s which is not live", key, p)
					}
					delete(rp.files, p)
					if !body["dataChange"].(bool) {
						rp.dataFalse++
					}
				case "add":
				default:
					t.Fatalf("%s: unexpected action %q", key, kind)
				}
			}
		}
		for _, line := range lines {
			var a map[string]map[string]any
			json.Unmarshal([]byte(line), &a)
			body, ok := a["add"]
			if !ok {
				continue
			}
			requireFields(t, key, body, "path", "partitionValues", "size", "modificationTime", "dataChange")
			p := decode(t, dir, body["path"].(string))
			if _, ok := rp.files[p]; ok {
				t.Fatalf("%s adds %s which is live", key, p)
			}
			var st struct{ NumRecords *int64 }
			if err := json.Unmarshal([]byte(body["stats"].(string)), &st); err != nil || st.NumRecords == nil {
				t.Fatalf("%s: stats %v without numRecords", key, body["stats"])
			}
			rp.files[p] = replayedFile{size: int64(body["size"].(float64)), partition: body["partitionValues"].(map[string]any),
				numRecords: *st.NumRecords, dataChange: body["dataChange"].(bool)}
			if !body["dataChange"].(bool) {
				rp.dataFalse++
			}
		}
		if i == 0 {
			if rp.protocol == nil || rp.metaData == nil {
				t.Fatalf("%s lacks protocol or metaData", key)
			}
		} else {
			if txn < 0 {
				t.Fatalf("%s has no skybutler txn", key)
			}
			rp.txns = append(rp.txns, txn)
			rp.ops = append(rp.ops, op)
		}
		rp.versions++
	}
	return rp
}

func requireFields(t *testing.T, key string, body map[string]any, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if _, ok := body[f]; !ok {
			t.Fatalf("%s: action lacks required field %q: %v", key, f, body)
		}
	}
}

func decode(t *testing.T, dir, p string) string {
	t.Helper()
	if strings.HasPrefix(p, "/") || strings.Contains(p, "://") {
		t.Fatalf("path %q is not relative", p)
	}
	u, err := url.PathUnescape(p)
	if err != nil {
		t.Fatal(err)
	}
	return dir + u
}

// tablesWithLogs lists the tables that have a Delta log.
func tablesWithLogs(t *testing.T, store objstore.Store) []string {
	t.Helper()
	all, err := objstore.ListAll(context.Background(), store, registry.TablesPrefix)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, o := range all {
		rest := strings.TrimPrefix(o.Key, registry.TablesPrefix)
		if table, after, ok := strings.Cut(rest, "/"); ok && strings.HasPrefix(after, "_delta_log/") {
			set[table] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// checkMatchesRegistry: every table's replayed log holds exactly the live
// files of the newest registry snapshot, with their sizes, partitions and
// row counts, and its versions mirror the registry commits that touched it.
func checkMatchesRegistry(t *testing.T, store objstore.Store, reg *registry.Registry, fullLog bool) {
	t.Helper()
	ctx := context.Background()
	snap, err := reg.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	touched := map[string][]int64{}
	if fullLog {
		commits, err := reg.Commits(ctx, 0, snap.Version)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range commits {
			for _, te := range c.Tables {
				touched[te.Table] = append(touched[te.Table], c.Version)
			}
		}
	}
	tables := map[string]bool{}
	for _, tb := range snap.Tables() {
		tables[tb] = true
	}
	for _, tb := range tablesWithLogs(t, store) {
		tables[tb] = true
	}
	for table := range tables {
		rp := replay(t, store, table)
		live := snap.Files(table)
		if rp.versions == 0 {
			t.Fatalf("table %s has %d live files and no Delta log", table, len(live))
		}
		want := map[string]registry.FileEntry{}
		for _, f := range live {
			want[f.Path] = f
		}
		if got := slices.Sorted(maps.Keys(rp.files)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
			t.Fatalf("table %s: Delta files %v, registry live files %v", table, got, slices.Sorted(maps.Keys(want)))
		}
		sch, _ := reg.Schema(table)
		for p, f := range want {
			g := rp.files[p]
			if g.size != f.Size || g.numRecords != f.Rows {
				t.Fatalf("%s: size %d rows %d in Delta, %d %d in the registry", p, g.size, g.numRecords, f.Size, f.Rows)
			}
			if len(g.partition) != len(sch.PartitionBy) {
				t.Fatalf("%s: partition values %v for partition columns %v", p, g.partition, sch.PartitionBy)
			}
			for _, c := range sch.PartitionBy {
				if g.partition[c] != f.Partition[c] {
					t.Fatalf("%s: partition %s = %v in Delta, %q in the registry", p, c, g.partition[c], f.Partition[c])
				}
			}
		}
		if fullLog && !slices.Equal(rp.txns, touched[table]) {
			t.Fatalf("table %s: Delta versions mirror registry versions %v, want %v", table, rp.txns, touched[table])
		}
		if !slices.IsSorted(rp.txns) {
			t.Fatalf("table %s: txn versions %v not increasing", table, rp.txns)
		}
	}
}

// ---- fixtures

type env struct {
	t     *testing.T
	ctx   context.Context
	store objstore.Store
	dir   string
	reg   *registry.Registry
}

func newEnv(t *testing.T, opts registry.Options) *env {
	t.Helper()
	dir := t.TempDir()
	store, err := objstore.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, store, dir, opts)
}

// newEnvOn makes a repository in store (dir: its local directory, if any).
func newEnvOn(t *testing.T, store objstore.Store, dir string, opts registry.Options) *env {
	t.Helper()
	reg, err := registry.Create(context.Background(), store, dimensions.Default(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), store: store, dir: dir, reg: reg}
}

func (e *env) reopen() *registry.Registry {
	e.t.Helper()
	r, err := registry.Open(e.ctx, e.store, dimensions.Default(), registry.Options{CheckpointInterval: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) publish() PublishStats {
	e.t.Helper()
	st, err := Publish(e.ctx, e.store, e.reg)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// setup registers the SPHEREx instrument, two dataset types and a run.
func (e *env) setup() {
	e.t.Helper()
	data, err := dimensions.LoadInstrument("spherex")
	if err != nil {
		e.t.Fatal(err)
	}
	def, err := dimensions.ParseInstrument(data)
	if err != nil {
		e.t.Fatal(err)
	}
	recs, err := def.Records(e.reg.Universe())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.reg.InsertRecordSets(e.ctx, "test", recs); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.reg.RegisterDatasetTypes(e.ctx,
		registry.DatasetType{Name: "flat", Dimensions: []string{"detector"}, StorageClass: "ImageF"},
		registry.DatasetType{Name: "calexp.wcs", Dimensions: []string{"detector"}, StorageClass: "Wcs"}); err != nil {
		e.t.Fatal(err)
	}
	e.collections("run1", "run2")
}

func (e *env) collections(names ...string) {
	e.t.Helper()
	for _, n := range names {
		if _, err := e.reg.RegisterCollections(e.ctx, registry.Collection{Name: n, Type: registry.Run}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// datasets inserts one dataset of a type per detector in first..first+n-1,
// with files.
func (e *env) datasets(dt, run string, first, n int) {
	e.t.Helper()
	if _, err := e.reg.Commit(e.ctx, "test", func(tx *registry.Tx) error {
		var refs []registry.DatasetRef
		var files []registry.FileRecord
		for d := first; d < first+n; d++ {
			id := registry.NewDatasetID()
			refs = append(refs, registry.DatasetRef{ID: id, DatasetType: dt, Run: run, DataID: map[string]any{"instrument": "SPHEREx", "detector": d}})
			files = append(files, registry.FileRecord{DatasetID: id, DatasetType: dt, URI: fmt.Sprintf("%s/%s/%d.fits", run, dt, d),
				Formatter: "fits", StorageClass: "ImageF", Size: int64(100 + d), Checksum: "sha256:00"})
		}
		_, err := registry.InsertDatasets(tx, refs, files, registry.InsertOptions{})
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) keys() map[string]string {
	e.t.Helper()
	all, err := objstore.ListAll(e.ctx, e.store, "")
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range all {
		out[o.Key] = o.ETag
	}
	return out
}

// ---- tests

func TestReplayingTheDeltaLogGivesTheRegistryLiveFiles(t *testing.T) {
	tests := []struct {
		name string
		// steps runs registry edits interleaved with publishes.
		steps func(e *env)
		// fullLog: the registry log is complete, so each Delta version must
		// mirror exactly one registry commit that touched the table.
		fullLog bool
		check   func(t *testing.T, e *env)
	}{
		{name: "inserts are published as add-only versions", fullLog: true, steps: func(e *env) {
			e.setup()
			e.datasets("flat", "run1", 1, 3)
			e.publish()
			e.datasets("calexp.wcs", "run1", 1, 2)
			e.datasets("flat", "run2", 1, 4)
		}, check: func(t *testing.T, e *env) {
			rp := replay(t, e.store, registry.TableDatasets)
			if rp.dataFalse != 0 || len(rp.files) != 3 {
				t.Fatalf("datasets: %d files, %d dataChange=false actions", len(rp.files), rp.dataFalse)
			}
		}},
		{name: "a collection chain update removes and rewrites files (copy-on-write)", fullLog: true, steps: func(e *env) {
			e.collections("a", "b", "c")
			for _, ch := range [][]string{{"a", "b"}, {"c"}, {"b", "a", "c"}} {
				if _, err := e.reg.SetChain(e.ctx, "chain", ch, registry.ChainRedefine, registry.ChainOptions{}); err != nil {
					t.Fatal(err)
				}
				e.publish()
			}
			if _, err := e.reg.SetChain(e.ctx, "chain", []string{"a"}, registry.ChainRemove, registry.ChainOptions{}); err != nil {
				t.Fatal(err)
			}
		}, check: func(t *testing.T, e *env) {
			rp := replay(t, e.store, registry.TableCollectionChains)
			if rp.versions != 5 {
				t.Fatalf("collection_chains has %d versions, want 5 (create + 4 chain edits)", rp.versions)
			}
		}},
		{name: "compaction is published with dataChange false", fullLog: true, steps: func(e *env) {
			e.setup()
			for i := range 3 {
				e.datasets("flat", "run1", 1+2*i, 2)
			}
			e.publish()
			if _, _, err := e.reg.Compact(e.ctx, registry.CompactOptions{}); err != nil {
				t.Fatal(err)
			}
			e.datasets("flat", "run2", 1, 1)
		}, check: func(t *testing.T, e *env) {
			rp := replay(t, e.store, registry.TableDatasets)
			if rp.dataFalse != 4 { // 3 removes + 1 add in the flat partition
				t.Fatalf("%d dataChange=false actions in datasets, want 4", rp.dataFalse)
			}
			if !slices.Contains(rp.ops, "compact") {
				t.Fatalf("no compact version: %v", rp.ops)
			}
		}},
		{name: "publishing from scratch after many commits and a checkpoint", fullLog: true, steps: func(e *env) {
			e.setup()
			for i := range 12 {
				e.collections(fmt.Sprintf("c%02d", i))
			}
			e.datasets("flat", "c03", 1, 6)
		}},
		{name: "the registry log before a checkpoint was deleted", steps: func(e *env) {
			e.setup()
			e.datasets("flat", "run1", 1, 2)
			e.publish() // published through some version; then the log moves on
			e.collections("x1", "x2")
			if _, err := e.reg.SetChain(e.ctx, "chain", []string{"x1", "x2"}, registry.ChainRedefine, registry.ChainOptions{}); err != nil {
				t.Fatal(err)
			}
			e.datasets("flat", "run2", 1, 3)
			snap := e.reg.Current()
			if err := e.reg.WriteCheckpoint(e.ctx, snap); err != nil {
				t.Fatal(err)
			}
			for v := range snap.Version + 1 {
				if err := e.store.Delete(e.ctx, fmt.Sprintf("registry/_log/%020d.json", v)); err != nil {
					t.Fatal(err)
				}
			}
			e.collections("after")
			e.datasets("calexp.wcs", "after", 1, 1)
		}, check: func(t *testing.T, e *env) {
			for _, table := range []string{registry.TableDatasets, registry.TableCollectionChains} {
				if rp := replay(t, e.store, table); !slices.Contains(rp.ops, "checkpoint") {
					t.Fatalf("%s: no catch-up version: %v", table, rp.ops)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, registry.Options{CheckpointInterval: 5})
			tc.steps(e)
			st := e.publish()
			if st.RegistryVersion != e.reg.Current().Version {
				t.Fatalf("published through %d, registry at %d", st.RegistryVersion, e.reg.Current().Version)
			}
			checkMatchesRegistry(t, e.store, e.reg, tc.fullLog)
			if tc.check != nil {
				tc.check(t, e)
			}
			// A fresh handle (no in-memory state) agrees and has nothing to do.
			before := e.keys()
			st, err := Publish(e.ctx, e.store, e.reopen())
			if err != nil {
				t.Fatal(err)
			}
			if st.Commits != 0 || !maps.Equal(before, e.keys()) {
				t.Fatalf("a second publish wrote %d commits", st.Commits)
			}
		})
	}
}

func TestPublishIsIdempotentAndResumable(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the published state before publishing again.
		damage func(e *env)
	}{
		{name: "publishing twice writes nothing", damage: func(e *env) {}},
		{name: "a lost state marker is rebuilt from the logs", damage: func(e *env) {
			e.store.Delete(e.ctx, StateKey)
		}},
		{name: "deleted logs and marker are rebuilt", damage: func(e *env) {
			for _, k := range logVersions(e.t, e.store, registry.TableDatasets) {
				e.store.Delete(e.ctx, k)
			}
			e.store.Delete(e.ctx, StateKey)
		}},
		{name: "a marker naming deleted logs is noticed when the table changes", damage: func(e *env) {
			for _, k := range logVersions(e.t, e.store, registry.TableDatasets) {
				e.store.Delete(e.ctx, k)
			}
			e.datasets("flat", "more1", 1, 1)
		}},
		{name: "a publisher that stopped midway is continued", damage: func(e *env) {
			keys := logVersions(e.t, e.store, registry.TableCollections)
			for _, k := range keys[2:] {
				e.store.Delete(e.ctx, k)
			}
			e.store.Delete(e.ctx, StateKey)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, registry.Options{})
			e.setup()
			e.datasets("flat", "run1", 1, 2)
			e.collections("more1", "more2")
			first := e.publish()
			if first.Commits == 0 || first.Adds == 0 {
				t.Fatalf("first publish: %+v", first)
			}
			tc.damage(e)
			e.publish()
			checkMatchesRegistry(t, e.store, e.reg, true)
			before := e.keys()
			if st := e.publish(); st.Commits != 0 || !maps.Equal(before, e.keys()) {
				t.Fatalf("publish after catching up wrote %+v", st)
			}
		})
	}
}

func TestConcurrentWritersAndPublishers(t *testing.T) {
	for _, kind := range []string{"file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			var e *env
			if kind == "s3" {
				srv := s3test.Shared(t)
				e = newEnvOn(t, srv.Store(t, srv.NewBucket(t), "repo"), "", registry.Options{CheckpointInterval: 7})
			} else {
				e = newEnv(t, registry.Options{CheckpointInterval: 7})
			}
			concurrentWritersAndPublishers(t, e)
		})
	}
}

func concurrentWritersAndPublishers(t *testing.T, e *env) {
	e.setup()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	var raced atomic.Int64
	// Three writers, each with its own registry handle.
	var writers sync.WaitGroup
	for w := range 3 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			r := e.reopen()
			for i := range 6 {
				if _, err := r.RegisterCollections(e.ctx, registry.Collection{Name: fmt.Sprintf("w%d-%d", w, i), Type: registry.Run}); err != nil {
					errs <- err
					return
				}
				if i%2 == 1 {
					if _, err := r.SetChain(e.ctx, fmt.Sprintf("chain%d", w), []string{fmt.Sprintf("w%d-%d", w, i)}, registry.ChainPrepend, registry.ChainOptions{}); err != nil {
						errs <- err
						return
					}
				}
			}
			if w == 0 {
				if _, _, err := r.Compact(e.ctx, registry.CompactOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	// Two publishers, interleaved with the writers and with each other.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.reopen()
			for {
				st, err := Publish(e.ctx, e.store, r)
				if err != nil {
					errs <- err
					return
				}
				raced.Add(int64(st.Raced))
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("publishers adopted %d versions another publisher wrote first", raced.Load())
	e.publish()
	checkMatchesRegistry(t, e.store, e.reg, true)
}

func TestProtocolAndMetaDataFollowTheDeltaProtocol(t *testing.T) {
	e := newEnv(t, registry.Options{})
	e.setup()
	e.datasets("flat", "run1", 1, 2)
	e.publish()
	schemas := e.reg.Schemas()
	for _, table := range tablesWithLogs(t, e.store) {
		t.Run(table, func(t *testing.T) {
			rp := replay(t, e.store, table)
			if rp.protocol["minReaderVersion"] != 1.0 || rp.protocol["minWriterVersion"] != 2.0 {
				t.Fatalf("protocol %v", rp.protocol)
			}
			md := rp.metaData
			if _, err := uuidParse(md["id"].(string)); err != nil || md["id"] != TableID(e.store.URI(), table) {
				t.Fatalf("id %v", md["id"])
			}
			if f := md["format"].(map[string]any); f["provider"] != "parquet" || f["options"] == nil {
				t.Fatalf("format %v", f)
			}
			if _, ok := md["configuration"].(map[string]any); !ok {
				t.Fatalf("configuration %v", md["configuration"])
			}
			var st struct {
				Type   string
				Fields []struct {
					Name     string
					Type     any
					Nullable *bool
					Metadata map[string]any
				}
			}
			if err := json.Unmarshal([]byte(md["schemaString"].(string)), &st); err != nil || st.Type != "struct" {
				t.Fatalf("schemaString %v: %v", md["schemaString"], err)
			}
			sch := schemas[table]
			seen := map[string]bool{}
			for i, f := range st.Fields {
				if f.Name != sch.Columns[i].Name || f.Nullable == nil || !*f.Nullable || f.Metadata == nil {
					t.Fatalf("field %d: %+v", i, f)
				}
				if !slices.Contains([]any{"string", "long", "double", "boolean", "timestamp"}, f.Type) {
					t.Fatalf("field %s: type %v", f.Name, f.Type)
				}
				if seen[strings.ToLower(f.Name)] {
					t.Fatalf("column %s twice", f.Name)
				}
				seen[strings.ToLower(f.Name)] = true
			}
			if len(st.Fields) != len(sch.Columns) {
				t.Fatalf("%d fields for %d columns", len(st.Fields), len(sch.Columns))
			}
			var pcs []string
			for _, p := range md["partitionColumns"].([]any) {
				pcs = append(pcs, p.(string))
				if !seen[p.(string)] {
					t.Fatalf("partition column %v not in the schema", p)
				}
			}
			if !slices.Equal(pcs, sch.PartitionBy) {
				t.Fatalf("partition columns %v, want %v", pcs, sch.PartitionBy)
			}
		})
	}
}

// TestDuckDBReadsTheFilesTheLogLists: DuckDB (without its delta extension,
// which it would download) reads exactly the Parquet files a replay of the
// log lists; the counts agree with the registry, the physical columns have
// the types the Delta schema declares, and each file's dataset_type column
// equals its partition value.
func TestDuckDBReadsTheFilesTheLogLists(t *testing.T) {
	e := newEnv(t, registry.Options{})
	e.setup()
	e.datasets("flat", "run1", 1, 3)
	e.datasets("calexp.wcs", "run1", 1, 2)
	e.datasets("flat", "run2", 1, 4)
	if _, _, err := e.reg.Compact(e.ctx, registry.CompactOptions{}); err != nil {
		t.Fatal(err)
	}
	e.datasets("flat", "run2", 5, 1)
	e.publish()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap := e.reg.Current()
	duckTypes := map[string]string{"string": "VARCHAR", "long": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP WITH TIME ZONE"}
	for _, table := range []string{registry.TableDatasets, registry.TableFiles, registry.TableCollections, "dimension_detector"} {
		t.Run(table, func(t *testing.T) {
			rp := replay(t, e.store, table)
			var paths []string
			for _, k := range slices.Sorted(maps.Keys(rp.files)) {
				paths = append(paths, "'"+filepath.Join(e.dir, filepath.FromSlash(k))+"'")
			}
			list := "[" + strings.Join(paths, ",") + "]"
			rows, err := snap.Rows(e.ctx, table)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + list + ", union_by_name=true)").Scan(&n); err != nil {
				t.Fatal(err)
			}
			var stats int64
			for _, f := range rp.files {
				stats += f.numRecords
			}
			if n != int64(len(rows)) || stats != n {
				t.Fatalf("DuckDB counts %d rows, numRecords add up to %d, registry has %d", n, stats, len(rows))
			}
			// Types: DESCRIBE the files against the Delta schema.
			var st StructType
			json.Unmarshal([]byte(rp.metaData["schemaString"].(string)), &st)
			types := map[string]string{}
			drows, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(" + list + ", union_by_name=true))")
			if err != nil {
				t.Fatal(err)
			}
			for drows.Next() {
				var name, typ string
				drows.Scan(&name, &typ)
				types[name] = typ
			}
			drows.Close()
			for _, f := range st.Fields {
				if got := types[f.Name]; got != duckTypes[f.Type] {
					t.Errorf("column %s: Delta type %s, Parquet reads as %s", f.Name, f.Type, got)
				}
			}
			// Partition values agree with the column stored in the file.
			for k, f := range rp.files {
				for col, v := range f.partition {
					var bad int64
					q := fmt.Sprintf("SELECT count(*) FROM read_parquet('%s') WHERE %s IS DISTINCT FROM ?", filepath.Join(e.dir, filepath.FromSlash(k)), col)
					if err := db.QueryRow(q, v).Scan(&bad); err != nil || bad != 0 {
						t.Fatalf("%s: %d rows whose %s is not the partition value %v (%v)", k, bad, col, v, err)
					}
				}
			}
		})
	}
}

func TestPathsAreURIsRelativeToTheTable(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"a plain partition", "registry/tables/datasets/dataset_type=raw/part-1.parquet", "dataset_type=raw/part-1.parquet"},
		{"an escaped partition keeps its percent", "registry/tables/datasets/dataset_type=a%2Fb/part-1.parquet", "dataset_type=a%252Fb/part-1.parquet"},
		{"spaces and colons", "registry/tables/t/k=a b:c/part-1.parquet", "k=a%20b%3Ac/part-1.parquet"},
		{"an unpartitioned table", "registry/tables/collections/part-9.parquet", "part-9.parquet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := strings.Split(strings.TrimPrefix(tc.key, registry.TablesPrefix), "/")[0]
			got := EncodePath(table, tc.key)
			if got != tc.want {
				t.Fatalf("EncodePath = %q, want %q", got, tc.want)
			}
			back, err := DecodePath(table, got)
			if err != nil || back != tc.key {
				t.Fatalf("DecodePath = %q, %v", back, err)
			}
		})
	}
}

func uuidParse(s string) (string, error) {
	if len(s) != 36 || s[14] != '5' {
		return "", fmt.Errorf("%q is not a UUIDv5", s)
	}
	return s, nil
}

// TestATableThisVersionDoesNotKnowIsSkippedWithoutAdvancingTheMarker: a
// commit from a newer skybutler touches a table with no schema here; it is
// left unpublished and the marker does not claim it, so a skybutler that
// knows the table publishes its whole history later.
func TestATableThisVersionDoesNotKnowIsSkippedWithoutAdvancingTheMarker(t *testing.T) {
	e := newEnv(t, registry.Options{})
	e.collections("a")
	e.publish()
	marker, err := e.store.Get(e.ctx, StateKey)
	if err != nil {
		t.Fatal(err)
	}
	v := e.reg.Current().Version + 1
	c := registry.Commit{Version: v, ID: "x", Operation: "future", Tables: []registry.TableEdit{{Table: "future_table",
		Add: []registry.FileEntry{{Path: registry.TablesPrefix + "future_table/part-1.parquet", Rows: 1, Size: 10}}}}}
	data, _ := json.Marshal(c)
	if _, err := e.store.PutIfAbsent(e.ctx, fmt.Sprintf("registry/_log/%020d.json", v), data); err != nil {
		t.Fatal(err)
	}
	e.collections("b")
	st := e.publish()
	if !slices.Equal(st.Skipped, []string{"future_table"}) || st.Tables[registry.TableCollections] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if now, _ := e.store.Get(e.ctx, StateKey); string(now) != string(marker) {
		t.Fatal("the marker advanced past an unpublished table")
	}
	if st := e.publish(); st.Commits != 0 {
		t.Fatalf("publishing again wrote %+v", st)
	}
}

// TestRescanningATruncatedRegistryLogAddsNoVersions: with the registry log
// before a checkpoint deleted and the marker lost, a publish that is already
// up to date writes no Delta version (catch-ups with nothing to change are
// skipped), only the marker.
func TestRescanningATruncatedRegistryLogAddsNoVersions(t *testing.T) {
	e := newEnv(t, registry.Options{CheckpointInterval: -1})
	e.setup()
	e.datasets("flat", "run1", 1, 2)
	e.collections("x")
	e.publish()
	snap := e.reg.Current()
	if err := e.reg.WriteCheckpoint(e.ctx, snap); err != nil {
		t.Fatal(err)
	}
	for v := range snap.Version {
		e.store.Delete(e.ctx, fmt.Sprintf("registry/_log/%020d.json", v))
	}
	e.store.Delete(e.ctx, StateKey)
	if st := e.publish(); st.Commits != 0 {
		t.Fatalf("rescan wrote %+v", st)
	}
	if _, err := e.store.Get(e.ctx, StateKey); err != nil {
		t.Fatalf("marker not rewritten: %v", err)
	}
	e.datasets("flat", "run2", 1, 1)
	if st := e.publish(); st.Commits != 2 || st.Tables["datasets"] != 1 || st.Tables["files"] != 1 {
		t.Fatalf("one new commit (datasets and files) published as %+v", st)
	}
	checkMatchesRegistry(t, e.store, e.reg, false)
}
