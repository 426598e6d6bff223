package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/skybutler/skybutler/lib/objstore"
)

// checkpoint is the full live state at one version: every live file of every
// table. Readers start from the newest checkpoint named by _last_checkpoint
// and replay only the commits after it.
type checkpoint struct {
	Version int64                  `json:"version"`
	Tables  map[string][]FileEntry `json:"tables"`
}

type lastCheckpoint struct {
	Version int64  `json:"version"`
	Path    string `json:"path"`
}

func checkpointKey(v int64) string {
	return fmt.Sprintf("%s%020d.checkpoint.json.zst", logPrefix, v)
}

// loadCheckpoint returns the snapshot of the newest checkpoint, or nil when
// there is none.
func (r *Registry) loadCheckpoint(ctx context.Context) (*Snapshot, error) {
	data, err := r.store.Get(ctx, lastCheckpointKey)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", lastCheckpointKey, err)
	}
	var lc lastCheckpoint
	if err := json.Unmarshal(data, &lc); err != nil || lc.Path != checkpointKey(lc.Version) {
		return nil, Errorf(ErrCorrupt, "%s: unreadable", lastCheckpointKey)
	}
	raw, err := r.store.Get(ctx, lc.Path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", lc.Path, err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	plain, err := dec.DecodeAll(raw, nil)
	if err != nil {
		return nil, Errorf(ErrCorrupt, "checkpoint %s: %v", lc.Path, err)
	}
	var cp checkpoint
	if err := json.NewDecoder(bytes.NewReader(plain)).Decode(&cp); err != nil || cp.Version != lc.Version {
		return nil, Errorf(ErrCorrupt, "checkpoint %s: unreadable", lc.Path)
	}
	s := emptySnapshot(r)
	s.Version = cp.Version
	for t, fs := range cp.Tables {
		m := make(map[string]FileEntry, len(fs))
		for _, f := range fs {
			m[f.Path] = f
		}
		s.files[t] = m
	}
	return s, nil
}

// maybeCheckpoint writes a checkpoint of s when its version is due. A failed
// checkpoint costs only replay time, so errors are logged, not returned.
func (r *Registry) maybeCheckpoint(ctx context.Context, s *Snapshot) {
	if r.opts.CheckpointInterval <= 0 || s.Version == 0 || s.Version%r.opts.CheckpointInterval != 0 {
		return
	}
	if err := r.WriteCheckpoint(ctx, s); err != nil {
		r.log.Warn("checkpoint failed", "version", s.Version, "err", err)
	}
}

// WriteCheckpoint writes the checkpoint of s and advances _last_checkpoint
// to it unless it already names a newer one.
func (r *Registry) WriteCheckpoint(ctx context.Context, s *Snapshot) error {
	cp := checkpoint{Version: s.Version, Tables: map[string][]FileEntry{}}
	for _, t := range s.Tables() {
		cp.Tables[t] = s.Files(t)
	}
	plain, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		return err
	}
	data := enc.EncodeAll(plain, nil)
	enc.Close()
	key := checkpointKey(s.Version)
	if _, err := r.store.Put(ctx, key, data); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", key, err)
	}
	hint, _ := json.Marshal(lastCheckpoint{Version: s.Version, Path: key})
	for range 10 {
		info, err := r.store.Stat(ctx, lastCheckpointKey)
		switch {
		case errors.Is(err, objstore.ErrNotFound):
			_, err = r.store.PutIfAbsent(ctx, lastCheckpointKey, hint)
		case err != nil:
			return fmt.Errorf("stat %s: %w", lastCheckpointKey, err)
		default:
			cur, gerr := r.store.Get(ctx, lastCheckpointKey)
			var lc lastCheckpoint
			if gerr == nil && json.Unmarshal(cur, &lc) == nil && lc.Version >= s.Version {
				return nil
			}
			_, err = r.store.PutIfMatch(ctx, lastCheckpointKey, hint, info.ETag)
		}
		if err == nil {
			r.log.Debug("checkpoint written", "version", s.Version, "key", key)
			return nil
		}
		if !errors.Is(err, objstore.ErrPreconditionFailed) && !errors.Is(err, objstore.ErrNotFound) {
			return fmt.Errorf("write %s: %w", lastCheckpointKey, err)
		}
	}
	return Errorf(ErrTooManyAttempts, "write %s", lastCheckpointKey)
}
