package registry

import (
	"context"
	"testing"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
)

func defaultUniverse() *dimensions.Universe { return dimensions.Default() }

func TestMain(m *testing.M) { s3test.Main(m) }

// stores are the backends every registry behaviour is checked on.
var stores = []struct {
	name string
	new  func(t *testing.T) objstore.Store
}{
	{"mem", func(t *testing.T) objstore.Store { return objstore.NewMem() }},
	{"file", func(t *testing.T) objstore.Store {
		s, err := objstore.NewFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"s3", func(t *testing.T) objstore.Store {
		srv := s3test.Shared(t)
		return srv.Store(t, srv.NewBucket(t), "repo")
	}},
}

func newRepo(t *testing.T, store objstore.Store, opts Options) *Registry {
	t.Helper()
	r, err := Create(context.Background(), store, dimensions.Default(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func reopen(t *testing.T, store objstore.Store, opts Options) *Registry {
	t.Helper()
	r, err := Open(context.Background(), store, dimensions.Default(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// keys lists every object key of a store.
func keys(t *testing.T, s objstore.Store) map[string]string {
	t.Helper()
	all, err := objstore.ListAll(context.Background(), s, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range all {
		out[o.Key] = o.ETag
	}
	return out
}
