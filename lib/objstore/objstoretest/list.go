package objstoretest

import (
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

// listKeys are chosen so that byte order differs from a naive directory walk:
// '-' and '.' sort before '/', which sorts before '0' and '_'.
var listKeys = []string{
	"a-b/c",
	"a.txt",
	"a/b",
	"a/b.d/e",
	"a/b0",
	"a0",
	"b",
	"registry/_log/00000000000000000001.json",
	"registry/_log/00000000000000000002.json",
	"registry/_log/00000000000000000010.json",
	"registry/_log/_last_checkpoint",
	"registry/tables/dataset/part-1.parquet",
	"registry/tables/dataset/part-2.parquet",
	"registry/tables/dataset_type/part-1.parquet",
	"registry/tables/dataset_type/part-10.parquet",
	"registry/tables/dataset_type/part-9.parquet",
	"z/y/x/w",
}

func putListKeys(t *testing.T, s objstore.Store) {
	t.Helper()
	for _, k := range listKeys {
		put(t, s, k, []byte(k))
	}
}

// wantListing is what List must return for prefix and startAfter.
func wantListing(prefix, startAfter string) []string {
	var want []string
	for _, k := range listKeys {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	return want
}

func checkList(t *testing.T, s objstore.Store, prefix, startAfter string, limit int) {
	t.Helper()
	got, err := s.List(t.Context(), prefix, startAfter, limit)
	if err != nil {
		t.Fatalf("List(%q, %q, %d): %v", prefix, startAfter, limit, err)
	}
	want := wantListing(prefix, startAfter)
	if limit > 0 && len(want) > limit {
		want = want[:limit]
	}
	if keys := keysOf(got); !slices.Equal(keys, want) {
		t.Fatalf("List(%q, %q, %d) = %q\nwant %q", prefix, startAfter, limit, keys, want)
	}
	for _, info := range got {
		if info.Size != int64(len(info.Key)) || info.ETag == "" {
			t.Fatalf("List entry %+v: want size %d and an ETag", info, len(info.Key))
		}
	}
}

var listTests = []test{
	{"List returns every key in byte order", func(t *testing.T, s objstore.Store) {
		putListKeys(t, s)
		checkList(t, s, "", "", 0)
	}},
	{"List filters by a prefix that may end inside a name", func(t *testing.T, s objstore.Store) {
		putListKeys(t, s)
		for _, prefix := range []string{
			"a", "a/", "a.", "a/b", "a/b.", "registry/", "registry/_lo", "registry/_log/",
			"registry/_log/0000000000000000000", "registry/_log/00000000000000000002.json",
			"registry/tables/dataset", "registry/tables/dataset/", "registry/tables/dataset_type/part-1",
			"z/y", "b", "nothing", "nothing/", "registry/nothing/", "a//", "../", "./a",
		} {
			checkList(t, s, prefix, "", 0)
		}
	}},
	{"List starts strictly after startAfter", func(t *testing.T, s objstore.Store) {
		putListKeys(t, s)
		for _, tc := range []struct{ prefix, startAfter string }{
			{"", "a.txt"},
			{"", "a/"},
			{"", "a/b"},
			{"", "a/b.d/e"},
			{"", "a/c"},
			{"", "a/b.d"},
			{"", "a"},
			{"", "b"},
			{"", "registry"},
			{"", "registry/_log/0"},
			{"", "zzz"},
			{"registry/", "a"},
			{"registry/", "registry/_log/00000000000000000002.json"},
			{"registry/", "registry/_log/_last_checkpoint"},
			{"registry/", "registry/tables/dataset/part-2.parquet"},
			{"registry/_log/", "registry/tables/"},
			{"registry/tables/", "registry/tables/dataset/"},
			{"registry/tables/", "registry/tables/dataset_type/part-1.parquet"},
		} {
			checkList(t, s, tc.prefix, tc.startAfter, 0)
		}
	}},
	{"List pages with limit cover every key once", func(t *testing.T, s objstore.Store) {
		putListKeys(t, s)
		for _, prefix := range []string{"", "registry/", "a"} {
			want := wantListing(prefix, "")
			for _, limit := range []int{1, 2, 3, 5, len(want), 100} {
				var got []string
				startAfter := ""
				for {
					page, err := s.List(t.Context(), prefix, startAfter, limit)
					if err != nil {
						t.Fatalf("List(%q, %q, %d): %v", prefix, startAfter, limit, err)
					}
					if len(page) > limit {
						t.Fatalf("List(%q, %q, %d) returned %d objects", prefix, startAfter, limit, len(page))
					}
					got = append(got, keysOf(page)...)
					if len(page) < limit {
						break
					}
					startAfter = page[len(page)-1].Key
				}
				if !slices.Equal(got, want) {
					t.Fatalf("pages of %d with prefix %q = %q\nwant %q", limit, prefix, got, want)
				}
			}
		}
	}},
	{"ListAll returns every key under a prefix", func(t *testing.T, s objstore.Store) {
		putListKeys(t, s)
		all, err := objstore.ListAll(t.Context(), s, "registry/tables/")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := keysOf(all), wantListing("registry/tables/", ""); !slices.Equal(got, want) {
			t.Fatalf("ListAll = %q, want %q", got, want)
		}
	}},
	{"List of an empty store returns nothing", func(t *testing.T, s objstore.Store) {
		got, err := s.List(t.Context(), "", "", 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("List = %+v, %v, want nothing", got, err)
		}
		got, err = s.List(t.Context(), "registry/", "", 10)
		if err != nil || len(got) != 0 {
			t.Fatalf("List(registry/) = %+v, %v, want nothing", got, err)
		}
	}},
}

var deleteTests = []test{
	{"Delete removes the object and repeating it is not an error", func(t *testing.T, s objstore.Store) {
		put(t, s, "dir/k", []byte("x"))
		put(t, s, "dir/other", []byte("y"))
		for range 2 {
			if err := s.Delete(t.Context(), "dir/k"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
		_, err := s.Get(t.Context(), "dir/k")
		wantErr(t, "Get after Delete", err, objstore.ErrNotFound)
		_, err = s.Stat(t.Context(), "dir/k")
		wantErr(t, "Stat after Delete", err, objstore.ErrNotFound)
		list, err := s.List(t.Context(), "", "", 0)
		if err != nil || !slices.Equal(keysOf(list), []string{"dir/other"}) {
			t.Fatalf("List after Delete = %q, %v, want [dir/other]", keysOf(list), err)
		}
		wantContent(t, s, "dir/other", []byte("y"))
	}},
	{"Delete of a missing key is not an error", func(t *testing.T, s objstore.Store) {
		put(t, s, "dir/child", []byte("x"))
		for _, key := range []string{"never", "no/such/dir", "dir", "dir/child/below"} {
			if err := s.Delete(t.Context(), key); err != nil {
				t.Fatalf("Delete(%s): %v", key, err)
			}
		}
		wantContent(t, s, "dir/child", []byte("x"))
	}},
	{"Deleting the last key under a prefix leaves the store usable", func(t *testing.T, s objstore.Store) {
		put(t, s, "d/e/f/1", []byte("1"))
		put(t, s, "d/e/f/2", []byte("2"))
		for _, k := range []string{"d/e/f/1", "d/e/f/2"} {
			if err := s.Delete(t.Context(), k); err != nil {
				t.Fatal(err)
			}
		}
		if list, err := s.List(t.Context(), "d/", "", 0); err != nil || len(list) != 0 {
			t.Fatalf("List(d/) = %q, %v, want nothing", keysOf(list), err)
		}
		put(t, s, "d/e", nil) // where a directory may have been
		if err := s.Delete(t.Context(), "d/e"); err != nil {
			t.Fatal(err)
		}
		put(t, s, "d/e/f/3", []byte("3"))
		list, err := s.List(t.Context(), "d/", "", 0)
		if err != nil || !slices.Equal(keysOf(list), []string{"d/e/f/3"}) {
			t.Fatalf("List(d/) = %q, %v, want [d/e/f/3]", keysOf(list), err)
		}
	}},
}
