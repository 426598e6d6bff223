package objstoretest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

// Increment adds one to the decimal counter at key with Stat, Get and
// PutIfMatch, retrying when another writer got there first. Stat comes before
// Get: if the object changes in between, the ETag is stale and PutIfMatch
// fails, so no update is lost. It returns the value it wrote.
func Increment(t testing.TB, s objstore.Store, key string) int {
	t.Helper()
	for {
		info, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Errorf("Stat(%s): %v", key, err)
			return -1
		}
		data, err := s.Get(t.Context(), key)
		if err != nil {
			t.Errorf("Get(%s): %v", key, err)
			return -1
		}
		n, err := strconv.Atoi(string(data))
		if err != nil {
			t.Errorf("counter %s holds %q", key, data)
			return -1
		}
		_, err = s.PutIfMatch(t.Context(), key, []byte(strconv.Itoa(n+1)), info.ETag)
		if err == nil {
			return n + 1
		}
		if !errors.Is(err, objstore.ErrPreconditionFailed) {
			t.Errorf("PutIfMatch(%s): %v", key, err)
			return -1
		}
	}
}

var concurrencyTests = []test{
	{"Of 32 concurrent PutIfAbsent calls on one key exactly one wins", func(t *testing.T, s objstore.Store) {
		const writers = 32
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []int
		for i := range writers {
			wg.Go(func() {
				_, err := s.PutIfAbsent(t.Context(), "race/key", []byte(fmt.Sprintf("writer %d", i)))
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, i)
					mu.Unlock()
				case !errors.Is(err, objstore.ErrPreconditionFailed):
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("winners %v, want exactly one", winners)
		}
		wantContent(t, s, "race/key", []byte(fmt.Sprintf("writer %d", winners[0])))
	}},
	{"Concurrent PutIfMatch increments lose no update", func(t *testing.T, s objstore.Store) {
		const workers, increments = 8, 10
		put(t, s, "counter", []byte("0"))
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range increments {
					if Increment(t, s, "counter") < 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		wantContent(t, s, "counter", []byte(strconv.Itoa(workers*increments)))
	}},
	{"Concurrent Puts and Deletes under one prefix do not fail", func(t *testing.T, s objstore.Store) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					key := fmt.Sprintf("churn/dir/w%d-%d", w, i%2)
					if _, err := s.Put(t.Context(), key, []byte("x")); err != nil {
						t.Errorf("Put(%s): %v", key, err)
						return
					}
					if err := s.Delete(t.Context(), key); err != nil {
						t.Errorf("Delete(%s): %v", key, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if list, err := s.List(t.Context(), "churn/", "", 0); err != nil || len(list) != 0 {
			t.Fatalf("List(churn/) = %q, %v, want nothing", keysOf(list), err)
		}
	}},
}
