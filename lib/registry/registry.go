package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
)

// Options tune a Registry. The zero value is usable.
type Options struct {
	// CheckpointInterval: a checkpoint is written at every version divisible
	// by it (default 100; negative disables checkpoints).
	CheckpointInterval int64
	// MaxAttempts bounds the optimistic commit loop (default 500).
	MaxAttempts int
	// CacheDir, when set, keeps local copies of the immutable data files read
	// from the store (worth it for remote stores).
	CacheDir string
	// Logger receives commit and retry events (default slog.Default()).
	Logger *slog.Logger
}

// Registry is a handle on the registry of one repository. It keeps the newest
// snapshot it has seen; every read method works on an explicit Snapshot, and
// every write goes through Commit. Safe for concurrent use.
type Registry struct {
	store    objstore.Store
	universe *dimensions.Universe
	schemas  map[string]*Schema
	opts     Options
	log      *slog.Logger
	cache    *fileCache

	mu   sync.Mutex
	snap *Snapshot
}

// Open opens the registry of a repository and loads its newest snapshot.
// A root without commit 0 is ErrNotARepository.
func Open(ctx context.Context, store objstore.Store, u *dimensions.Universe, opts Options) (*Registry, error) {
	r := newRegistry(store, u, opts)
	s, err := r.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	if s.Version < 0 {
		return nil, Errorf(ErrNotARepository, "open registry at %s", store.URI())
	}
	return r, nil
}

// Create writes commit 0 of a new registry. It fails with ErrAlreadyExists
// when the root already has one.
func Create(ctx context.Context, store objstore.Store, u *dimensions.Universe, opts Options) (*Registry, error) {
	r := newRegistry(store, u, opts)
	c := &Commit{Version: 0, ID: newID(), Time: now(), Operation: "create",
		Summary: map[string]any{"universe": u.Namespace, "universe_version": u.Version}}
	data, err := encodeCommit(c)
	if err != nil {
		return nil, err
	}
	if _, err := store.PutIfAbsent(ctx, commitKey(0), data); err != nil {
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			return nil, Errorf(ErrAlreadyExists, "create registry at %s", store.URI())
		}
		return nil, fmt.Errorf("create registry at %s: %w", store.URI(), err)
	}
	if _, err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func newRegistry(store objstore.Store, u *dimensions.Universe, opts Options) *Registry {
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = 100
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 500
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Registry{store: store, universe: u, schemas: buildSchemas(u), opts: opts, log: opts.Logger,
		cache: newFileCache(store, opts.CacheDir)}
	r.snap = emptySnapshot(r)
	return r
}

// Universe is the dimension universe the registry was opened with.
func (r *Registry) Universe() *dimensions.Universe { return r.universe }

// Store is the object store the registry lives in.
func (r *Registry) Store() objstore.Store { return r.store }

// Current returns the newest snapshot loaded so far, without I/O.
func (r *Registry) Current() *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}

// Refresh loads commits newer than the current snapshot and returns the
// newest snapshot.
func (r *Registry) Refresh(ctx context.Context) (*Snapshot, error) {
	cur := r.Current()
	if cur.Version < 0 {
		cp, err := r.loadCheckpoint(ctx)
		if err != nil {
			return nil, err
		}
		if cp != nil {
			cur = cp
		}
	}
	next, err := r.replay(ctx, cur)
	if err != nil {
		return nil, err
	}
	r.advance(next)
	return r.Current(), nil
}

// advance installs s as current unless a newer one is already installed.
// When the cache holds many more files than are live, it drops the rows of
// files that are no longer live (a
// long-running process — serve-events, a warm Lambda — would otherwise keep
// the rows of every file ever compacted away).
func (r *Registry) advance(s *Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Version > r.snap.Version {
		r.snap = s
		live := 0
		for _, files := range s.files {
			live += len(files)
		}
		r.cache.mu.Lock()
		cached := len(r.cache.rows)
		r.cache.mu.Unlock()
		if cached > 2*live+64 {
			r.cache.keepOnly(s)
		}
	}
}

// replay applies every commit after s, listing the log once and fetching the
// commits in parallel.
func (r *Registry) replay(ctx context.Context, s *Snapshot) (*Snapshot, error) {
	var keys []string
	start := ""
	if s.Version >= 0 {
		start = commitKey(s.Version)
	}
	for {
		page, err := r.store.List(ctx, logPrefix, start, 1000)
		if err != nil {
			return nil, fmt.Errorf("list commit log: %w", err)
		}
		for _, o := range page {
			if _, ok := commitVersion(o.Key); ok {
				keys = append(keys, o.Key)
			}
		}
		if len(page) < 1000 {
			break
		}
		start = page[len(page)-1].Key
	}
	commits := make([]*Commit, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			data, err := r.store.Get(ctx, k)
			if err != nil {
				errs[i] = fmt.Errorf("read commit %s: %w", k, err)
				return
			}
			commits[i], errs[i] = decodeCommit(k, data)
		}()
	}
	wg.Wait()
	for i, c := range commits {
		if errs[i] != nil {
			return nil, errs[i]
		}
		next, err := s.apply(c)
		if err != nil {
			return nil, err
		}
		s = next
	}
	return s, nil
}
