package objstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

var _ Store = (*memStore)(nil)

// memStore keeps objects in a map. Its ETag is a store-wide write counter,
// so it changes on every write, even of identical bytes.
type memStore struct {
	mu      sync.RWMutex
	objects map[string]memObject
	keys    []string // sorted keys of objects, for List
	writes  uint64
	uri     string
}

type memObject struct {
	data []byte
	info ObjectInfo
}

var memStores struct {
	sync.Mutex
	n int
}

// NewMem returns an empty in-memory Store, for tests and benchmarks. Each
// call returns a new, independent store with a URI of the form "mem://N".
func NewMem() Store {
	memStores.Lock()
	memStores.n++
	n := memStores.n
	memStores.Unlock()
	return &memStore{objects: map[string]memObject{}, uri: "mem://" + strconv.Itoa(n)}
}

func (s *memStore) URI() string { return s.uri }

func (s *memStore) Get(ctx context.Context, key string) ([]byte, error) {
	return s.GetRange(ctx, key, 0, -1)
}

func (s *memStore) GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	action := "get " + key
	if offset != 0 || length >= 0 {
		action = fmt.Sprintf("get %s [%d,+%d]", key, offset, length)
	}
	if err := begin(ctx, "get", key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("%s: negative offset", action)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.objects[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", action, ErrNotFound)
	}
	return slices.Clone(clip(obj.data, offset, length)), nil
}

// clip returns data[offset:offset+length] cut to the bounds of data; length
// < 0 means to the end.
func clip(data []byte, offset, length int64) []byte {
	size := int64(len(data))
	if offset >= size {
		return []byte{}
	}
	end := size
	if length >= 0 && length < size-offset {
		end = offset + length
	}
	return data[offset:end]
}

func (s *memStore) Put(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	return s.put(ctx, "put", key, data, func(memObject, bool) error { return nil })
}

func (s *memStore) PutIfAbsent(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	return s.put(ctx, "put-if-absent", key, data, func(_ memObject, exists bool) error {
		if exists {
			return ErrPreconditionFailed
		}
		return nil
	})
}

func (s *memStore) PutIfMatch(ctx context.Context, key string, data []byte, etag string) (ObjectInfo, error) {
	return s.put(ctx, "put-if-match", key, data, func(old memObject, exists bool) error {
		switch {
		case !exists:
			return ErrNotFound
		case old.info.ETag != etag:
			return ErrPreconditionFailed
		}
		return nil
	})
}

// put stores data at key if check, called with the current object under the
// write lock, returns nil.
func (s *memStore) put(ctx context.Context, action, key string, data []byte, check func(old memObject, exists bool) error) (ObjectInfo, error) {
	if err := begin(ctx, action, key); err != nil {
		return ObjectInfo{}, err
	}
	data = slices.Clone(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, exists := s.objects[key]
	if err := check(old, exists); err != nil {
		return ObjectInfo{}, fmt.Errorf("%s %s: %w", action, key, err)
	}
	s.writes++
	info := ObjectInfo{
		Key:     key,
		Size:    int64(len(data)),
		ETag:    "m" + strconv.FormatUint(s.writes, 16),
		ModTime: time.Now(),
	}
	if !exists {
		i, _ := slices.BinarySearch(s.keys, key)
		s.keys = slices.Insert(s.keys, i, key)
	}
	s.objects[key] = memObject{data: data, info: info}
	return info, nil
}

func (s *memStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := begin(ctx, "stat", key); err != nil {
		return ObjectInfo{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.objects[key]
	if !ok {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", key, ErrNotFound)
	}
	return obj.info, nil
}

func (s *memStore) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	limit = pageSize(limit)
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := slices.BinarySearch(s.keys, max(prefix, startAfter))
	var infos []ObjectInfo
	for _, k := range s.keys[i:] {
		if len(infos) == limit || !strings.HasPrefix(k, prefix) {
			break
		}
		if k > startAfter {
			infos = append(infos, s.objects[k].info)
		}
	}
	return infos, nil
}

func (s *memStore) Delete(ctx context.Context, key string) error {
	if err := begin(ctx, "delete", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		delete(s.objects, key)
		i, _ := slices.BinarySearch(s.keys, key)
		s.keys = slices.Delete(s.keys, i, i+1)
	}
	return nil
}

// begin validates key and checks that ctx is still live, the first step of
// every keyed method.
func begin(ctx context.Context, action, key string) error {
	if err := checkKey(action, key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", action, key, err)
	}
	return nil
}

// DefaultListLimit is the page size List uses when called with limit <= 0.
const DefaultListLimit = 1000

func pageSize(limit int) int {
	if limit <= 0 {
		return DefaultListLimit
	}
	return limit
}
