package objstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var _ Store = (*fileStore)(nil)

// Names the file store keeps under its root; keys never start with them
// (see ValidKey), so List never returns them.
const (
	fileTmpDir  = reservedPrefix + "tmp"   // temporary files of writes in progress
	fileLockDir = reservedPrefix + "locks" // flock files serialising writers
	lockStripes = 64                       // lock files; a key hashes to one
)

// fileStore keeps each object in a file ROOT/KEY.
//
// Writes go to a temporary file under ROOT/.objstore-tmp, which is fsynced,
// stamped and then renamed (Put, PutIfMatch) or hard-linked (PutIfAbsent)
// into place, so readers see whole files only and a crashed write leaves at
// most an invisible temporary file (NewFile removes those older than a day). os.Link fails if the key exists, which
// makes PutIfAbsent a create-only operation without any lock. Put, PutIfMatch
// and Delete hold an exclusive flock on one of 64 lock files under
// ROOT/.objstore-locks (chosen by a hash of the key) while they compare and
// rename, so they are atomic with respect to each other across processes on
// one host (and on network filesystems whose flock is coherent).
//
// ETag: "INODE-SIZE-MTIME" in hex, from one stat, with MTIME in nanoseconds.
// Every write installs a new inode, and the writer sets the mtime explicitly
// to the current time, or one nanosecond past the replaced file's mtime if the
// clock has not moved on. An inode number can be reused after the old file is
// gone, but not together with the same size and nanosecond mtime, so an ETag
// is never seen twice for one key. (Filesystems that store coarse timestamps,
// such as FAT, weaken this to inode and size.)
//
// A key cannot be both an object and a directory of other keys: with "a/b"
// stored, Put("a") fails, and the other way round. Delete removes directories
// left empty. List reports regular files (and symbolic links to them) whose
// paths are valid keys; it does not follow symbolic links to directories.
type fileStore struct {
	root    string // absolute, cleaned
	stripes [lockStripes]sync.Mutex
}

// NewFile returns a Store on the local directory root. A relative root is made
// absolute. The directory need not exist yet: the first write creates it. It
// is an error if root exists and is not a directory.
func NewFile(root string) (Store, error) {
	if root == "" {
		return nil, errors.New("file store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("file store %s: not a directory", abs)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("file store: %w", err)
	}
	s := &fileStore{root: abs}
	s.removeStaleTemps(24 * time.Hour)
	return s, nil
}

// removeStaleTemps removes temporary files older than age: writers that died
// between writing and renaming leave them. Best effort.
func (s *fileStore) removeStaleTemps(age time.Duration) {
	dir := filepath.Join(s.root, fileTmpDir)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > age {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func (s *fileStore) URI() string {
	uri := filepath.ToSlash(s.root)
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri // a Windows drive path
	}
	return "file://" + uri
}

func (s *fileStore) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// notFound reports whether err means that no file exists at a path.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func fileETag(fi os.FileInfo) string {
	return strconv.FormatUint(inode(fi), 16) + "-" +
		strconv.FormatInt(fi.Size(), 16) + "-" +
		strconv.FormatInt(fi.ModTime().UnixNano(), 16)
}

func fileInfo(key string, fi os.FileInfo) ObjectInfo {
	return ObjectInfo{Key: key, Size: fi.Size(), ETag: fileETag(fi), ModTime: fi.ModTime()}
}

func (s *fileStore) Get(ctx context.Context, key string) ([]byte, error) {
	return s.GetRange(ctx, key, 0, -1)
}

func (s *fileStore) GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if err := begin(ctx, "get", key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	f, err := os.Open(s.path(key))
	if notFound(err) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	n := max(fi.Size()-offset, 0)
	if length >= 0 {
		n = min(n, length)
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil {
		// Files are replaced, never rewritten in place, so a short read
		// means someone truncated the file behind the store's back.
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return buf, nil
}

func (s *fileStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := begin(ctx, "stat", key); err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(s.path(key))
	if notFound(err) || err == nil && !fi.Mode().IsRegular() {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", key, ErrNotFound)
	} else if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return fileInfo(key, fi), nil
}

func (s *fileStore) Put(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	return s.replace(ctx, "put", key, data, func(os.FileInfo, error) error { return nil })
}

func (s *fileStore) PutIfMatch(ctx context.Context, key string, data []byte, etag string) (ObjectInfo, error) {
	return s.replace(ctx, "put-if-match", key, data, func(cur os.FileInfo, err error) error {
		switch {
		case notFound(err) || err == nil && !cur.Mode().IsRegular():
			return ErrNotFound
		case err != nil:
			return err
		case fileETag(cur) != etag:
			return ErrPreconditionFailed
		}
		return nil
	})
}

// replace writes data to a temporary file, then, holding the key's lock,
// calls check with the stat of the current file and renames the temporary
// file over it if check returns nil.
func (s *fileStore) replace(ctx context.Context, action, key string, data []byte, check func(os.FileInfo, error) error) (ObjectInfo, error) {
	if err := begin(ctx, action, key); err != nil {
		return ObjectInfo{}, err
	}
	tmp, err := s.writeTemp(data)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("%s %s: %w", action, key, err)
	}
	installed := false
	defer func() {
		if !installed {
			os.Remove(tmp)
		}
	}()

	unlock, err := s.lock(key)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("%s %s: %w", action, key, err)
	}
	defer unlock()
	final := s.path(key)
	cur, err := os.Stat(final)
	if err := check(cur, err); err != nil {
		return ObjectInfo{}, fmt.Errorf("%s %s: %w", action, key, err)
	}
	var prev time.Time
	if err == nil {
		prev = cur.ModTime()
	}
	info, err := stamp(key, tmp, prev)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("%s %s: %w", action, key, err)
	}
	if err := install(os.Rename, tmp, final); err != nil {
		return ObjectInfo{}, fmt.Errorf("%s %s: %w", action, key, err)
	}
	installed = true
	syncDir(filepath.Dir(final))
	return info, nil
}

