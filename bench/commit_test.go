package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
	"github.com/skybutler/skybutler/lib/registry"
)

func TestMain(m *testing.M) { s3test.Main(m) }

func benchStores() []struct {
	name string
	new  func(b *testing.B) objstore.Store
} {
	return []struct {
		name string
		new  func(b *testing.B) objstore.Store
	}{
		{"file", func(b *testing.B) objstore.Store {
			s, err := objstore.NewFile(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"versitygw", func(b *testing.B) objstore.Store {
			srv := s3test.Shared(b)
			return srv.Store(b, srv.NewBucket(b), "bench")
		}},
	}
}

// BenchmarkCommit measures registry commit throughput: each commit registers
// one collection, from 1 writer or from 16 concurrent writers each with its
// own registry handle (as separate Lambda invocations would have).
func BenchmarkCommit(b *testing.B) {
	for _, st := range benchStores() {
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/writers=%d", st.name, writers), func(b *testing.B) {
				ctx := context.Background()
				store := st.new(b)
				u := dimensions.Default()
				if _, err := registry.Create(ctx, store, u, registry.Options{}); err != nil {
					b.Fatal(err)
				}
				regs := make([]*registry.Registry, writers)
				for i := range regs {
					r, err := registry.Open(ctx, store, u, registry.Options{})
					if err != nil {
						b.Fatal(err)
					}
					regs[i] = r
				}
				var next atomic.Int64
				var attempts atomic.Int64
				b.ResetTimer()
				var wg sync.WaitGroup
				for _, r := range regs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							res, err := r.RegisterCollections(ctx, registry.Collection{Name: fmt.Sprintf("c%08d", i), Type: registry.Run})
							if err != nil {
								b.Error(err)
								return
							}
							attempts.Add(int64(res.Attempts))
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
				b.ReportMetric(float64(attempts.Load())/float64(b.N), "attempts/commit")
			})
		}
	}
}
