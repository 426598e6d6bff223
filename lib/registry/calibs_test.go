package registry

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

var (
	janSpan = dimensions.Timespan{Begin: date(2026, 1, 1), End: date(2026, 2, 1)}
	febSpan = dimensions.Timespan{Begin: date(2026, 2, 1), End: date(2026, 3, 1)}
)

// calibFixture: dark A (runA, detector 1) valid in January, dark B (runB,
// detector 1) valid in February, dark C (runA, detector 2) valid forever,
// all in "calib"; calchain = [calib, runA].
func calibFixture(t *testing.T, store objstore.Store) *fixture {
	t.Helper()
	f := newFixture(t, store)
	a, b, c := f.calib("dark", "runA", 1), f.calib("dark", "runB", 1), f.calib("dark", "runA", 2)
	f.mustInsert(a, b, c)
	f.mustCertify("calib", janSpan, a)
	f.mustCertify("calib", febSpan, b)
	f.mustCertify("calib", dimensions.Timespan{}, c)
	f.mustChain("calchain", "calib", "runA")
	return f
}

func TestFindCalibrationByTime(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f := calibFixture(t, st.new(t))
			// Every lookup also runs on a fresh handle: the certifications
			// (timestamps included) survive the round trip through Parquet.
			for _, snap := range []*Snapshot{f.r.Current(), reopen(t, f.store, Options{}).Current()} {
				checkCalibLookups(t, f, snap)
			}
		})
	}
}

