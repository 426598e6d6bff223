package registry

import (
	"errors"
	"slices"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/query"
)

// findFixture: runA holds raw e1 d1..d4, e2 d1..d4 and e3 d1..d4; runB holds
// raw e1 d1, e1 d2 and e2 d5; "tagged" holds runA's e1 d3 and runB's e2 d5;
// chain = [runB, runA]; tchain = [tagged, runB]; outer = [chain, tagged]
// (nested).
func findFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, objstore.NewMem())
	var refs []DatasetRef
	for e := 1; e <= 3; e++ {
		for d := 1; d <= 4; d++ {
			refs = append(refs, f.raw("runA", e, d))
		}
	}
	refs = append(refs, f.raw("runB", 1, 1), f.raw("runB", 1, 2), f.raw("runB", 2, 5))
	f.mustInsert(refs...)
	f.mustAssociate("tagged", f.raw("runA", 1, 3), f.raw("runB", 2, 5))
	f.mustChain("chain", "runB", "runA")
	f.mustChain("tchain", "tagged", "runB")
	f.mustChain("outer", "chain", "tagged")
	return f
}

func TestFindDatasetFindFirst(t *testing.T) {
	f := findFixture(t)
	tests := []struct {
		name        string
		collections []string
		exposure    any
		detector    any
		want        string // label of the found ref, "" for none
		err         error
	}{
		{name: "a chain finds the first run's dataset when both runs have it", collections: []string{"chain"}, exposure: 1, detector: 1, want: "raw runB e1 d1"},
		{name: "a chain finds the second run's dataset when only it has one", collections: []string{"chain"}, exposure: 1, detector: 3, want: "raw runA e1 d3"},
		{name: "a chain finds a dataset only the first run has", collections: []string{"chain"}, exposure: 2, detector: 5, want: "raw runB e2 d5"},
		{name: "a chain without the dataset finds nothing", collections: []string{"chain"}, exposure: 3, detector: 6},
		{name: "the order of an explicit search path counts", collections: []string{"runA", "runB"}, exposure: 1, detector: 1, want: "raw runA e1 d1"},
		{name: "a single run finds its own dataset", collections: []string{"runA"}, exposure: 2, detector: 2, want: "raw runA e2 d2"},
		{name: "a single run does not see another run's dataset", collections: []string{"runB"}, exposure: 2, detector: 2},
		{name: "a nested chain is flattened", collections: []string{"outer"}, exposure: 1, detector: 2, want: "raw runB e1 d2"},
		{name: "a TAGGED collection first in a chain wins", collections: []string{"tchain"}, exposure: 1, detector: 3, want: "raw runA e1 d3"},
		{name: "a TAGGED collection without the data ID is skipped", collections: []string{"tchain"}, exposure: 1, detector: 1, want: "raw runB e1 d1"},
		{name: "a TAGGED collection alone finds what it holds", collections: []string{"tagged"}, exposure: 2, detector: 5, want: "raw runB e2 d5"},
		{name: "a TAGGED collection does not see the rest of a run", collections: []string{"tagged"}, exposure: 1, detector: 4},
		{name: "data ID values are coerced", collections: []string{"chain"}, exposure: "1", detector: 1.0, want: "raw runB e1 d1"},
		{name: "an unknown collection is not found", collections: []string{"chain", "nope"}, exposure: 1, detector: 1, err: ErrNotFound},
		{name: "a data ID without its detector is invalid", collections: []string{"chain"}, exposure: 1, err: ErrInvalid},
		{name: "a data ID with a bad value is invalid", collections: []string{"chain"}, exposure: 1, detector: "one", err: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := map[string]any{"instrument": inst, "exposure": tc.exposure}
			if tc.detector != nil {
				id["detector"] = tc.detector
			}
			ref, ok, err := f.r.Current().FindDataset(f.ctx, "raw", id, tc.collections, nil)
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
			if ok && (ref.DataID["band"] == nil || ref.DataID["day_obs"] == nil) {
				t.Fatalf("found ref %v lacks its implied values", ref.DataID)
			}
		})
	}
	if _, _, err := f.r.Current().FindDataset(f.ctx, "nope", map[string]any{"instrument": inst}, []string{"runA"}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown dataset type: %v, want ErrNotFound", err)
	}
}

