package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

// removeFixture:
//
//	runA: raw e1 d1 (two file records: image and mask), raw e1 d2, raw e2 d1, dark d1, dark d2
//	runB: raw e1 d1, dark d1
//	runC: raw e3 d3
//	runD: raw e3 d4 (in no chain)
//	tagged: runA raw e1 d2, runB raw e1 d1; tagged2: runA raw e1 d1
//	calib: runA dark d1 (January), runB dark d1 (February), runA dark d2 (always)
//	c1 = [runB, runA, runC]; c2 = [runA]; c3 = [tagged, runA, c1]
type removeFixture struct {
	*fixture
	refs  map[string]DatasetRef // by label
	files map[string][]FileRecord
}

func newRemoveFixture(t *testing.T, store objstore.Store) *removeFixture {
	t.Helper()
	f := &removeFixture{fixture: newFixture(t, store), refs: map[string]DatasetRef{}, files: map[string][]FileRecord{}}
	if _, err := f.r.RegisterCollections(f.ctx, Collection{Name: "runC", Type: Run}, Collection{Name: "runD", Type: Run},
		Collection{Name: "tagged2", Type: Tagged}); err != nil {
		t.Fatal(err)
	}
	refs := []DatasetRef{
		f.raw("runA", 1, 1), f.raw("runA", 1, 2), f.raw("runA", 2, 1), f.calib("dark", "runA", 1), f.calib("dark", "runA", 2),
		f.raw("runB", 1, 1), f.calib("dark", "runB", 1), f.raw("runC", 3, 3), f.raw("runD", 3, 4),
	}
	var files []FileRecord
	for _, r := range refs {
		f.refs[label(r)] = r
		fr := file(r)
		fr.DatasetType = r.DatasetType
		f.files[label(r)] = append(f.files[label(r)], fr)
		files = append(files, fr)
	}
	mask := FileRecord{DatasetID: refs[0].ID, DatasetType: "raw", URI: "runA/raw/mask.fits", Formatter: "fits", StorageClass: "Mask", Component: "mask", Size: 3, Checksum: "sha256:m"}
	f.files[label(refs[0])] = append(f.files[label(refs[0])], mask)
	files = append(files, mask)
	if _, err := f.commit(func(tx *Tx) error { _, err := InsertDatasets(tx, refs, files, InsertOptions{}); return err }); err != nil {
		t.Fatal(err)
	}
	f.mustAssociate("tagged", f.ref_("raw runA e1 d2"), f.ref_("raw runB e1 d1"))
	f.mustAssociate("tagged2", f.ref_("raw runA e1 d1"))
	f.mustCertify("calib", janSpan, f.ref_("dark runA d1"))
	f.mustCertify("calib", febSpan, f.ref_("dark runB d1"))
	f.mustCertify("calib", dimensions.Timespan{}, f.ref_("dark runA d2"))
	f.mustChain("c1", "runB", "runA", "runC")
	f.mustChain("c2", "runA")
	f.mustChain("c3", "tagged", "runA", "c1")
	return f
}

func (f *removeFixture) ref_(l string) DatasetRef {
	r, ok := f.refs[l]
	if !ok {
		f.t.Fatalf("no dataset %q in the fixture", l)
	}
	return r
}

func (f *removeFixture) ids(labels ...string) []string {
	var out []string
	for _, l := range labels {
		out = append(out, f.ref_(l).ID)
	}
	return out
}

// filesOf returns the file records of datasets, sorted by URI.
func (f *removeFixture) filesOf(labels ...string) []FileRecord {
	var out []FileRecord
	for _, l := range labels {
		out = append(out, f.files[l]...)
	}
	sortFiles(out)
	return out
}

func sortFiles(fs []FileRecord) {
	slices.SortFunc(fs, func(a, b FileRecord) int { return strings.Compare(a.URI, b.URI) })
}

// state is the text of every row of the tables a removal may touch.
type state map[string][]string

var removalTables = []string{TableDatasets, TableFiles, TableTags, TableCalibs, TableCollections, TableCollectionChains, TableDatasetTypes}

func stateOf(t *testing.T, snap *Snapshot) state {
	t.Helper()
	s := state{}
	for _, table := range removalTables {
		s[table] = tableRows(t, snap, table)
	}
	return s
}

// without returns s minus the rows of the dataset tables that name any of
// ids.
func (s state) without(ids []string) state {
	out := state{}
	for table, rows := range s {
		switch table {
		case TableDatasets, TableFiles, TableTags, TableCalibs:
			out[table] = rowsWithout(rows, ids...)
		default:
			out[table] = rows
		}
	}
	return out
}

func checkState(t *testing.T, got, want state, skip ...string) {
	t.Helper()
	for _, table := range removalTables {
		if slices.Contains(skip, table) {
			continue
		}
		if !slices.Equal(got[table], want[table]) {
			t.Errorf("table %s:\n got %q\nwant %q", table, got[table], want[table])
		}
	}
}

