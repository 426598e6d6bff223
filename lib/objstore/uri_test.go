package objstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

func TestOpenChoosesTheStoreByURI(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ uri, want string }{
		{"s3://bucket/some/prefix", "s3://bucket/some/prefix"},
		{"s3://bucket/some/prefix/", "s3://bucket/some/prefix"},
		{"s3://bucket", "s3://bucket"},
		{"s3://bucket/", "s3://bucket"},
		{"file://" + filepath.ToSlash(dir) + "/repo", "file://" + filepath.ToSlash(dir) + "/repo"},
		{"file://localhost" + filepath.ToSlash(dir) + "/repo", "file://" + filepath.ToSlash(dir) + "/repo"},
		{dir + "/plain", "file://" + filepath.ToSlash(dir) + "/plain"},
		{dir + "/./x/../plain", "file://" + filepath.ToSlash(dir) + "/plain"},
	} {
		s, err := objstore.Open(t.Context(), tc.uri)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.uri, err)
			continue
		}
		if got := s.URI(); got != tc.want {
			t.Errorf("Open(%q).URI() = %q, want %q", tc.uri, got, tc.want)
		}
	}
}

func TestOpenMakesARelativePathAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := objstore.Open(context.Background(), "repo/sub")
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + filepath.ToSlash(filepath.Join(dir, "repo", "sub")); s.URI() != want {
		t.Fatalf("URI() = %q, want %q", s.URI(), want)
	}
}

func TestOpenRejectsOtherURIs(t *testing.T) {
	for _, tc := range []struct{ uri, mention string }{
		{"", "empty"},
		{"gs://bucket/x", `unsupported scheme "gs"`},
		{"https://example.com/x", `unsupported scheme "https"`},
		{"mem://1", `unsupported scheme "mem"`},
		{"s3:///no-bucket", "s3://BUCKET"},
		{"s3:bucket/x", "s3://BUCKET"},
		{"s3://bucket/x?versionId=1", "query"},
		{"file://otherhost/x", "file:///"},
		{"file:relative", "file:///"},
	} {
		_, err := objstore.Open(t.Context(), tc.uri)
		if err == nil || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("Open(%q): %v, want an error mentioning %q", tc.uri, err, tc.mention)
		}
	}
}

func TestListAllPaginates(t *testing.T) {
	s := objstore.NewMem()
	const n = 2*objstore.DefaultListLimit + 17
	for i := range n {
		if _, err := s.Put(t.Context(), fmt.Sprintf("k/%06d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(t.Context(), "other", nil); err != nil {
		t.Fatal(err)
	}
	all, err := objstore.ListAll(t.Context(), s, "k/")
	if err != nil || len(all) != n {
		t.Fatalf("ListAll = %d objects, %v, want %d", len(all), err, n)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Key >= all[i].Key {
			t.Fatalf("ListAll out of order at %d: %s, %s", i, all[i-1].Key, all[i].Key)
		}
	}
}
