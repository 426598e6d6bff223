package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

func TestInsertDatasets(t *testing.T) {
	type edit func(f *fixture) ([]DatasetRef, []FileRecord)
	one := func(mk func(f *fixture) DatasetRef) edit {
		return func(f *fixture) ([]DatasetRef, []FileRecord) {
			r := mk(f)
			return []DatasetRef{r}, []FileRecord{file(r)}
		}
	}
	withID := func(r DatasetRef, id string) DatasetRef { r.ID = id; return r }
	withDataID := func(r DatasetRef, k string, v any) DatasetRef {
		r.DataID = maps.Clone(r.DataID)
		if v == nil {
			delete(r.DataID, k)
		} else {
			r.DataID[k] = v
		}
		return r
	}
	tests := []struct {
		name     string
		pre      func(f *fixture) []DatasetRef // committed first
		refs     edit
		opts     InsertOptions
		want     error
		wantRaws []string // raw datasets afterwards
	}{
		{name: "a new dataset is inserted",
			refs:     one(func(f *fixture) DatasetRef { return f.raw("runA", 1, 1) }),
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "a second dataset with the same type, data ID and run is a conflict",
			pre:      func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs:     one(func(f *fixture) DatasetRef { return withID(f.raw("runA", 1, 1), uuid.NewString()) }),
			want:     ErrConflict,
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "the same dataset again without SkipExisting is a conflict",
			pre:      func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs:     one(func(f *fixture) DatasetRef { return f.raw("runA", 1, 1) }),
			want:     ErrConflict,
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "the same data ID in another run is accepted",
			pre:      func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs:     one(func(f *fixture) DatasetRef { return f.raw("runB", 1, 1) }),
			wantRaws: []string{"raw runA e1 d1", "raw runB e1 d1"}},
		{name: "the same data ID as another dataset type is accepted",
			pre: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs: one(func(f *fixture) DatasetRef {
				return f.ref("calexp", "runA", map[string]any{"exposure": 1, "detector": 1})
			}),
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "the same dataset with SkipExisting is a no-op",
			pre:      func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs:     one(func(f *fixture) DatasetRef { return f.raw("runA", 1, 1) }),
			opts:     InsertOptions{SkipExisting: true},
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "the same data ID with another ID is a conflict even with SkipExisting",
			pre:      func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs:     one(func(f *fixture) DatasetRef { return withID(f.raw("runA", 1, 1), uuid.NewString()) }),
			opts:     InsertOptions{SkipExisting: true},
			want:     ErrConflict,
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "an ID already used by another dataset is a conflict",
			pre:      func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			refs:     one(func(f *fixture) DatasetRef { return withID(f.raw("runA", 1, 2), f.raw("runA", 1, 1).ID) }),
			want:     ErrConflict,
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "the same data ID twice in one call is a conflict",
			refs: func(f *fixture) ([]DatasetRef, []FileRecord) {
				a, b := f.raw("runA", 1, 1), withID(f.raw("runA", 1, 1), uuid.NewString())
				return []DatasetRef{a, b}, []FileRecord{file(a), file(b)}
			},
			want: ErrConflict},
		{name: "the same dataset twice in one call with SkipExisting is inserted once",
			refs: func(f *fixture) ([]DatasetRef, []FileRecord) {
				a := f.raw("runA", 1, 1)
				return []DatasetRef{a, a}, []FileRecord{file(a), file(a)}
			},
			opts:     InsertOptions{SkipExisting: true},
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "a run that does not exist is not found",
			refs: one(func(f *fixture) DatasetRef { return f.raw("nope", 1, 1) }),
			want: ErrNotFound},
		{name: "a TAGGED collection cannot hold new datasets",
			refs: one(func(f *fixture) DatasetRef { return f.raw("tagged", 1, 1) }),
			want: ErrConflict},
		{name: "a CALIBRATION collection cannot hold new datasets",
			refs: one(func(f *fixture) DatasetRef { return f.raw("calib", 1, 1) }),
			want: ErrConflict},
		{name: "a CHAINED collection cannot hold new datasets",
			pre:  func(f *fixture) []DatasetRef { f.mustChain("chain", "runA"); return nil },
			refs: one(func(f *fixture) DatasetRef { return f.raw("chain", 1, 1) }),
			want: ErrConflict},
		{name: "an unknown dataset type is not found",
			refs: one(func(f *fixture) DatasetRef {
				r := f.raw("runA", 1, 1)
				r.DatasetType = "rawx"
				return r
			}),
			want: ErrNotFound},
		{name: "a data ID without its detector is invalid",
			refs: one(func(f *fixture) DatasetRef { return withDataID(f.raw("runA", 1, 1), "detector", nil) }),
			want: ErrInvalid},
		{name: "a data ID with a key the dataset type lacks is invalid",
			refs: one(func(f *fixture) DatasetRef { return withDataID(f.raw("runA", 1, 1), "visit", int64(1)) }),
			want: ErrInvalid},
		{name: "a data ID naming an unregistered exposure is not found",
			refs: one(func(f *fixture) DatasetRef { return f.raw("runA", 99, 1) }),
			want: ErrNotFound},
		{name: "a data ID naming an unregistered detector is not found",
			refs: one(func(f *fixture) DatasetRef { return f.raw("runA", 1, 9) }),
			want: ErrNotFound},
		{name: "a data ID whose implied value contradicts the exposure record is invalid",
			refs: one(func(f *fixture) DatasetRef { return withDataID(f.raw("runA", 1, 1), "physical_filter", "SPHEREx-D2") }),
			want: ErrInvalid},
		{name: "a data ID whose implied value agrees with the exposure record is accepted",
			refs:     one(func(f *fixture) DatasetRef { return withDataID(f.raw("runA", 1, 1), "physical_filter", "SPHEREx-D1") }),
			wantRaws: []string{"raw runA e1 d1"}},
		{name: "a dataset without an ID is invalid",
			refs: one(func(f *fixture) DatasetRef { return withID(f.raw("runA", 1, 1), "") }),
			want: ErrInvalid},
		{name: "an ID that is not a UUID is invalid",
			refs: one(func(f *fixture) DatasetRef { return withID(f.raw("runA", 1, 1), "raw-1-1") }),
			want: ErrInvalid},
		{name: "a file record of a dataset not being inserted is invalid",
			refs: func(f *fixture) ([]DatasetRef, []FileRecord) {
				return []DatasetRef{f.raw("runA", 1, 1)}, []FileRecord{file(f.raw("runA", 1, 2))}
			},
			want: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, objstore.NewMem())
			if tc.pre != nil {
				if pre := tc.pre(f); len(pre) > 0 {
					f.mustInsert(pre...)
				}
			}
			before := f.r.Current()
			refs, files := tc.refs(f)
			var out []DatasetRef
			res, err := f.commit(func(tx *Tx) error {
				var err error
				out, err = InsertDatasets(tx, refs, files, tc.opts)
				return err
			})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				if v := f.r.Current().Version; v != before.Version {
					t.Fatalf("a refused insert moved the version from %d to %d", before.Version, v)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil && tc.opts.SkipExisting && tc.pre != nil {
				if !res.NoOp || len(out) != 0 {
					t.Fatalf("result %+v, returned %v: want a no-op inserting nothing", res, out)
				}
			}
			if got := sortedLabels(f.datasets("raw")); !slices.Equal(got, tc.wantRaws) {
				t.Fatalf("raw datasets %q, want %q", got, tc.wantRaws)
			}
			snap := f.r.Current()
			if d, fs := tableRows(t, snap, TableDatasets), tableRows(t, snap, TableFiles); len(d) != len(fs) {
				t.Fatalf("%d dataset rows but %d file rows, want one file each", len(d), len(fs))
			}
		})
	}
}

