package objstore

import (
	"context"
	"fmt"
	"math"
)

// fullLister is implemented by stores that can list a whole prefix in one
// pass more cheaply than page by page (the file store reads each directory
// once instead of once per page).
type fullLister interface {
	listAll(ctx context.Context, prefix string) ([]ObjectInfo, error)
}

// ListAll returns every object whose key starts with prefix, in key order,
// calling s.List page by page (or in one pass when the store can).
func ListAll(ctx context.Context, s Store, prefix string) ([]ObjectInfo, error) {
	if fl, ok := s.(fullLister); ok {
		return fl.listAll(ctx, prefix)
	}
	var all []ObjectInfo
	startAfter := ""
	for {
		page, err := s.List(ctx, prefix, startAfter, DefaultListLimit)
		all = append(all, page...)
		if err != nil || len(page) < DefaultListLimit {
			return all, err
		}
		startAfter = page[len(page)-1].Key
	}
}

// listAll walks the tree under prefix once.
func (s *fileStore) listAll(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	l := s.list(ctx, prefix, "", math.MaxInt)
	if l.err != nil {
		return l.out, fmt.Errorf("list %s: %w", prefix, l.err)
	}
	return l.out, nil
}

var _ fullLister = (*fileStore)(nil)
