package objstore_test

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/objstoretest"
)

var validKeys = []string{
	"a",
	"butler.yaml",
	"registry/_log/00000000000000000001.json",
	"registry/tables/dataset/band=g/part-0b1e.parquet",
	".hidden",
	"a/.objstore-tmp",
	"..a/b..",
	"...",
	"with space/ünïcødé",
	strings.Repeat("k", objstore.MaxKeyLen),
}

func TestValidKey(t *testing.T) {
	for _, key := range validKeys {
		if err := objstore.ValidKey(key); err != nil {
			t.Errorf("ValidKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range objstoretest.InvalidKeys {
		if err := objstore.ValidKey(key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

// FuzzValidKey checks that every key ValidKey accepts is a clean, relative,
// local path that names a file inside a store's root on any OS we run on.
func FuzzValidKey(f *testing.F) {
	for _, key := range append(validKeys, objstoretest.InvalidKeys...) {
		f.Add(key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := objstore.ValidKey(key)
		if err != nil {
			if !errors.Is(err, objstore.ErrInvalidKey) {
				t.Fatalf("ValidKey(%q) = %v, not ErrInvalidKey", key, err)
			}
			return
		}
		switch {
		case key == "" || len(key) > objstore.MaxKeyLen:
			t.Fatalf("accepted length %d", len(key))
		case !utf8.ValidString(key):
			t.Fatalf("accepted invalid UTF-8 %q", key)
		case strings.IndexFunc(key, unicode.IsControl) >= 0 || strings.Contains(key, `\`):
			t.Fatalf("accepted %q", key)
		case path.Clean(key) != key || path.IsAbs(key) || !filepath.IsLocal(key):
			t.Fatalf("accepted unclean or non-local %q", key)
		case strings.HasPrefix(key, ".objstore-"):
			t.Fatalf("accepted reserved %q", key)
		}
		root := "/store/root"
		if p := filepath.Join(root, filepath.FromSlash(key)); !strings.HasPrefix(p, root+string(filepath.Separator)) {
			t.Fatalf("key %q escapes the root: %s", key, p)
		}
	})
}