func TestInsertDatasetsFillsImpliedValuesFromTheExposureRecord(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	out := f.mustInsert(f.raw("runA", 3, 2))
	want := dimensions.DataID{"instrument": inst, "detector": int64(2), "exposure": int64(3),
		"physical_filter": "SPHEREx-D1", "band": "spx1", "day_obs": int64(20260215), "group": "g2"}
	if len(out) != 1 || !maps.Equal(out[0].DataID, want) {
		t.Fatalf("returned %v, want data ID %v", out, want)
	}
	for name, snap := range map[string]*Snapshot{"same handle": f.r.Current(), "new handle": reopen(t, f.store, Options{}).Current()} {
		refs, err := snap.Datasets(f.ctx, "raw")
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) != 1 || !maps.Equal(refs[0].DataID, want) {
			t.Fatalf("%s: stored %v, want data ID %v", name, refs, want)
		}
	}
	// The implied values are columns of the datasets table (Athena queries).
	sch, _ := f.r.Schema(TableDatasets)
	rows, err := f.r.Current().Rows(f.ctx, TableDatasets)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, %v", rows, err)
	}
	if sch.Get(rows[0], "band") != "spx1" || sch.Get(rows[0], "day_obs") != int64(20260215) || sch.Get(rows[0], "visit") != nil {
		t.Fatalf("row %v", rows[0])
	}
}

