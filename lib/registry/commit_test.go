package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

func TestCommitsAreVisibleToANewReader(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			store := st.new(t)
			r := newRepo(t, store, Options{})
			if _, err := r.RegisterCollections(ctx, Collection{Name: "a", Type: Run}, Collection{Name: "b", Type: Tagged, Doc: "tagged"}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.SetChain(ctx, "chain", []string{"b", "a"}, ChainRedefine, ChainOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := reopen(t, store, Options{}).Current().Collections(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []Collection{{Name: "a", Type: Run}, {Name: "b", Type: Tagged, Doc: "tagged"}, {Name: "chain", Type: Chained, Children: []string{"b", "a"}}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

// TestConcurrentWritersLoseNothing: 16 writers, each with its own Registry
// handle (as separate processes would have), commit 10 collections each, one
// commit per collection; all 160 are there exactly once and the versions
// are contiguous.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			store := st.new(t)
			newRepo(t, store, Options{CheckpointInterval: 25})
			const writers, each = 16, 10
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := Open(ctx, store, defaultUniverse(), Options{CheckpointInterval: 25})
					if err != nil {
						errs <- err
						return
					}
					for i := range each {
						if _, err := r.RegisterCollections(ctx, Collection{Name: fmt.Sprintf("w%02d/c%02d", w, i), Type: Run}); err != nil {
							errs <- err
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
			r := reopen(t, store, Options{})
			cs, err := r.Current().Collections(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != writers*each {
				t.Fatalf("%d collections, want %d", len(cs), writers*each)
			}
			if v := r.Current().Version; v != writers*each {
				t.Fatalf("version %d, want %d (one commit per collection after commit 0)", v, writers*each)
			}
			checkContiguousLog(t, store, writers*each)
		})
	}
}

func checkContiguousLog(t *testing.T, store objstore.Store, last int64) {
	t.Helper()
	var versions []int64
	for k := range keys(t, store) {
		if v, ok := commitVersion(k); ok {
			versions = append(versions, v)
		}
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i) {
			t.Fatalf("commit versions not contiguous at %d: %v", i, versions)
		}
	}
	if len(versions) != int(last+1) {
		t.Fatalf("%d commits, want %d", len(versions), last+1)
	}
}

func TestConcurrentCommitsWithOneTxnKeyCommitOnce(t *testing.T) {
	ctx := context.Background()
	store := objstore.NewMem()
	newRepo(t, store, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := reopen(t, store, Options{})
			res, err := r.Commit(ctx, "test", func(tx *Tx) error {
				ok, err := tx.AddTxn("ingest:bucket/key@etag")
				if err != nil || !ok {
					return err
				}
				return RegisterCollection(tx, Collection{Name: fmt.Sprintf("c%d", i), Type: Run})
			})
			if err != nil {
				t.Error(err)
				return
			}
			if !res.NoOp {
				mu.Lock()
				committed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if committed != 1 {
		t.Fatalf("%d commits carried the txn key, want 1", committed)
	}
	cs, _ := reopen(t, store, Options{}).Current().Collections(ctx)
	if len(cs) != 1 {
		t.Fatalf("%d collections, want 1", len(cs))
	}
}

func TestAFailedCommitLeavesTheRepositoryAsItWas(t *testing.T) {
	tests := []struct {
		name string
		fn   func(tx *Tx) error
		want error
	}{
		{"a duplicate collection is refused", func(tx *Tx) error {
			return RegisterCollection(tx, Collection{Name: "a", Type: Run})
		}, ErrAlreadyExists},
		{"an edit followed by a violation writes nothing", func(tx *Tx) error {
			if err := RegisterCollection(tx, Collection{Name: "new", Type: Run}); err != nil {
				return err
			}
			_, err := UpdateChain(tx, "chain", []string{"chain2"}, ChainExtend, ChainOptions{})
			if err != nil {
				return err
			}
			_, err = UpdateChain(tx, "chain2", []string{"chain"}, ChainExtend, ChainOptions{})
			return err
		}, ErrConflict},
		{"an unknown child is refused", func(tx *Tx) error {
			_, err := UpdateChain(tx, "chain", []string{"nope"}, ChainExtend, ChainOptions{})
			return err
		}, ErrNotFound},
		{"a bad collection name is refused", func(tx *Tx) error {
			return RegisterCollection(tx, Collection{Name: "bad name", Type: Run})
		}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := objstore.NewMem()
			r := newRepo(t, store, Options{})
			if _, err := r.RegisterCollections(ctx, Collection{Name: "a", Type: Run}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.SetChain(ctx, "chain", []string{"a"}, ChainRedefine, ChainOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.SetChain(ctx, "chain2", []string{"a"}, ChainRedefine, ChainOptions{}); err != nil {
				t.Fatal(err)
			}
			before := keys(t, store)
			_, err := r.Commit(ctx, "test", tc.fn)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if after := keys(t, store); !maps.Equal(before, after) {
				t.Fatalf("objects changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestAGarbageCommitStopsReadersAndWriters(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"not JSON", "garbage\x00\xff"},
		{"wrong version", `{"version": 7, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z"}`},
		{"unknown field", `{"version": 2, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z", "surprise": 1}`},
		{"path outside its table", `{"version": 2, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z", "tables": [{"table": "collections", "add": [{"path": "registry/tables/other/x.parquet", "rows": 1, "size": 1}]}]}`},
		{"removes a file that is not live", `{"version": 2, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z", "tables": [{"table": "collections", "remove": ["registry/tables/collections/none.parquet"]}]}`},
		{"names a missing data file", `{"version": 2, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z", "tables": [{"table": "collections", "add": [{"path": "registry/tables/collections/none.parquet", "rows": 1, "size": 1}]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := objstore.NewMem()
			r := newRepo(t, store, Options{})
			if _, err := r.RegisterCollections(ctx, Collection{Name: "a", Type: Run}); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Put(ctx, commitKey(2), []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			before := keys(t, store)
			fresh, err := Open(ctx, store, defaultUniverse(), Options{})
			if err == nil {
				_, err = fresh.Current().Collections(ctx)
			}
			if err == nil {
				_, err = fresh.RegisterCollections(ctx, Collection{Name: "b", Type: Run})
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("error %v, want ErrCorrupt", err)
			}
			if _, err := r.RegisterCollections(ctx, Collection{Name: "c", Type: Run}); err == nil {
				t.Fatal("a writer committed past a garbage commit")
			}
			if after := keys(t, store); !maps.Equal(before, after) {
				t.Fatalf("objects changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestCheckpointsLetReadersSkipTheLog(t *testing.T) {
	ctx := context.Background()
	store := objstore.NewMem()
	r := newRepo(t, store, Options{CheckpointInterval: 5})
	for i := range 23 {
		if _, err := r.RegisterCollections(ctx, Collection{Name: fmt.Sprintf("c%02d", i), Type: Run}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Get(ctx, checkpointKey(20)); err != nil {
		t.Fatalf("checkpoint 20: %v", err)
	}
	// With the log before the checkpoint gone, a reader still gets it all.
	for v := range int64(21) {
		if err := store.Delete(ctx, commitKey(v)); err != nil {
			t.Fatal(err)
		}
	}
	fresh := reopen(t, store, Options{})
	if fresh.Current().Version != 23 {
		t.Fatalf("version %d, want 23", fresh.Current().Version)
	}
	cs, err := fresh.Current().Collections(ctx)
	if err != nil || len(cs) != 23 {
		t.Fatalf("%d collections (%v), want 23", len(cs), err)
	}
}

func TestARetriedCommitReusesItsDataFiles(t *testing.T) {
	ctx := context.Background()
	store := objstore.NewMem()
	r := newRepo(t, store, Options{})
	other := reopen(t, store, Options{})
	calls := 0
	_, err := r.Commit(ctx, "test", func(tx *Tx) error {
		calls++
		if calls == 1 {
			// Another writer takes the next version while we prepare ours.
			if _, err := other.RegisterCollections(ctx, Collection{Name: "theirs", Type: Run}); err != nil {
				return err
			}
		}
		return tx.Insert(TableDatasetTypes, Row{"mine", "instrument", "Bytes", false})
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("commit function ran %d times, want 2", calls)
	}
	n := 0
	for k := range keys(t, store) {
		if len(k) > len(tablesPrefix+TableDatasetTypes) && k[:len(tablesPrefix+TableDatasetTypes)] == tablesPrefix+TableDatasetTypes {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d dataset_types files, want 1 (reused across attempts)", n)
	}
}

func TestCreateRefusesAnExistingRegistry(t *testing.T) {
	store := objstore.NewMem()
	newRepo(t, store, Options{})
	if _, err := Create(context.Background(), store, defaultUniverse(), Options{}); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("error %v, want ErrAlreadyExists", err)
	}
	if _, err := Open(context.Background(), objstore.NewMem(), defaultUniverse(), Options{}); !errors.Is(err, ErrNotARepository) {
		t.Fatalf("error %v, want ErrNotARepository", err)
	}
}
