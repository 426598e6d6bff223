package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

func TestChainModes(t *testing.T) {
	tests := []struct {
		name    string
		mode    ChainMode
		args    []string
		flatten bool
		want    []string
		err     error
	}{
		{"redefine replaces the children", ChainRedefine, []string{"c", "a"}, false, []string{"c", "a"}, nil},
		{"extend appends and moves present children to the end", ChainExtend, []string{"a", "d"}, false, []string{"b", "a", "d"}, nil},
		{"prepend inserts at the front and moves present ones", ChainPrepend, []string{"b", "d"}, false, []string{"b", "d", "a"}, nil},
		{"remove drops the named children", ChainRemove, []string{"a", "d"}, false, []string{"b"}, nil},
		{"pop without position drops the first", ChainPop, nil, false, []string{"b"}, nil},
		{"pop takes positions", ChainPop, []string{"1"}, false, []string{"a"}, nil},
		{"pop takes negative positions", ChainPop, []string{"-1"}, false, []string{"a"}, nil},
		{"pop outside the chain is refused", ChainPop, []string{"5"}, false, nil, ErrInvalid},
		{"pop of a non-number is refused", ChainPop, []string{"x"}, false, nil, ErrInvalid},
		{"an unknown child is refused", ChainExtend, []string{"zzz"}, false, nil, ErrNotFound},
		{"a repeated child is refused", ChainRedefine, []string{"a", "a"}, false, nil, ErrInvalid},
		{"the parent itself is a cycle", ChainExtend, []string{"p"}, false, nil, ErrConflict},
		{"a chain containing the parent is a cycle", ChainExtend, []string{"q"}, false, nil, ErrConflict},
		{"flatten replaces chained children by their search path", ChainRedefine, []string{"inner", "c"}, true, []string{"c", "d"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRepo(t, objstore.NewMem(), Options{})
			var cs []Collection
			for _, n := range []string{"a", "b", "c", "d"} {
				cs = append(cs, Collection{Name: n, Type: Run})
			}
			if _, err := r.RegisterCollections(ctx, cs...); err != nil {
				t.Fatal(err)
			}
			mustChain(t, r, "p", ChainRedefine, "a", "b")
			mustChain(t, r, "q", ChainRedefine, "p")
			mustChain(t, r, "inner", ChainRedefine, "c", "d")
			got, err := r.SetChain(ctx, "p", tc.args, tc.mode, ChainOptions{Flatten: tc.flatten})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Current().Collection(ctx, "p")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(c.Children, tc.want) {
				t.Fatalf("chain %v (stored %v), want %v", got, c.Children, tc.want)
			}
		})
	}
}

func mustChain(t *testing.T, r *Registry, parent string, mode ChainMode, children ...string) {
	t.Helper()
	if _, err := r.SetChain(context.Background(), parent, children, mode, ChainOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestChainsOfNonChainedCollectionsAreRefused(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t, objstore.NewMem(), Options{})
	if _, err := r.RegisterCollections(ctx, Collection{Name: "run", Type: Run}, Collection{Name: "x", Type: Run}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetChain(ctx, "run", []string{"x"}, ChainExtend, ChainOptions{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("error %v, want ErrConflict", err)
	}
	if _, err := r.SetChain(ctx, "missing", []string{"x"}, ChainRemove, ChainOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
}

func TestFlattenWalksChainsDepthFirstKeepingFirstOccurrences(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t, objstore.NewMem(), Options{})
	for _, n := range []string{"r1", "r2", "r3"} {
		if _, err := r.RegisterCollections(ctx, Collection{Name: n, Type: Run}); err != nil {
			t.Fatal(err)
		}
	}
	mustChain(t, r, "inner", ChainRedefine, "r2", "r1")
	mustChain(t, r, "outer", ChainRedefine, "r1", "inner", "r3")
	got, err := r.Current().Flatten(ctx, []string{"outer", "r3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"r1", "r2", "r3"}; !slices.Equal(got, want) {
		t.Fatalf("flatten %v, want %v", got, want)
	}
	if _, err := r.Current().Flatten(ctx, []string{"nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
}

func TestCompactionKeepsEveryRowWhileWritersContinue(t *testing.T) {
	ctx := context.Background()
	store := objstore.NewMem()
	r := newRepo(t, store, Options{})
	for i := range 30 {
		if _, err := r.RegisterCollections(ctx, Collection{Name: fmt.Sprintf("c%02d", i), Type: Run}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() {
		w := reopen(t, store, Options{})
		for i := range 20 {
			if _, err := w.RegisterCollections(ctx, Collection{Name: fmt.Sprintf("d%02d", i), Type: Run}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 5 {
		if _, _, err := reopen(t, store, Options{}).Compact(ctx, CompactOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Compact(ctx, CompactOptions{}); err != nil {
		t.Fatal(err)
	}
	snap := reopen(t, store, Options{}).Current()
	if n := len(snap.Files(TableCollections)); n != 1 {
		t.Fatalf("%d collection files after compaction, want 1", n)
	}
	cs, err := snap.Collections(ctx)
	if err != nil || len(cs) != 50 {
		t.Fatalf("%d collections (%v), want 50", len(cs), err)
	}
}

// TestTheRowCacheForgetsFilesThatAreNoLongerLive: a long-running writer
// that compacts does not keep the rows of every file it ever read.
func TestTheRowCacheForgetsFilesThatAreNoLongerLive(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t, objstore.NewMem(), Options{})
	for round := range 3 {
		for i := range 40 {
			if _, err := r.RegisterCollections(ctx, Collection{Name: fmt.Sprintf("r%d-c%02d", round, i), Type: Run}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := r.Compact(ctx, CompactOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	live := 0
	for _, tbl := range r.Current().Tables() {
		live += len(r.Current().Files(tbl))
	}
	r.cache.mu.Lock()
	cached := len(r.cache.rows)
	r.cache.mu.Unlock()
	if cached > live+64 {
		t.Fatalf("%d files' rows cached, %d live", cached, live)
	}
}