func (s *fileStore) PutIfAbsent(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	if err := begin(ctx, "put-if-absent", key); err != nil {
		return ObjectInfo{}, err
	}
	wrap := func(err error) (ObjectInfo, error) {
		return ObjectInfo{}, fmt.Errorf("put-if-absent %s: %w", key, err)
	}
	tmp, err := s.writeTemp(data)
	if err != nil {
		return wrap(err)
	}
	defer os.Remove(tmp) // the link, if made, keeps the data
	info, err := stamp(key, tmp, time.Time{})
	if err != nil {
		return wrap(err)
	}
	final := s.path(key)
	if err := install(os.Link, tmp, final); errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Lstat(final); serr == nil && fi.IsDir() {
			return wrap(err) // a directory of other keys, not an object
		}
		return wrap(ErrPreconditionFailed)
	} else if err != nil {
		return wrap(err)
	}
	syncDir(filepath.Dir(final))
	return info, nil
}

// writeTemp writes data to a new file under the temporary directory and
// fsyncs it.
func (s *fileStore) writeTemp(data []byte) (name string, err error) {
	dir := filepath.Join(s.root, fileTmpDir)
	f, err := os.CreateTemp(dir, "put-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		f, err = os.CreateTemp(dir, "put-*")
	}
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// stamp sets the modification time of the temporary file tmp to now, or just
// after prev, the mtime of the file it replaces, and returns the ObjectInfo
// the file will have under key.
func stamp(key, tmp string, prev time.Time) (ObjectInfo, error) {
	now := time.Now().Round(0)
	if !now.After(prev) {
		now = prev.Add(time.Nanosecond)
	}
	if err := os.Chtimes(tmp, now, now); err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		return ObjectInfo{}, err
	}
	return fileInfo(key, fi), nil
}