func TestUnstoreDatasets(t *testing.T) {
	f := newRemoveFixture(t, objstore.NewMem())
	before := stateOf(t, f.r.Current())
	gone := []string{"raw runA e1 d1", "dark runB d1"}
	var removed []FileRecord
	if _, err := f.commit(func(tx *Tx) error {
		var err error
		removed, err = UnstoreDatasets(tx, f.ids(gone...))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sortFiles(removed)
	if want := f.filesOf(gone...); fmt.Sprint(removed) != fmt.Sprint(want) {
		t.Fatalf("removed %v\nwant %v", removed, want)
	}
	after := stateOf(t, reopen(t, f.store, Options{}).Current())
	want := before.without(f.ids(gone...))
	want[TableDatasets], want[TableTags], want[TableCalibs] = before[TableDatasets], before[TableTags], before[TableCalibs]
	checkState(t, after, want)
	if ref, ok, err := f.r.Current().FindDataset(f.ctx, "raw", f.ref_("raw runA e1 d1").DataID, []string{"runA"}, nil); err != nil || !ok || ref.ID != f.ref_("raw runA e1 d1").ID {
		t.Fatalf("an unstored dataset stays registered: %v %v %v", ref, ok, err)
	}
}

func TestDisassociateDatasets(t *testing.T) {
	tests := []struct {
		name        string
		datasets    []string
		collections []string
		n           int
		gone        []string // label + " " + collection of the tags/calibs rows removed
	}{
		{"a dataset leaves one TAGGED collection", []string{"raw runA e1 d1"}, []string{"tagged2"}, 1, []string{"raw runA e1 d1 tagged2"}},
		{"datasets leave every collection when none is named", []string{"raw runA e1 d2", "dark runA d1"}, nil, 2, []string{"raw runA e1 d2 tagged", "dark runA d1 calib"}},
		{"a dataset leaves only the named CALIBRATION collection", []string{"dark runA d1", "raw runA e1 d2"}, []string{"calib"}, 1, []string{"dark runA d1 calib"}},
		{"a dataset not in the named collection stays", []string{"raw runA e1 d1"}, []string{"tagged"}, 0, nil},
		{"a RUN collection is not a place to disassociate from", []string{"raw runA e1 d1"}, []string{"runA"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRemoveFixture(t, objstore.NewMem())
			snap := f.r.Current()
			before := stateOf(t, snap)
			var n int
			res, err := f.commit(func(tx *Tx) error {
				var err error
				n, err = DisassociateDatasets(tx, f.ids(tc.datasets...), tc.collections)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.n || res.NoOp != (tc.n == 0) {
				t.Fatalf("%d removed (%+v), want %d", n, res, tc.n)
			}
			want := state{}
			for table, rows := range before {
				want[table] = rows
			}
			for _, g := range tc.gone {
				i := strings.LastIndex(g, " ")
				id, coll := f.ref_(g[:i]).ID, g[i+1:]
				want[TableTags] = rowsWithout(want[TableTags], "["+coll+" "+id+" ")
				want[TableCalibs] = rowsWithout(want[TableCalibs], "["+coll+" "+id+" ")
			}
			if got := len(before[TableTags]) + len(before[TableCalibs]) - len(want[TableTags]) - len(want[TableCalibs]); got != len(tc.gone) {
				t.Fatalf("test setup: %d rows expected to go, want %d", got, len(tc.gone))
			}
			checkState(t, stateOf(t, reopen(t, f.store, Options{}).Current()), want)
		})
	}
}

func TestPurgeDatasets(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f := newRemoveFixture(t, st.new(t))
			before := stateOf(t, f.r.Current())
			gone := []string{"raw runA e1 d1", "dark runA d1", "raw runB e1 d1"}
			var removed []FileRecord
			if _, err := f.commit(func(tx *Tx) error {
				var err error
				removed, err = PurgeDatasets(tx, f.ids(gone...))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			sortFiles(removed)
			if want := f.filesOf(gone...); fmt.Sprint(removed) != fmt.Sprint(want) {
				t.Fatalf("removed %v\nwant %v", removed, want)
			}
			snap := reopen(t, f.store, Options{}).Current()
			checkState(t, stateOf(t, snap), before.without(f.ids(gone...)))
			checkPartitions(t, snap)
			for _, l := range gone {
				if _, ok, err := snap.DatasetByID(f.ctx, f.ref_(l).ID); ok || err != nil {
					t.Fatalf("%s still registered (%v)", l, err)
				}
			}
			if _, ok, err := snap.FindDataset(f.ctx, "raw", f.ref_("raw runA e1 d1").DataID, []string{"c1", "tagged2"}, nil); ok || err != nil {
				t.Fatalf("a purged dataset is still found (%v)", err)
			}
			if ref, ok, err := snap.FindDataset(f.ctx, "dark", f.ref_("dark runA d1").DataID, []string{"calib"}, nil); err != nil || !ok || ref.Run != "runB" {
				t.Fatalf("the remaining certification: %v %v %v, want runB's dark", ref, ok, err)
			}
		})
	}
}

func TestRemoveRun(t *testing.T) {
	tests := []struct {
		name   string
		runs   []string
		err    error
		chains map[string][]string // children of every chain afterwards
	}{
		{"a run in the middle of chains", []string{"runA"}, nil,
			map[string][]string{"c1": {"runB", "runC"}, "c2": nil, "c3": {"tagged", "c1"}}},
		{"a run at the head of a chain", []string{"runB"}, nil,
			map[string][]string{"c1": {"runA", "runC"}, "c2": {"runA"}, "c3": {"tagged", "runA", "c1"}}},
		{"a run at the end of a chain", []string{"runC"}, nil,
			map[string][]string{"c1": {"runB", "runA"}, "c2": {"runA"}, "c3": {"tagged", "runA", "c1"}}},
		{"a run in no chain", []string{"runD"}, nil,
			map[string][]string{"c1": {"runB", "runA", "runC"}, "c2": {"runA"}, "c3": {"tagged", "runA", "c1"}}},
		{"two runs of one chain in one commit", []string{"runA", "runB"}, nil,
			map[string][]string{"c1": {"runC"}, "c2": nil, "c3": {"tagged", "c1"}}},
		{"a TAGGED collection is not a run", []string{"tagged"}, ErrConflict, nil},
		{"a CHAINED collection is not a run", []string{"c1"}, ErrConflict, nil},
		{"a CALIBRATION collection is not a run", []string{"calib"}, ErrConflict, nil},
		{"an unknown run is not found", []string{"nope"}, ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRemoveFixture(t, objstore.NewMem())
			snap := f.r.Current()
			before := stateOf(t, snap)
			var gone []string // labels of the removed runs' datasets
			for l, r := range f.refs {
				if slices.Contains(tc.runs, r.Run) {
					gone = append(gone, l)
				}
			}
			var removed []FileRecord
			_, err := f.commit(func(tx *Tx) error {
				removed = nil
				for _, run := range tc.runs {
					fs, err := RemoveRun(tx, run)
					if err != nil {
						return err
					}
					removed = append(removed, fs...)
				}
				return nil
			})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				checkState(t, stateOf(t, f.r.Current()), before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sortFiles(removed)
			if want := f.filesOf(gone...); fmt.Sprint(removed) != fmt.Sprint(want) {
				t.Fatalf("removed %v\nwant %v", removed, want)
			}
			after := reopen(t, f.store, Options{}).Current()
			want := before.without(f.ids(gone...))
			want[TableCollections] = slices.DeleteFunc(slices.Clone(before[TableCollections]), func(r string) bool {
				return slices.ContainsFunc(tc.runs, func(run string) bool { return strings.HasPrefix(r, "["+run+" ") })
			})
			checkState(t, stateOf(t, after), want, TableCollectionChains)
			checkPartitions(t, after)
			for _, run := range tc.runs {
				if _, err := after.Collection(f.ctx, run); !errors.Is(err, ErrNotFound) {
					t.Fatalf("collection %s: %v, want ErrNotFound", run, err)
				}
			}
			// Chains keep their order and get contiguous positions.
			var wantRows []string
			for parent, children := range tc.chains {
				c, err := after.Collection(f.ctx, parent)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(c.Children, children) {
					t.Fatalf("chain %s = %v, want %v", parent, c.Children, children)
				}
				for i, ch := range children {
					wantRows = append(wantRows, fmt.Sprint(Row{parent, int64(i), ch}))
				}
			}
			slices.Sort(wantRows)
			if got := tableRows(t, after, TableCollectionChains); !slices.Equal(got, wantRows) {
				t.Fatalf("chain rows %q, want %q", got, wantRows)
			}
		})
	}
}

// TestAnAbortedRemoveRunChangesNothing: a commit function may fail after
// RemoveRun (or lose the race and run again); the snapshot it read — shared
// with every reader of the handle — must stay as it was.
func TestAnAbortedRemoveRunChangesNothing(t *testing.T) {
	f := newRemoveFixture(t, objstore.NewMem())
	snap := f.r.Current()
	before := stateOf(t, snap)
	abort := errors.New("abort")
	if _, err := f.commit(func(tx *Tx) error {
		if _, err := RemoveRun(tx, "runA"); err != nil {
			return err
		}
		return abort
	}); !errors.Is(err, abort) {
		t.Fatalf("error %v, want the abort", err)
	}
	if f.r.Current().Version != snap.Version {
		t.Fatal("an aborted commit moved the version")
	}
	checkState(t, stateOf(t, snap), before)
	c, err := snap.Collection(f.ctx, "c1")
	if err != nil || !slices.Equal(c.Children, []string{"runB", "runA", "runC"}) {
		t.Fatalf("chain c1 = %v (%v), want [runB runA runC]", c.Children, err)
	}
	// And the removal still works afterwards.
	if _, err := f.commit(func(tx *Tx) error { _, err := RemoveRun(tx, "runA"); return err }); err != nil {
		t.Fatal(err)
	}
	c, err = f.r.Current().Collection(f.ctx, "c1")
	if err != nil || !slices.Equal(c.Children, []string{"runB", "runC"}) {
		t.Fatalf("chain c1 = %v (%v), want [runB runC]", c.Children, err)
	}
}
