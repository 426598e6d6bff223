package registry

import (
	"context"
	"maps"
	"slices"
)

// Snapshot is the registry state at one version: the live data files of
// every table. It is immutable; rows are read lazily (and cached by file, as
// data files never change).
type Snapshot struct {
	Version int64
	files   map[string]map[string]FileEntry // table -> path -> entry
	reg     *Registry
	idx     *snapshotIndexes // lazily built lookups of this version
}

func emptySnapshot(r *Registry) *Snapshot {
	return &Snapshot{Version: -1, files: map[string]map[string]FileEntry{}, reg: r, idx: newSnapshotIndexes()}
}

// apply returns the snapshot after commit c. Tables c does not touch are
// shared with s. A commit that removes a file that is not live, or adds one
// that is, is corrupt.
func (s *Snapshot) apply(c *Commit) (*Snapshot, error) {
	if c.Version != s.Version+1 {
		return nil, Errorf(ErrCorrupt, "commit %d follows version %d", c.Version, s.Version)
	}
	n := &Snapshot{Version: c.Version, files: maps.Clone(s.files), reg: s.reg, idx: newSnapshotIndexes()}
	for _, te := range c.Tables {
		t := maps.Clone(n.files[te.Table])
		if t == nil {
			t = map[string]FileEntry{}
		}
		for _, p := range te.Remove {
			if _, ok := t[p]; !ok {
				return nil, Errorf(ErrCorrupt, "commit %d removes %s which is not live", c.Version, p)
			}
			delete(t, p)
		}
		for _, f := range te.Add {
			if _, ok := t[f.Path]; ok {
				return nil, Errorf(ErrCorrupt, "commit %d adds %s which is already live", c.Version, f.Path)
			}
			t[f.Path] = f
		}
		n.files[te.Table] = t
	}
	return n, nil
}

// Tables lists the tables that have live files, sorted.
func (s *Snapshot) Tables() []string {
	var out []string
	for t, fs := range s.files {
		if len(fs) > 0 {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// Files lists the live files of a table, sorted by path.
func (s *Snapshot) Files(table string) []FileEntry {
	fs := s.files[table]
	out := make([]FileEntry, 0, len(fs))
	for _, f := range fs {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b FileEntry) int {
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	return out
}

// Rows returns every row of a table, file by file in path order.
func (s *Snapshot) Rows(ctx context.Context, table string) ([]Row, error) {
	return s.RowsIn(ctx, table, nil)
}

// RowsIn returns the rows of the files of a table whose partition matches
// every key of part (nil: all files). Only those files are read.
func (s *Snapshot) RowsIn(ctx context.Context, table string, part map[string]string) ([]Row, error) {
	sch, err := s.reg.Schema(table)
	if err != nil {
		return nil, err
	}
	var out []Row
	for _, f := range s.Files(table) {
		if !partitionMatches(f.Partition, part) {
			continue
		}
		rows, err := s.reg.fileRows(ctx, sch, f)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

func partitionMatches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// HasTxn reports whether an idempotency key was committed.
func (s *Snapshot) HasTxn(ctx context.Context, key string) (bool, error) {
	set, err := s.txnSet(ctx)
	if err != nil {
		return false, err
	}
	_, ok := set[key]
	return ok, nil
}

// txnSet is the set of committed idempotency keys, built once per snapshot.
func (s *Snapshot) txnSet(ctx context.Context) (map[string]int64, error) {
	si := s.idx
	si.mu.Lock()
	set := si.txn
	si.mu.Unlock()
	if set != nil {
		return set, nil
	}
	rows, err := s.Rows(ctx, TableTxn)
	if err != nil {
		return nil, err
	}
	set = make(map[string]int64, len(rows))
	for _, r := range rows {
		set[txnSchema.Str(r, "key")] = txnSchema.Int(r, "version")
	}
	si.mu.Lock()
	si.txn = set
	si.mu.Unlock()
	return set, nil
}