// install moves or links tmp to final with op, creating final's directory,
// also when a concurrent Delete removes it after it was created.
func install(op func(oldname, newname string) error, tmp, final string) error {
	for attempt := 1; ; attempt++ {
		err := op(tmp, final)
		if err == nil || attempt == 100 || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// MkdirAll too fails with ErrNotExist if a concurrent Delete
		// removes a directory it has just made; then go round again.
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
}

// syncDir fsyncs a directory so that a rename in it is durable. Best effort:
// the write has happened, and some filesystems refuse to sync directories.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// lock takes the lock stripe of key: a mutex in this process, then an
// exclusive flock on ROOT/.objstore-locks/NN across processes.
func (s *fileStore) lock(key string) (unlock func(), err error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	i := h.Sum32() % lockStripes
	s.stripes[i].Lock()
	defer func() {
		if err != nil {
			s.stripes[i].Unlock()
		}
	}()
	dir := filepath.Join(s.root, fileLockDir)
	name := filepath.Join(dir, fmt.Sprintf("%02x", i))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() {
		unlockFile(f)
		f.Close()
		s.stripes[i].Unlock()
	}, nil
}

func (s *fileStore) Delete(ctx context.Context, key string) error {
	if err := begin(ctx, "delete", key); err != nil {
		return err
	}
	unlock, err := s.lock(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	defer unlock()
	final := s.path(key)
	fi, err := os.Lstat(final)
	if notFound(err) || err == nil && fi.IsDir() {
		return nil
	}
	if err := os.Remove(final); err != nil && !notFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	dir := filepath.Dir(final)
	syncDir(dir)
	// Remove the directories the key leaves empty. Rmdir, not Remove: if a
	// concurrent Put has turned a directory into an object, it stays.
	for ; len(dir) > len(s.root); dir = filepath.Dir(dir) {
		if syscall.Rmdir(dir) != nil {
			break
		}
	}
	return nil
}

func (s *fileStore) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	l := s.list(ctx, prefix, startAfter, limit)
	if l.err != nil {
		return l.out, fmt.Errorf("list %s: %w", prefix, l.err)
	}
	return l.out, nil
}

func (s *fileStore) list(ctx context.Context, prefix, startAfter string, limit int) *fileLister {
	l := &fileLister{s: s, ctx: ctx, prefix: prefix, startAfter: startAfter, limit: pageSize(limit)}
	// Start in the deepest directory that prefix names in full; if that is
	// no valid key path, no key can start with prefix.
	dir := prefix[:strings.LastIndexByte(prefix, '/')+1]
	if dir == "" || invalidKey(strings.TrimSuffix(dir, "/")) == "" {
		l.err = l.walk(dir)
	}
	return l
}

type fileLister struct {
	s          *fileStore
	ctx        context.Context
	prefix     string
	startAfter string
	limit      int
	out        []ObjectInfo
	err        error
	read       []string // directories read, for tests
}

// walk appends the objects under dir ("" or ending in "/") to l.out in key
// order until l.limit is reached. A directory "d" sorts as "d/" among its
// siblings, which is where its keys sort.
func (l *fileLister) walk(dir string) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	l.read = append(l.read, dir)
	entries, err := os.ReadDir(l.s.path(dir))
	if notFound(err) {
		return nil // never created, or removed by a concurrent Delete
	} else if err != nil {
		return err
	}
	type entry struct {
		name string // key, or key prefix ending in "/" for a directory
		de   fs.DirEntry
	}
	var names []entry
	for _, de := range entries {
		name := dir + de.Name()
		if invalidKey(name) != "" {
			continue // not ours: reserved, or not a valid key
		}
		if de.IsDir() {
			name += "/"
		}
		names = append(names, entry{name, de})
	}
	slices.SortFunc(names, func(a, b entry) int { return strings.Compare(a.name, b.name) })

	for _, e := range names {
		if len(l.out) == l.limit {
			return nil
		}
		if e.de.IsDir() {
			if !strings.HasPrefix(e.name, l.prefix) && !strings.HasPrefix(l.prefix, e.name) {
				continue
			}
			// All keys below sort after e.name; skip the directory if
			// they all sort before startAfter.
			if e.name <= l.startAfter && !strings.HasPrefix(l.startAfter, e.name) {
				continue
			}
			if err := l.walk(e.name); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(e.name, l.prefix) || e.name <= l.startAfter {
			continue
		}
		var fi os.FileInfo
		if e.de.Type()&fs.ModeSymlink != 0 {
			fi, err = os.Stat(l.s.path(e.name))
		} else {
			fi, err = e.de.Info()
		}
		if notFound(err) {
			continue // deleted since ReadDir
		} else if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			l.out = append(l.out, fileInfo(e.name, fi))
		}
	}
	return nil
}