func TestInsertDatasetsSeesRecordsInsertedInTheSameTx(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	exp := fixtureExposure{50, 20260301, "g50", "SPHEREx-D4", "science", date(2026, 3, 1)}
	recs := exposureRecords(t, exp)
	ref := f.raw("runA", 50, 4)
	_, err := f.commit(func(tx *Tx) error {
		for _, rec := range recs {
			if _, err := InsertDimensionRecords(tx, rec.Element, []dimensions.Record{rec}); err != nil {
				return err
			}
		}
		_, err := InsertDatasets(tx, []DatasetRef{ref}, []FileRecord{file(ref)}, InsertOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.datasets("raw")
	if len(got) != 1 || got[0].DataID["band"] != "spx4" || got[0].DataID["group"] != "g50" || got[0].DataID["day_obs"] != int64(20260301) {
		t.Fatalf("datasets %v", got)
	}
}

// TestInsertDatasetsSeesDatasetTypesAndRunsOfTheSameTx: transfer-datasets
// registers the dataset types and runs it needs and inserts the datasets in
// one commit.
func TestInsertDatasetsSeesDatasetTypesAndRunsOfTheSameTx(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	dt := DatasetType{Name: "postISR", Dimensions: []string{"exposure", "detector"}, StorageClass: "ExposureF"}
	id := dimensions.DataID{"instrument": inst, "exposure": int64(1), "detector": int64(1)}
	ref := DatasetRef{ID: NewDatasetID(), DatasetType: "postISR", Run: "runNew", DataID: id}
	_, err := f.commit(func(tx *Tx) error {
		if _, err := RegisterDatasetType(tx, dt); err != nil {
			return err
		}
		if err := RegisterCollection(tx, Collection{Name: "runNew", Type: Run}); err != nil {
			return err
		}
		_, err := InsertDatasets(tx, []DatasetRef{ref}, []FileRecord{file(ref)}, InsertOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(f.datasets("postISR")); !slices.Equal(got, []string{"postISR runNew e1 d1"}) {
		t.Fatalf("datasets %v", got)
	}
}

// TestInsertDatasetsAcrossCallsOfOneTx: ingest calls InsertDatasets once
// per file in one commit; the uniqueness of (type, data ID, run) holds
// across the calls, and SkipExisting skips a dataset an earlier call added.
func TestInsertDatasetsAcrossCallsOfOneTx(t *testing.T) {
	tests := []struct {
		name     string
		second   func(f *fixture) DatasetRef
		opts     InsertOptions
		want     error
		wantRows int
	}{
		{"another ID for the same data ID is a conflict", func(f *fixture) DatasetRef {
			r := f.raw("runA", 1, 1)
			r.ID = uuid.NewString()
			return r
		}, InsertOptions{SkipExisting: true}, ErrConflict, 0},
		{"the same dataset without SkipExisting is a conflict", func(f *fixture) DatasetRef { return f.raw("runA", 1, 1) }, InsertOptions{}, ErrConflict, 0},
		{"the same dataset with SkipExisting is skipped", func(f *fixture) DatasetRef { return f.raw("runA", 1, 1) }, InsertOptions{SkipExisting: true}, nil, 1},
		{"another data ID is inserted", func(f *fixture) DatasetRef { return f.raw("runA", 1, 2) }, InsertOptions{SkipExisting: true}, nil, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, objstore.NewMem())
			first, second := f.raw("runA", 1, 1), tc.second(f)
			_, err := f.commit(func(tx *Tx) error {
				if _, err := InsertDatasets(tx, []DatasetRef{first}, []FileRecord{file(first)}, tc.opts); err != nil {
					return err
				}
				_, err := InsertDatasets(tx, []DatasetRef{second}, []FileRecord{file(second)}, tc.opts)
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			snap := f.r.Current()
			if n := len(tableRows(t, snap, TableDatasets)); n != tc.wantRows {
				t.Fatalf("%d dataset rows, want %d", n, tc.wantRows)
			}
			if n := len(tableRows(t, snap, TableFiles)); n != tc.wantRows {
				t.Fatalf("%d file rows, want %d", n, tc.wantRows)
			}
		})
	}
}

func TestDeterministicID(t *testing.T) {
	dims := []string{"instrument", "detector", "exposure"}
	id := dimensions.DataID{"instrument": inst, "detector": int64(1), "exposure": int64(7)}
	base := DeterministicID("raw", dims, id, "runA")
	u, err := uuid.Parse(base)
	if err != nil || u.Version() != 5 {
		t.Fatalf("%q is not a UUIDv5 (%v)", base, err)
	}
	// Re-ingest relies on IDs never changing between releases.
	if want := "7f2ed6ad-e4a2-5ff7-8270-1714457c49c2"; base != want {
		t.Fatalf("DeterministicID changed: %s, was %s", base, want)
	}
	same := []struct {
		name string
		got  string
	}{
		{"a second call", DeterministicID("raw", dims, id, "runA")},
		{"a copy of the data ID", DeterministicID("raw", dims, id.Copy(), "runA")},
		{"implied values in the data ID", DeterministicID("raw", dims, dimensions.DataID{"instrument": inst, "detector": int64(1), "exposure": int64(7), "band": "spx1"}, "runA")},
	}
	for _, tc := range same {
		t.Run(tc.name+" gives the same ID", func(t *testing.T) {
			if tc.got != base {
				t.Fatalf("%s, want %s", tc.got, base)
			}
		})
	}
	differ := []struct {
		name string
		got  string
	}{
		{"another run", DeterministicID("raw", dims, id, "runB")},
		{"another dataset type", DeterministicID("calexp", dims, id, "runA")},
		{"another detector", DeterministicID("raw", dims, dimensions.DataID{"instrument": inst, "detector": int64(2), "exposure": int64(7)}, "runA")},
		{"another exposure", DeterministicID("raw", dims, dimensions.DataID{"instrument": inst, "detector": int64(1), "exposure": int64(71)}, "runA")},
		{"the values of two keys swapped", DeterministicID("raw", dims, dimensions.DataID{"instrument": inst, "detector": int64(7), "exposure": int64(1)}, "runA")},
	}
	for _, tc := range differ {
		t.Run(tc.name+" gives another ID", func(t *testing.T) {
			if tc.got == base {
				t.Fatalf("same ID %s", tc.got)
			}
		})
	}
}

func TestFileRecordsAreStoredAndReturned(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	a, b := f.raw("runA", 1, 1), f.raw("runA", 1, 2)
	files := []FileRecord{
		file(a),
		{DatasetID: b.ID, URI: "runA/raw/b.fits", Formatter: "fits", StorageClass: "ImageF", Component: "image", Size: 10, Checksum: "sha256:0"},
		{DatasetID: b.ID, URI: "runA/raw/b.mask.fits", Formatter: "fits", StorageClass: "Mask", Component: "mask", Size: 0, Checksum: ""},
	}
	if _, err := f.commit(func(tx *Tx) error {
		_, err := InsertDatasets(tx, []DatasetRef{a, b}, files, InsertOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]FileRecord{a.ID: {files[0]}, b.ID: {files[1], files[2]}}
	for id := range want {
		for i := range want[id] {
			want[id][i].DatasetType = "raw"
		}
	}
	for name, r := range map[string]*Registry{"same handle": f.r, "new handle": reopen(t, f.store, Options{})} {
		got, err := r.Current().FileRecords(f.ctx, "raw")
		if err != nil {
			t.Fatal(err)
		}
		for _, recs := range got {
			slices.SortFunc(recs, func(x, y FileRecord) int { return strings.Compare(x.URI, y.URI) })
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: file records %v, want %v", name, got, want)
		}
		if other, err := r.Current().FileRecords(f.ctx, "calexp"); err != nil || len(other) != 0 {
			t.Fatalf("%s: calexp file records %v %v, want none", name, other, err)
		}
	}
}

func TestDatasetsSurviveReopen(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f := newFixture(t, st.new(t))
			refs := []DatasetRef{f.raw("runA", 1, 1), f.raw("runA", 2, 3), f.raw("runB", 1, 1), f.calib("dark", "runA", 4), f.ref("summary", "runB", nil)}
			out := f.mustInsert(refs...)
			fresh := reopen(t, f.store, Options{CacheDir: t.TempDir()})
			snap := fresh.Current()
			for _, want := range out {
				got, ok, err := snap.DatasetByID(f.ctx, want.ID)
				if err != nil || !ok {
					t.Fatalf("DatasetByID %s: %v %v", want.ID, ok, err)
				}
				if got.ID != want.ID || got.Run != want.Run || got.DatasetType != want.DatasetType || !maps.Equal(got.DataID, want.DataID) {
					t.Fatalf("reopened %+v, want %+v", got, want)
				}
				recs, err := snap.FileRecords(f.ctx, want.DatasetType)
				if err != nil {
					t.Fatal(err)
				}
				wf := file(want)
				wf.DatasetType = want.DatasetType
				if len(recs[want.ID]) != 1 || recs[want.ID][0] != wf {
					t.Fatalf("file records of %s: %v, want %v", label(want), recs[want.ID], wf)
				}
			}
			if _, ok, err := snap.DatasetByID(f.ctx, uuid.NewString()); ok || err != nil {
				t.Fatalf("a random ID: %v %v, want not found", ok, err)
			}
			got, err := snap.Datasets(f.ctx, "raw")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"raw runA e1 d1", "raw runA e2 d3", "raw runB e1 d1"}; !slices.Equal(sortedLabels(got), want) {
				t.Fatalf("raw datasets %v, want %v", sortedLabels(got), want)
			}
			if _, err := snap.Datasets(f.ctx, "nope"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("datasets of an unknown type: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestNormalizeRef(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	snap := f.r.Current()
	ref, dt, err := snap.NormalizeRef(f.ctx, DatasetRef{DatasetType: "raw", Run: "runA", DataID: dimensions.DataID{"instrument": inst, "exposure": "2", "detector": 5.0}})
	if err != nil {
		t.Fatal(err)
	}
	if dt.Name != "raw" || ref.DataID["exposure"] != int64(2) || ref.DataID["detector"] != int64(5) || ref.DataID["band"] != "spx2" {
		t.Fatalf("normalized %v (%v)", ref.DataID, dt)
	}
	if _, _, err := snap.NormalizeRef(f.ctx, DatasetRef{DatasetType: "raw", DataID: dimensions.DataID{"instrument": inst, "exposure": int64(99), "detector": int64(1)}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("exposure 99: %v, want ErrNotFound", err)
	}
}

func TestDatasetFilesArePartitionedByDatasetType(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f := newFixture(t, st.new(t))
			f.mustInsert(f.raw("runA", 1, 1), f.calib("bias", "runA", 1), f.calib("bias", "runA", 2))
			want := map[string]int{
				"registry/tables/datasets/dataset_type=raw/":  1,
				"registry/tables/datasets/dataset_type=bias/": 1,
				"registry/tables/files/dataset_type=raw/":     1,
				"registry/tables/files/dataset_type=bias/":    1,
			}
			got := map[string]int{}
			for k := range keys(t, f.store) {
				if !strings.HasPrefix(k, "registry/tables/datasets/") && !strings.HasPrefix(k, "registry/tables/files/") {
					continue
				}
				dir, name := k[:strings.LastIndex(k, "/")+1], k[strings.LastIndex(k, "/")+1:]
				if !strings.HasPrefix(name, "part-") || !strings.HasSuffix(name, ".parquet") {
					t.Errorf("unexpected object %s", k)
				}
				got[dir]++
			}
			if !maps.Equal(got, want) {
				t.Fatalf("data files by directory %v, want %v", got, want)
			}
			for _, fe := range f.r.Current().Files(TableDatasets) {
				if fe.Partition["dataset_type"] == "" || !strings.Contains(fe.Path, "dataset_type="+fe.Partition["dataset_type"]+"/") {
					t.Fatalf("file %s has partition %v", fe.Path, fe.Partition)
				}
			}
		})
	}
}

// TestConcurrentInsertsLoseNothing: writers with their own Registry handles
// (separate processes) insert distinct datasets, a few per commit (one per
// commit makes 200 data files per partition, which every handle must read:
// minutes under -race on a small machine, for no more coverage).
func TestConcurrentInsertsLoseNothing(t *testing.T) {
	const writers, each, perCommit = 8, 25, 5
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f := newFixture(t, st.new(t))
			// 40 exposures x 5 detectors = 200 distinct data IDs.
			var exps []fixtureExposure
			for i := range writers * each / 5 {
				exps = append(exps, fixtureExposure{100 + i, 20260301, "gc", "SPHEREx-D3", "science", date(2026, 3, 1)})
			}
			if _, _, err := f.r.InsertRecordSets(f.ctx, "test", exposureRecords(t, exps...)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := Open(f.ctx, f.store, defaultUniverse(), Options{})
					if err != nil {
						errs <- err
						return
					}
					for c := range each / perCommit {
						var refs []DatasetRef
						var files []FileRecord
						for i := range perCommit {
							n := w*each + c*perCommit + i
							ref := f.raw("runA", 100+n/5, 1+n%5)
							refs = append(refs, ref)
							files = append(files, file(ref))
						}
						if _, err := r.Commit(f.ctx, "test", func(tx *Tx) error {
							_, err := InsertDatasets(tx, refs, files, InsertOptions{})
							return err
						}); err != nil {
							errs <- fmt.Errorf("writer %d, commit %d: %w", w, c, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			snap := reopen(t, f.store, Options{}).Current()
			refs, err := snap.Datasets(f.ctx, "raw")
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, r := range refs {
				ids[r.ID] = true
			}
			if len(refs) != writers*each || len(ids) != writers*each {
				t.Fatalf("%d datasets (%d distinct), want %d", len(refs), len(ids), writers*each)
			}
			files, err := snap.FileRecords(f.ctx, "raw")
			if err != nil || len(files) != writers*each {
				t.Fatalf("%d datasets with file records (%v), want %d", len(files), err, writers*each)
			}
		})
	}
}

// TestConcurrentIdempotentInsertsMakeOneDataset: retried ingests of one
// file (deterministic ID, SkipExisting) race; exactly one row results and
// every attempt succeeds.
func TestConcurrentIdempotentInsertsMakeOneDataset(t *testing.T) {
	const writers = 8
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f := newFixture(t, st.new(t))
			ref := f.raw("runA", 2, 6)
			var wg sync.WaitGroup
			var mu sync.Mutex
			inserted := 0
			errs := make(chan error, writers)
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := Open(f.ctx, f.store, defaultUniverse(), Options{})
					if err != nil {
						errs <- err
						return
					}
					var out []DatasetRef
					if _, err := r.Commit(f.ctx, "test", func(tx *Tx) error {
						var err error
						out, err = InsertDatasets(tx, []DatasetRef{ref}, []FileRecord{file(ref)}, InsertOptions{SkipExisting: true})
						return err
					}); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					inserted += len(out)
					mu.Unlock()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if inserted != 1 {
				t.Fatalf("%d writers report inserting the dataset, want 1", inserted)
			}
			snap := reopen(t, f.store, Options{}).Current()
			if n := len(tableRows(t, snap, TableDatasets)); n != 1 {
				t.Fatalf("%d dataset rows, want 1", n)
			}
			if n := len(tableRows(t, snap, TableFiles)); n != 1 {
				t.Fatalf("%d file rows, want 1", n)
			}
		})
	}
}

func TestAssociate(t *testing.T) {
	tests := []struct {
		name string
		pre  func(f *fixture)              // after runA/runB hold raw e1 d1 and e1 d2
		coll string                        // collection to associate into
		refs func(f *fixture) []DatasetRef // datasets to associate
		want error
		tags []string // labels of the datasets tagged afterwards
		n    int      // how many the call reports as added
	}{
		{name: "datasets from several runs are tagged",
			coll: "tagged", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1), f.raw("runB", 1, 2)} },
			tags: []string{"raw runA e1 d1", "raw runB e1 d2"}, n: 2},
		{name: "tagging a dataset again is a no-op",
			pre:  func(f *fixture) { f.mustAssociate("tagged", f.raw("runA", 1, 1)) },
			coll: "tagged", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1)} },
			tags: []string{"raw runA e1 d1"}, n: 0},
		{name: "a second dataset with the same data ID from another run is a conflict",
			pre:  func(f *fixture) { f.mustAssociate("tagged", f.raw("runA", 1, 1)) },
			coll: "tagged", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runB", 1, 1)} },
			want: ErrConflict, tags: []string{"raw runA e1 d1"}},
		{name: "two datasets with the same data ID in one call are a conflict",
			coll: "tagged", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runA", 1, 1), f.raw("runB", 1, 1)} },
			want: ErrConflict},
		{name: "the same data ID as another dataset type is accepted",
			pre:  func(f *fixture) { f.mustAssociate("tagged", f.raw("runA", 1, 1)) },
			coll: "tagged", refs: func(f *fixture) []DatasetRef {
				return []DatasetRef{f.ref("calexp", "runB", map[string]any{"exposure": 1, "detector": 1})}
			},
			tags: []string{"calexp runB e1 d1", "raw runA e1 d1"}, n: 1},
		{name: "associating into a RUN is a conflict",
			coll: "runA", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runB", 1, 1)} },
			want: ErrConflict},
		{name: "associating into a CALIBRATION collection is a conflict",
			coll: "calib", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runB", 1, 1)} },
			want: ErrConflict},
		{name: "an unknown collection is not found",
			coll: "nope", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runB", 1, 1)} },
			want: ErrNotFound},
		{name: "an unknown dataset is not found",
			coll: "tagged", refs: func(f *fixture) []DatasetRef { return []DatasetRef{f.raw("runB", 2, 2)} },
			want: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, objstore.NewMem())
			f.mustInsert(f.raw("runA", 1, 1), f.raw("runA", 1, 2), f.raw("runB", 1, 1), f.raw("runB", 1, 2),
				f.ref("calexp", "runB", map[string]any{"exposure": 1, "detector": 1}))
			if tc.pre != nil {
				tc.pre(f)
			}
			var n int
			_, err := f.commit(func(tx *Tx) error {
				var err error
				n, err = Associate(tx, tc.coll, tc.refs(f))
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && n != tc.n {
				t.Fatalf("%d associated, want %d", n, tc.n)
			}
			var tagged []DatasetRef
			for _, dt := range []string{"raw", "calexp"} {
				got, err := f.r.Current().QueryDatasets(f.ctx, DatasetQuery{DatasetTypes: []string{dt}, Collections: []string{"tagged"}})
				if err != nil {
					t.Fatal(err)
				}
				tagged = append(tagged, got...)
			}
			if got := sortedLabels(tagged); !slices.Equal(got, tc.tags) {
				t.Fatalf("tagged %v, want %v", got, tc.tags)
			}
			if rows := tableRows(t, f.r.Current(), TableTags); len(rows) != len(tc.tags) {
				t.Fatalf("tags rows %v, want %d", rows, len(tc.tags))
			}
		})
	}
}

