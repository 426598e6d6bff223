package objstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func newTestFileStore(t *testing.T) *fileStore {
	t.Helper()
	s, err := NewFile(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s.(*fileStore)
}

func TestFileStoreHidesInterruptedWrites(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "registry/_log/00000000000000000001.json", []byte("commit 1")); err != nil {
		t.Fatal(err)
	}
	// A writer that died after writing its temporary file, before the
	// rename or link: the temporary file stays behind.
	tmp, err := s.writeTemp([]byte("half-written commit 2"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tmp, filepath.Join(s.root, fileTmpDir)+string(filepath.Separator)) {
		t.Fatalf("temporary file %s is outside %s", tmp, fileTmpDir)
	}

	all, err := ListAll(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	if keys := keysOf(all); !slices.Equal(keys, []string{"registry/_log/00000000000000000001.json"}) {
		t.Fatalf("List = %q, want only the committed key", keys)
	}
	for _, prefix := range []string{".", ".objstore", fileTmpDir, fileTmpDir + "/", fileLockDir + "/"} {
		if list, err := s.List(ctx, prefix, "", 0); err != nil || len(list) != 0 {
			t.Fatalf("List(%q) = %q, %v, want nothing", prefix, keysOf(list), err)
		}
	}
	rel, _ := filepath.Rel(s.root, tmp)
	if _, err := s.Get(ctx, filepath.ToSlash(rel)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Get(%s): %v, want ErrInvalidKey", rel, err)
	}
	if _, err := s.Get(ctx, "registry/_log/00000000000000000002.json"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of the interrupted key: %v, want ErrNotFound", err)
	}
	// A day later, opening the store removes the leftover.
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(s.root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file survived NewFile: %v", err)
	}
	// The store keeps working, and the interrupted key can still be created.
	if _, err := s.PutIfAbsent(ctx, "registry/_log/00000000000000000002.json", []byte("commit 2")); err != nil {
		t.Fatal(err)
	}
}

func TestFileStoreFailedPutKeepsPreviousContent(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	// Make the temporary directory unusable: a file where it should be.
	tmpDir := filepath.Join(s.root, fileTmpDir)
	if err := os.RemoveAll(tmpDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmpDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, put := range map[string]func() error{
		"put":           func() error { _, err := s.Put(ctx, "k", []byte("new")); return err },
		"put-if-absent": func() error { _, err := s.PutIfAbsent(ctx, "k2", []byte("new")); return err },
		"put-if-match":  func() error { _, err := s.PutIfMatch(ctx, "k", []byte("new"), "x"); return err },
	} {
		err := put()
		if err == nil || !strings.HasPrefix(err.Error(), name+" k") {
			t.Errorf("%s with a broken temporary directory: %v, want an error naming the action and key", name, err)
		}
	}
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "old" {
		t.Fatalf("Get after failed Put = %q, %v, want old", got, err)
	}
}

func TestFileStoreETagChangesOnIdenticalRewrite(t *testing.T) {
	s := newTestFileStore(t)
	seen := map[string]bool{}
	for i := range 200 {
		info, err := s.Put(t.Context(), "k", []byte("same bytes"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[info.ETag] {
			t.Fatalf("write %d repeated ETag %s", i, info.ETag)
		}
		seen[info.ETag] = true
		if st, err := s.Stat(t.Context(), "k"); err != nil || st.ETag != info.ETag {
			t.Fatalf("Stat = %+v, %v, want ETag %s", st, err, info.ETag)
		}
	}
}

func TestFileStoreDeleteRemovesEmptyDirectories(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	for _, k := range []string{"a/b/c/d", "a/x"} {
		if _, err := s.Put(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.root, "a", "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a/b still exists after its only key was deleted: %v", err)
	}
	if err := s.Delete(ctx, "a/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.root, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a still exists after its last key was deleted: %v", err)
	}
	if _, err := os.Stat(s.root); err != nil {
		t.Fatalf("the root went away: %v", err)
	}
}

func TestFileStoreListReadsOnlyTheDirectoriesItNeeds(t *testing.T) {
	s := newTestFileStore(t)
	ctx := t.Context()
	for _, k := range []string{"registry/_log/1", "registry/_log/2", "datastore/x/y", "registry/tables/t/p", "z/z"} {
		if _, err := s.Put(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix, startAfter string
		limit              int
		want, read         []string
	}{
		{"registry/_lo", "", 0, []string{"registry/_log/1", "registry/_log/2"}, []string{"registry/", "registry/_log/"}},
		{"registry/_log/", "", 0, []string{"registry/_log/1", "registry/_log/2"}, []string{"registry/_log/"}},
		{"", "registry/_log/1", 2, []string{"registry/_log/2", "registry/tables/t/p"}, []string{"", "registry/", "registry/_log/", "registry/tables/", "registry/tables/t/"}},
		{"", "", 1, []string{"datastore/x/y"}, []string{"", "datastore/", "datastore/x/"}},
		{"nothing/here/", "", 0, nil, []string{"nothing/here/"}},
	} {
		l := s.list(ctx, tc.prefix, tc.startAfter, tc.limit)
		if l.err != nil || !slices.Equal(keysOf(l.out), tc.want) || !slices.Equal(l.read, tc.read) {
			t.Errorf("List(%q, %q, %d) = %q, %v after reading %q\nwant %q after reading %q",
				tc.prefix, tc.startAfter, tc.limit, keysOf(l.out), l.err, l.read, tc.want, tc.read)
		}
	}
}

func TestNewFileRejectsAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(f); err == nil {
		t.Fatal("NewFile on a regular file succeeded")
	}
	if _, err := NewFile(""); err == nil {
		t.Fatal("NewFile(\"\") succeeded")
	}
}

func TestMemStoreETagChangesOnIdenticalRewrite(t *testing.T) {
	s := NewMem()
	a, _ := s.Put(t.Context(), "k", []byte("x"))
	b, _ := s.Put(t.Context(), "k", []byte("x"))
	if a.ETag == b.ETag {
		t.Fatalf("ETag %s unchanged by a rewrite", a.ETag)
	}
}

func keysOf(infos []ObjectInfo) []string {
	var keys []string
	for _, i := range infos {
		keys = append(keys, i.Key)
	}
	return keys
}
