package objstore_test

import (
	"path/filepath"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/objstoretest"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
)

func TestMain(m *testing.M) {
	runChild()
	s3test.Main(m)
}

func TestMemStore(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store { return objstore.NewMem() })
}

func newFileStore(t *testing.T) objstore.Store {
	t.Helper()
	s, err := objstore.NewFile(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileStore(t *testing.T) {
	objstoretest.Run(t, newFileStore)
}

func TestS3Store(t *testing.T) {
	srv := s3test.Shared(t)
	t.Run("under a prefix", func(t *testing.T) {
		objstoretest.Run(t, func(t *testing.T) objstore.Store {
			return srv.Store(t, srv.NewBucket(t), "repo/prefix")
		})
	})
	t.Run("at the bucket root", func(t *testing.T) {
		objstoretest.Run(t, func(t *testing.T) objstore.Store {
			return srv.Store(t, srv.NewBucket(t), "")
		})
	})
}