func TestAssociatedDatasetsSurviveReopen(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	f.mustInsert(f.raw("runA", 1, 1), f.raw("runB", 2, 2))
	f.mustAssociate("tagged", f.raw("runA", 1, 1), f.raw("runB", 2, 2))
	got, err := reopen(t, f.store, Options{}).Current().QueryDatasets(context.Background(), DatasetQuery{Collections: []string{"tagged"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"raw runA e1 d1", "raw runB e2 d2"}; !slices.Equal(sortedLabels(got), want) {
		t.Fatalf("tagged %v, want %v", sortedLabels(got), want)
	}
}

// checkPartitions verifies that every live file of the datasets and files
// tables sits in the partition of the dataset type of all its rows.
func checkPartitions(t *testing.T, snap *Snapshot) {
	t.Helper()
	for _, table := range []string{TableDatasets, TableFiles} {
		sch, _ := snap.reg.Schema(table)
		for _, fe := range snap.Files(table) {
			part := fe.Partition["dataset_type"]
			if !strings.HasPrefix(fe.Path, "registry/tables/"+table+"/dataset_type="+part+"/") {
				t.Fatalf("%s: file %s is not under its partition %q", table, fe.Path, part)
			}
			rows, err := snap.reg.fileRows(context.Background(), sch, fe)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if sch.Str(r, "dataset_type") != part {
					t.Fatalf("%s: file %s of partition %q holds a row of %q", table, fe.Path, part, sch.Str(r, "dataset_type"))
				}
			}
		}
	}
}

func TestDatasetsSurviveCompactionAndCheckpoints(t *testing.T) {
	f := newRemoveFixture(t, objstore.NewMem())
	before := stateOf(t, f.r.Current())
	if _, _, err := f.r.Compact(f.ctx, CompactOptions{}); err != nil {
		t.Fatal(err)
	}
	// A handle that checkpoints at every commit writes one now.
	w := reopen(t, f.store, Options{CheckpointInterval: 1})
	if _, err := w.RegisterCollections(f.ctx, Collection{Name: "runE", Type: Run}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Get(f.ctx, checkpointKey(w.Current().Version)); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	snap := reopen(t, f.store, Options{}).Current()
	after := stateOf(t, snap)
	after[TableCollections] = rowsWithout(after[TableCollections], "[runE ")
	checkState(t, after, before)
	checkPartitions(t, snap)
	for _, table := range []string{TableDatasets, TableFiles} {
		if n := len(snap.Files(table)); n != 2 {
			t.Fatalf("%d %s files after compaction, want 2 (raw and dark)", n, table)
		}
	}
	ref, ok, err := snap.FindDataset(f.ctx, "dark", map[string]any{"instrument": inst, "detector": 1}, []string{"calib"}, at(date(2026, 2, 2)))
	if err != nil || !ok || ref.Run != "runB" {
		t.Fatalf("find after checkpoint: %v %v %v", ref, ok, err)
	}
}

func TestADatasetTypeWithoutDimensionsHoldsOneDatasetPerRun(t *testing.T) {
	f := newFixture(t, objstore.NewMem())
	if _, err := f.r.RegisterDatasetTypes(f.ctx, DatasetType{Name: "packages", StorageClass: "Packages"}); err != nil {
		t.Fatal(err)
	}
	a, b := f.ref("packages", "runA", nil), f.ref("packages", "runB", nil)
	delete(a.DataID, "instrument")
	delete(b.DataID, "instrument")
	f.mustInsert(a, b)
	again := a
	again.ID = uuid.NewString()
	if _, _, err := f.insert(InsertOptions{}, again); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second dataset in runA: %v, want ErrConflict", err)
	}
	ref, ok, err := f.r.Current().FindDataset(f.ctx, "packages", nil, []string{"runB", "runA"}, nil)
	if err != nil || !ok || ref.ID != b.ID {
		t.Fatalf("found %v %v %v, want runB's", ref, ok, err)
	}
}
