package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/skybutler/skybutler/lib/objstore"
)

// A read API over the raw commit log, for consumers that derive something
// from the history rather than from one snapshot (lib/delta publishes each
// table's Delta Lake log from it).

// Commits returns the commits with versions from..to (both inclusive), in
// version order, fetched in parallel. A version that is not in the log —
// deleted after a checkpoint, or not written yet — is an error of kind
// ErrNotFound; a commit that cannot be read as one is ErrCorrupt. Keep
// ranges moderate (a few thousand): every commit is held in memory.
func (r *Registry) Commits(ctx context.Context, from, to int64) ([]*Commit, error) {
	if to < from {
		return nil, nil
	}
	if from < 0 {
		return nil, Errorf(ErrInvalid, "commits %d..%d: negative version", from, to)
	}
	n := to - from + 1
	commits := make([]*Commit, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := commitKey(from + i)
			data, err := r.store.Get(ctx, key)
			if errors.Is(err, objstore.ErrNotFound) {
				errs[i] = Errorf(ErrNotFound, "commit %d is not in the log (%s)", from+i, key)
				return
			}
			if err != nil {
				errs[i] = fmt.Errorf("read commit %s: %w", key, err)
				return
			}
			commits[i], errs[i] = decodeCommit(key, data)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return commits, nil
}

// CheckpointSnapshot returns the snapshot stored in the newest checkpoint
// (named by registry/_log/_last_checkpoint), or nil when there is none. It
// is how a consumer of Commits starts when the commits before a checkpoint
// were deleted. The snapshot lists live files (Files, Tables); its rows can
// be read like any other snapshot's.
func (r *Registry) CheckpointSnapshot(ctx context.Context) (*Snapshot, error) {
	return r.loadCheckpoint(ctx)
}

// Schemas returns the schema of every table of the registry's universe, by
// table name. The map is a copy; the schemas are shared and must not be
// modified.
func (r *Registry) Schemas() map[string]*Schema {
	return maps.Clone(r.schemas)
}

// TablesPrefix is the key prefix under which every table keeps its files:
// TablesPrefix + TABLE + "/" is a table's directory.
const TablesPrefix = tablesPrefix