func checkCalibLookups(t *testing.T, f *fixture, snap *Snapshot) {
	t.Helper()
	tests := []struct {
		name        string
		detector    int
		collections []string
		when        *dimensions.Timespan
		want        string
		err         error
	}{
		{"a time in January finds dark A", 1, []string{"calib"}, at(date(2026, 1, 15)), "dark runA d1", nil},
		{"the first instant of January finds dark A", 1, []string{"calib"}, at(date(2026, 1, 1)), "dark runA d1", nil},
		{"the last second of January finds dark A", 1, []string{"calib"}, at(date(2026, 2, 1).Add(-time.Second)), "dark runA d1", nil},
		{"the first instant of February finds dark B", 1, []string{"calib"}, at(date(2026, 2, 1)), "dark runB d1", nil},
		{"a time in February finds dark B", 1, []string{"calib"}, at(date(2026, 2, 20)), "dark runB d1", nil},
		{"a time after both ranges finds nothing", 1, []string{"calib"}, at(date(2026, 3, 1)), "", nil},
		{"a time before both ranges finds nothing", 1, []string{"calib"}, at(date(2025, 12, 31)), "", nil},
		{"an unbounded certification is found at any time", 2, []string{"calib"}, at(date(1999, 1, 1)), "dark runA d2", nil},
		{"a detector without certification finds nothing", 3, []string{"calib"}, at(date(2026, 1, 15)), "", nil},
		{"a timespan overlapping both ranges is ambiguous", 1, []string{"calib"}, &dimensions.Timespan{Begin: date(2026, 1, 31), End: date(2026, 2, 2)}, "", ErrConflict},
		{"no time with two certifications is ambiguous", 1, []string{"calib"}, nil, "", ErrConflict},
		{"no time with one certification finds it", 2, []string{"calib"}, nil, "dark runA d2", nil},
		{"a chain finds the certified dataset first", 1, []string{"calchain"}, at(date(2026, 2, 20)), "dark runB d1", nil},
		{"a chain falls back to the run outside every range", 1, []string{"calchain"}, at(date(2026, 6, 1)), "dark runA d1", nil},
		{"the run alone ignores the time", 1, []string{"runB"}, at(date(2030, 1, 1)), "dark runB d1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, ok, err := snap.FindDataset(f.ctx, "dark", map[string]any{"instrument": inst, "detector": tc.detector}, tc.collections, tc.when)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if ok {
				got = label(ref)
			}
			if got != tc.want {
				t.Fatalf("found %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQueryCalibrations(t *testing.T) {
	f := calibFixture(t, objstore.NewMem())
	tests := []struct {
		name      string
		when      *dimensions.Timespan
		findFirst bool
		want      []string
		err       error
	}{
		{"every certification without a time", nil, false, []string{"dark runA d1", "dark runA d2", "dark runB d1"}, nil},
		{"certifications overlapping a time", at(date(2026, 2, 3)), false, []string{"dark runA d2", "dark runB d1"}, nil},
		{"find-first at a time", at(date(2026, 1, 3)), true, []string{"dark runA d1", "dark runA d2"}, nil},
		{"find-first without a time is ambiguous", nil, true, nil, ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.r.Current().QueryDatasets(f.ctx, DatasetQuery{DatasetTypes: []string{"dark"}, Collections: []string{"calib"}, Timespan: tc.when, FindFirst: tc.findFirst})
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if s := sortedLabels(got); err == nil && !slices.Equal(s, tc.want) {
				t.Fatalf("got %q, want %q", s, tc.want)
			}
		})
	}
}

func TestCertify(t *testing.T) {
	utc := func(ts dimensions.Timespan, loc *time.Location) dimensions.Timespan {
		return dimensions.Timespan{Begin: ts.Begin.In(loc), End: ts.End.In(loc)}
	}
	now := time.Now() // carries a monotonic clock reading and nanoseconds
	certify := func(coll string, span dimensions.Timespan, refs ...func(f *fixture) DatasetRef) func(f *fixture, tx *Tx) (int, error) {
		return func(f *fixture, tx *Tx) (int, error) {
			var rs []DatasetRef
			for _, r := range refs {
				rs = append(rs, r(f))
			}
			return Certify(tx, coll, rs, span)
		}
	}
	darkA := func(f *fixture) DatasetRef { return f.calib("dark", "runA", 1) }
	darkB := func(f *fixture) DatasetRef { return f.calib("dark", "runB", 1) }
	darkA2 := func(f *fixture) DatasetRef { return f.calib("dark", "runA", 2) }
	biasA := func(f *fixture) DatasetRef { return f.calib("bias", "runA", 1) }
	rawA := func(f *fixture) DatasetRef { return f.raw("runA", 1, 1) }
	tests := []struct {
		name  string
		pre   []dimensions.Timespan // certifications of dark A before the call
		act   func(f *fixture, tx *Tx) (int, error)
		want  error
		n     int // certifications added
		total int // calibs rows afterwards
	}{
		{name: "a first certification is added", act: certify("calib", janSpan, darkA), n: 1, total: 1},
		{name: "a range touching an existing one is accepted",
			pre: []dimensions.Timespan{janSpan}, act: certify("calib", febSpan, darkB), n: 1, total: 2},
		{name: "an overlapping range of another dataset with the same data ID is a conflict",
			pre:  []dimensions.Timespan{janSpan},
			act:  certify("calib", dimensions.Timespan{Begin: date(2026, 1, 15), End: date(2026, 2, 15)}, darkB),
			want: ErrConflict, total: 1},
		{name: "a range containing an existing one is a conflict",
			pre:  []dimensions.Timespan{janSpan},
			act:  certify("calib", dimensions.Timespan{Begin: date(2025, 12, 1), End: date(2026, 3, 1)}, darkB),
			want: ErrConflict, total: 1},
		{name: "an unbounded range reaching into an existing one is a conflict",
			pre:  []dimensions.Timespan{janSpan},
			act:  certify("calib", dimensions.Timespan{End: date(2026, 1, 2)}, darkB),
			want: ErrConflict, total: 1},
		{name: "an overlapping range of the same dataset is a conflict",
			pre:  []dimensions.Timespan{janSpan},
			act:  certify("calib", dimensions.Timespan{Begin: date(2026, 1, 15), End: date(2026, 3, 1)}, darkA),
			want: ErrConflict, total: 1},
		{name: "the same dataset and range again is a no-op",
			pre: []dimensions.Timespan{janSpan}, act: certify("calib", janSpan, darkA), n: 0, total: 1},
		{name: "the same dataset and range in another time zone is a no-op",
			pre: []dimensions.Timespan{janSpan}, act: certify("calib", utc(janSpan, time.FixedZone("HST", -10*3600)), darkA), n: 0, total: 1},
		{name: "the same dataset and a range starting now is a no-op",
			pre: []dimensions.Timespan{{Begin: now}}, act: certify("calib", dimensions.Timespan{Begin: now}, darkA), n: 0, total: 1},
		{name: "the same range for another detector is accepted",
			pre: []dimensions.Timespan{janSpan}, act: certify("calib", janSpan, darkA2), n: 1, total: 2},
		{name: "the same range of another dataset type is accepted",
			pre: []dimensions.Timespan{janSpan}, act: certify("calib", janSpan, biasA), n: 1, total: 2},
		{name: "the same range in another CALIBRATION collection is accepted",
			pre: []dimensions.Timespan{janSpan}, act: certify("calib2", janSpan, darkB), n: 1, total: 2},
		{name: "two overlapping certifications of one data ID in one call are a conflict",
			act: certify("calib", janSpan, darkA, darkB), want: ErrConflict},
		{name: "two overlapping certifications of one data ID in two calls of one Tx are a conflict",
			act: func(f *fixture, tx *Tx) (int, error) {
				if _, err := Certify(tx, "calib", []DatasetRef{darkA(f)}, janSpan); err != nil {
					return 0, err
				}
				return Certify(tx, "calib", []DatasetRef{darkB(f)}, janSpan)
			}, want: ErrConflict},
		{name: "the same certification in two calls of one Tx is added once",
			act: func(f *fixture, tx *Tx) (int, error) {
				if _, err := Certify(tx, "calib", []DatasetRef{darkA(f)}, janSpan); err != nil {
					return 0, err
				}
				return Certify(tx, "calib", []DatasetRef{darkA(f)}, janSpan)
			}, n: 0, total: 1},
		{name: "a dataset of a non-calibration type is a conflict", act: certify("calib", janSpan, rawA), want: ErrConflict},
		{name: "certifying into a RUN is a conflict", act: certify("runA", janSpan, darkA), want: ErrConflict},
		{name: "certifying into a TAGGED collection is a conflict", act: certify("tagged", janSpan, darkA), want: ErrConflict},
		{name: "certifying into a CHAINED collection is a conflict", act: certify("calchain", janSpan, darkA), want: ErrConflict},
		{name: "an unknown collection is not found", act: certify("nope", janSpan, darkA), want: ErrNotFound},
		{name: "an unknown dataset is not found",
			act: certify("calib", janSpan, func(f *fixture) DatasetRef { return f.calib("dark", "runA", 6) }), want: ErrNotFound},
		{name: "an empty range is invalid",
			act: certify("calib", dimensions.Timespan{Begin: date(2026, 2, 1), End: date(2026, 1, 1)}, darkA), want: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, objstore.NewMem())
			if _, err := f.r.RegisterCollections(f.ctx, Collection{Name: "calib2", Type: Calibration}); err != nil {
				t.Fatal(err)
			}
			f.mustChain("calchain", "calib")
			f.mustInsert(darkA(f), darkB(f), darkA2(f), biasA(f), rawA(f))
			for _, span := range tc.pre {
				f.mustCertify("calib", span, darkA(f))
			}
			var n int
			res, err := f.commit(func(tx *Tx) error {
				var err error
				n, err = tc.act(f, tx)
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && n != tc.n {
				t.Fatalf("%d certified, want %d", n, tc.n)
			}
			if err == nil && tc.total == len(tc.pre) && !res.NoOp {
				t.Fatalf("result %+v, want a no-op", res)
			}
			if rows := tableRows(t, f.r.Current(), TableCalibs); len(rows) != tc.total {
				t.Fatalf("calibs rows %q, want %d", rows, tc.total)
			}
		})
	}
}

func TestCertificationRowsAreAthenaFriendly(t *testing.T) {
	f := calibFixture(t, objstore.NewMem())
	rows, err := reopen(t, f.store, Options{}).Current().Rows(f.ctx, TableCalibs)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Row{}
	for _, r := range rows {
		byID[calibsSchema.Str(r, "dataset_id")] = r
	}
	a, c := byID[f.calib("dark", "runA", 1).ID], byID[f.calib("dark", "runA", 2).ID]
	if a == nil || c == nil || len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	if b, _ := calibsSchema.Get(a, "valid_begin").(time.Time); !b.Equal(janSpan.Begin) || calibsSchema.Str(a, "collection") != "calib" || calibsSchema.Str(a, "dataset_type") != "dark" {
		t.Fatalf("dark A row %v", a)
	}
	if calibsSchema.Get(c, "valid_begin") != nil || calibsSchema.Get(c, "valid_end") != nil {
		t.Fatalf("unbounded row %v, want null bounds", c)
	}
}

// TestConcurrentConflictingEditsCommitOnce: writers with their own handles
// race to certify (or tag) different datasets of one data ID; the
// constraint is checked against the state each commit lands on, so exactly
// one wins and the others see ErrConflict.
func TestConcurrentConflictingEditsCommitOnce(t *testing.T) {
	const writers = 6
	edits := []struct {
		name string
		coll string
		edit func(tx *Tx, ref DatasetRef) error
		rows string
	}{
		{"certifying overlapping ranges", "calib", func(tx *Tx, ref DatasetRef) error {
			_, err := Certify(tx, "calib", []DatasetRef{ref}, janSpan)
			return err
		}, TableCalibs},
		{"tagging one data ID", "tagged", func(tx *Tx, ref DatasetRef) error {
			_, err := Associate(tx, "tagged", []DatasetRef{ref})
			return err
		}, TableTags},
	}
	for _, st := range stores {
		for _, ed := range edits {
			t.Run(st.name+"/"+ed.name, func(t *testing.T) {
				f := newFixture(t, st.new(t))
				var refs []DatasetRef
				for i := range writers {
					run := fmt.Sprintf("r%d", i)
					if _, err := f.r.RegisterCollections(f.ctx, Collection{Name: run, Type: Run}); err != nil {
						t.Fatal(err)
					}
					refs = append(refs, f.calib("dark", run, 1))
				}
				f.mustInsert(refs...)
				var wg sync.WaitGroup
				errs := make([]error, writers)
				for i := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := Open(f.ctx, f.store, defaultUniverse(), Options{})
						if err != nil {
							errs[i] = err
							return
						}
						_, errs[i] = r.Commit(f.ctx, "test", func(tx *Tx) error { return ed.edit(tx, refs[i]) })
					}()
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, ErrConflict):
						t.Fatalf("error %v, want ErrConflict or success", err)
					}
				}
				if ok != 1 {
					t.Fatalf("%d writers succeeded, want 1", ok)
				}
				if rows := tableRows(t, reopen(t, f.store, Options{}).Current(), ed.rows); len(rows) != 1 {
					t.Fatalf("%s rows %q, want 1", ed.rows, rows)
				}
			})
		}
	}
}