func TestQueryDatasets(t *testing.T) {
	f := findFixture(t)
	f.mustInsert(f.calib("bias", "runA", 1), f.calib("bias", "runA", 2), f.calib("bias", "runB", 2), f.ref("summary", "runA", nil))
	raws := func(run string, ids ...[2]int) []string {
		var out []string
		for _, id := range ids {
			out = append(out, label(f.raw(run, id[0], id[1])))
		}
		return out
	}
	all := func(es []int, ds []int) [][2]int {
		var out [][2]int
		for _, e := range es {
			for _, d := range ds {
				out = append(out, [2]int{e, d})
			}
		}
		return out
	}
	cat := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name        string
		types       []string
		collections []string
		where       string
		findFirst   bool
		want        []string
		err         error
	}{
		{name: "a type in one run",
			types: []string{"raw"}, collections: []string{"runB"},
			want: cat(raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}))},
		{name: "a chain without find-first returns every run's datasets",
			types: []string{"raw"}, collections: []string{"chain"},
			want: cat(raws("runA", all([]int{1, 2, 3}, []int{1, 2, 3, 4})...), raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}))},
		{name: "find-first keeps the first run's dataset per data ID",
			types: []string{"raw"}, collections: []string{"chain"}, findFirst: true,
			want: cat(raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}),
				raws("runA", [2]int{1, 3}, [2]int{1, 4}), raws("runA", all([]int{2, 3}, []int{1, 2, 3, 4})...))},
		{name: "find-first follows the order of the search path",
			types: []string{"raw"}, collections: []string{"runA", "runB"}, findFirst: true,
			want: cat(raws("runA", all([]int{1, 2, 3}, []int{1, 2, 3, 4})...), raws("runB", [2]int{2, 5}))},
		{name: "a TAGGED collection holds only what was associated",
			types: []string{"raw"}, collections: []string{"tagged"},
			want: cat(raws("runA", [2]int{1, 3}), raws("runB", [2]int{2, 5}))},
		{name: "find-first through a TAGGED collection and a run",
			types: []string{"raw"}, collections: []string{"tchain"}, findFirst: true,
			want: cat(raws("runA", [2]int{1, 3}), raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}))},
		{name: "a dataset in several collections of the search path is listed once",
			types: []string{"raw"}, collections: []string{"tagged", "runB", "runA"}, where: "exposure = 1 OR detector = 5",
			want: cat(raws("runA", all([]int{1}, []int{1, 2, 3, 4})...), raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}))},
		{name: "a type given twice is queried once",
			types: []string{"raw", "raw"}, collections: []string{"runB"},
			want: cat(raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}))},
		{name: "a detector range",
			types: []string{"raw"}, collections: []string{"runA"}, where: "detector IN (1..3)",
			want: cat(raws("runA", all([]int{1, 2, 3}, []int{1, 2, 3})...))},
		{name: "a record field of the exposure",
			types: []string{"raw"}, collections: []string{"runA"}, where: "exposure.observation_type = 'science'",
			want: cat(raws("runA", all([]int{1, 2}, []int{1, 2, 3, 4})...))},
		{name: "an implied dimension",
			types: []string{"raw"}, collections: []string{"runA"}, where: "band = 'spx1' AND detector > 3",
			want: cat(raws("runA", [2]int{1, 4}, [2]int{3, 4}))},
		{name: "a record field of a dimension the exposure implies",
			types: []string{"raw"}, collections: []string{"runA"}, where: "day_obs.id = 20260215 AND detector.full_name = 'SPHEREx-D2'",
			want: cat(raws("runA", [2]int{3, 2}))},
		{name: "a where clause with find-first over a chain",
			types: []string{"raw"}, collections: []string{"chain"}, findFirst: true, where: "exposure.observation_type = 'science' AND detector IN (1..3)",
			want: cat(raws("runB", [2]int{1, 1}, [2]int{1, 2}), raws("runA", [2]int{1, 3}), raws("runA", all([]int{2}, []int{1, 2, 3})...))},
		{name: "a where clause nothing matches",
			types: []string{"raw"}, collections: []string{"chain"}, where: "exposure = 42"},
		{name: "every type when none is given",
			collections: []string{"runB"},
			want:        cat(raws("runB", [2]int{1, 1}, [2]int{1, 2}, [2]int{2, 5}), []string{"bias runB d2"})},
		{name: "every collection when none is given",
			types: []string{"bias"},
			want:  []string{"bias runA d1", "bias runA d2", "bias runB d2"}},
		{name: "types lacking a dimension of the where clause are left out when no type is given",
			collections: []string{"runA"}, where: "detector = 2",
			want: cat(raws("runA", all([]int{1, 2, 3}, []int{2})...), []string{"bias runA d2"})},
		{name: "a type lacking a dimension of the where clause is an error when given",
			types: []string{"bias"}, collections: []string{"runA"}, where: "exposure.observation_type = 'science'", err: ErrInvalid},
		{name: "an unknown dimension is an error when a type is given",
			types: []string{"raw"}, collections: []string{"runA"}, where: "detectr = 1", err: ErrInvalid},
		{name: "an unknown dimension is an error when no type is given",
			collections: []string{"runA"}, where: "detectr = 1", err: ErrInvalid},
		{name: "an unknown field is an error when no type is given",
			collections: []string{"runA"}, where: "exposure.observation_typ = 'science'", err: ErrInvalid},
		{name: "an unknown field is an error when a type is given",
			types: []string{"raw"}, collections: []string{"runA"}, where: "exposure.observation_typ = 'science'", err: ErrInvalid},
		{name: "a comparison of incompatible types is an error",
			types: []string{"raw"}, collections: []string{"runA"}, where: "detector = 'one'", err: ErrInvalid},
		{name: "an unknown type is not found",
			types: []string{"rawx"}, collections: []string{"runA"}, err: ErrNotFound},
		{name: "an unknown collection is not found",
			types: []string{"raw"}, collections: []string{"nope"}, err: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			where, err := query.Parse(tc.where, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.r.Current().QueryDatasets(f.ctx, DatasetQuery{DatasetTypes: tc.types, Collections: tc.collections, Where: where, FindFirst: tc.findFirst})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.types == nil && tc.where == "" {
				// summary has no detector: it is part of "every type" too.
				got = slices.DeleteFunc(got, func(r DatasetRef) bool { return r.DatasetType == "summary" })
			}
			if s := sortedLabels(got); !slices.Equal(s, tc.want) {
				t.Fatalf("got %q\nwant %q", s, tc.want)
			}
		})
	}
}

