package butler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// Butler is an open repository.
type Butler struct {
	URI      string
	Store    objstore.Store
	Config   *Config
	Registry *registry.Registry
}

// CreateOptions configure a new repository.
type CreateOptions struct {
	Universe           *dimensions.Universe // nil: the default universe
	CheckpointInterval int64                // 0: 100
	Logger             *slog.Logger
}

// Create makes a new, empty repository at uri: butler.yaml first, then
// commit 0 of the registry. A root that already holds either is refused
// with registry.ErrAlreadyExists.
func Create(ctx context.Context, uri string, opts CreateOptions) (*Butler, error) {
	store, err := objstore.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	u := opts.Universe
	if u == nil {
		u = dimensions.Default()
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = 100
	}
	cfg, err := newConfig(u, opts.CheckpointInterval)
	if err != nil {
		return nil, err
	}
	data, err := cfg.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := store.PutIfAbsent(ctx, ConfigKey, data); err != nil {
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			return nil, registry.Errorf(registry.ErrAlreadyExists, "create %s: a repository exists there", store.URI())
		}
		return nil, fmt.Errorf("create %s: %w", store.URI(), err)
	}
	reg, err := registry.Create(ctx, store, u, registryOptions(store, cfg, opts.Logger))
	if err != nil {
		_ = store.Delete(context.WithoutCancel(ctx), ConfigKey)
		return nil, err
	}
	return &Butler{URI: store.URI(), Store: store, Config: cfg, Registry: reg}, nil
}

// Open opens an existing repository and loads its newest registry snapshot.
func Open(ctx context.Context, uri string, logger *slog.Logger) (*Butler, error) {
	store, err := objstore.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	data, err := store.Get(ctx, ConfigKey)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, registry.Errorf(registry.ErrNotARepository, "%s is not a skybutler repository (no %s)", store.URI(), ConfigKey)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", store.URI(), err)
	}
	cfg, u, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", store.URI(), err)
	}
	reg, err := registry.Open(ctx, store, u, registryOptions(store, cfg, logger))
	if err != nil {
		return nil, err
	}
	return &Butler{URI: store.URI(), Store: store, Config: cfg, Registry: reg}, nil
}

func registryOptions(store objstore.Store, cfg *Config, logger *slog.Logger) registry.Options {
	o := registry.Options{CheckpointInterval: cfg.Registry.CheckpointInterval, Logger: logger}
	if !strings.HasPrefix(store.URI(), "file://") {
		o.CacheDir = CacheDir()
	}
	return o
}

// CacheDir is where immutable registry files of remote repositories are
// cached: $SKYBUTLER_CACHE_DIR, /tmp/skybutler-cache in AWS Lambda, else the
// user cache directory.
func CacheDir() string {
	if d := os.Getenv("SKYBUTLER_CACHE_DIR"); d != "" {
		return d
	}
	if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		return "/tmp/skybutler-cache"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "skybutler")
	}
	return filepath.Join(os.TempDir(), "skybutler-cache")
}
