package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/skybutler/skybutler/lib/objstore"
)

// fileCache keeps decoded rows of immutable data files in memory and, when a
// directory is configured, their bytes on local disk. Data files are never
// rewritten under the same path, so entries never go stale.
type fileCache struct {
	store objstore.Store
	dir   string // "" = no disk cache

	mu   sync.Mutex
	rows map[string][]Row // path -> decoded rows (schema of the table)
}

func newFileCache(store objstore.Store, dir string) *fileCache {
	if dir != "" {
		sum := sha256.Sum256([]byte(store.URI()))
		dir = filepath.Join(dir, hex.EncodeToString(sum[:8]))
	}
	return &fileCache{store: store, dir: dir, rows: map[string][]Row{}}
}

// fileRows returns the decoded rows of one data file.
func (r *Registry) fileRows(ctx context.Context, sch *Schema, f FileEntry) ([]Row, error) {
	c := r.cache
	c.mu.Lock()
	rows, ok := c.rows[f.Path]
	c.mu.Unlock()
	if ok {
		return rows, nil
	}
	data, err := c.bytes(ctx, f.Path)
	if err != nil {
		return nil, err
	}
	rows, err = decodeParquet(sch, data)
	if err != nil {
		return nil, Errorf(ErrCorrupt, "%s: %v", f.Path, err)
	}
	c.mu.Lock()
	c.rows[f.Path] = rows
	c.mu.Unlock()
	return rows, nil
}

func (c *fileCache) bytes(ctx context.Context, key string) ([]byte, error) {
	local := ""
	if c.dir != "" {
		local = filepath.Join(c.dir, filepath.FromSlash(key))
		if data, err := os.ReadFile(local); err == nil {
			return data, nil
		}
	}
	data, err := c.store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if local != "" {
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err == nil {
			tmp := local + ".tmp-" + newID()
			if os.WriteFile(tmp, data, 0o644) == nil {
				_ = os.Rename(tmp, local)
			}
		}
	}
	return data, nil
}

// keepOnly drops the cached rows of files that are not live in s.
func (c *fileCache) keepOnly(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for path := range c.rows {
		live := false
		for _, files := range s.files {
			if _, ok := files[path]; ok {
				live = true
				break
			}
		}
		if !live {
			delete(c.rows, path)
		}
	}
}