func TestQueryDatasetsOrdersByTypeThenSearchPath(t *testing.T) {
	f := findFixture(t)
	f.mustInsert(f.calib("bias", "runB", 1), f.calib("bias", "runA", 1))
	got, err := f.r.Current().QueryDatasets(f.ctx, DatasetQuery{Collections: []string{"chain"}, Where: query.MustParse("detector = 1 AND instrument = 'SPHEREx'")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bias runB d1", "bias runA d1", "raw runB e1 d1", "raw runA e1 d1", "raw runA e2 d1", "raw runA e3 d1"}
	if l := labels(got); !slices.Equal(l, want) {
		t.Fatalf("got %q, want %q", l, want)
	}
}

func TestFindDatasetSeesTheSnapshotItIsAskedOf(t *testing.T) {
	f := findFixture(t)
	old := f.r.Current()
	f.mustInsert(f.raw("runB", 3, 3))
	id := map[string]any{"instrument": inst, "exposure": 3, "detector": 3}
	if ref, ok, err := old.FindDataset(f.ctx, "raw", id, []string{"chain"}, nil); err != nil || !ok || ref.Run != "runA" {
		t.Fatalf("old snapshot: %v %v %v, want runA's", ref, ok, err)
	}
	if ref, ok, err := f.r.Current().FindDataset(f.ctx, "raw", id, []string{"chain"}, nil); err != nil || !ok || ref.Run != "runB" {
		t.Fatalf("new snapshot: %v %v %v, want runB's", ref, ok, err)
	}
}
