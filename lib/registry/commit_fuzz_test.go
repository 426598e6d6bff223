package registry

import (
	"errors"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

// FuzzDecodeCommit: any bytes in a commit object either decode to a commit
// that applies cleanly or fail with ErrCorrupt; never a panic.
func FuzzDecodeCommit(f *testing.F) {
	f.Add([]byte(`{"version": 1, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version": 1, "id": "x", "operation": "o", "timestamp": "2026-01-01T00:00:00Z", "txn": ["k"], "tables": [{"table": "collections", "add": [{"path": "registry/tables/collections/p.parquet", "rows": 1, "size": 10}]}]}`))
	f.Add([]byte(`{"version": 1, "tables": [{"table": "collections", "remove": ["registry/tables/collections/x"]}]}`))
	f.Add([]byte("\x00garbage"))
	r := newRegistry(objstore.NewMem(), defaultUniverse(), Options{})
	base := emptySnapshot(r)
	base.Version = 0
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommit(commitKey(1), data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if _, err := base.apply(c); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("apply error %v is not ErrCorrupt", err)
		}
	})
}
