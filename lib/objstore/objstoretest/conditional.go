package objstoretest

import (
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

var conditionalTests = []test{
	{"PutIfAbsent creates a missing key", func(t *testing.T, s objstore.Store) {
		info, err := s.PutIfAbsent(t.Context(), "new/key", []byte("first"))
		if err != nil {
			t.Fatalf("PutIfAbsent: %v", err)
		}
		if info.Key != "new/key" || info.Size != 5 || info.ETag == "" {
			t.Fatalf("PutIfAbsent = %+v, want key, size 5 and an ETag", info)
		}
		wantContent(t, s, "new/key", []byte("first"))
		if got := stat(t, s, "new/key"); got.ETag != info.ETag {
			t.Fatalf("Stat ETag %q, PutIfAbsent returned %q", got.ETag, info.ETag)
		}
	}},
	{"PutIfAbsent on an existing key returns ErrPreconditionFailed and keeps the content", func(t *testing.T, s objstore.Store) {
		info := put(t, s, "k", []byte("first"))
		_, err := s.PutIfAbsent(t.Context(), "k", []byte("second"))
		wantErr(t, "PutIfAbsent on existing key", err, objstore.ErrPreconditionFailed)
		wantContent(t, s, "k", []byte("first"))
		if got := stat(t, s, "k"); got.ETag != info.ETag {
			t.Fatalf("ETag changed from %q to %q by a failed PutIfAbsent", info.ETag, got.ETag)
		}
	}},
	{"PutIfAbsent after Delete creates the key again", func(t *testing.T, s objstore.Store) {
		put(t, s, "k", []byte("first"))
		if err := s.Delete(t.Context(), "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutIfAbsent(t.Context(), "k", []byte("again")); err != nil {
			t.Fatalf("PutIfAbsent after Delete: %v", err)
		}
		wantContent(t, s, "k", []byte("again"))
	}},
	{"PutIfMatch with the current ETag replaces the object", func(t *testing.T, s objstore.Store) {
		first := put(t, s, "k", []byte("first"))
		second, err := s.PutIfMatch(t.Context(), "k", []byte("second"), first.ETag)
		if err != nil {
			t.Fatalf("PutIfMatch with current ETag: %v", err)
		}
		if second.Key != "k" || second.Size != 6 || second.ETag == first.ETag {
			t.Fatalf("PutIfMatch = %+v, want key k, size 6, a new ETag", second)
		}
		wantContent(t, s, "k", []byte("second"))
		if got := stat(t, s, "k"); got.ETag != second.ETag {
			t.Fatalf("Stat ETag %q, PutIfMatch returned %q", got.ETag, second.ETag)
		}
		third, err := s.PutIfMatch(t.Context(), "k", []byte("third"), second.ETag)
		if err != nil {
			t.Fatalf("PutIfMatch with the ETag PutIfMatch returned: %v", err)
		}
		wantContent(t, s, "k", []byte("third"))
		if third.ETag == second.ETag {
			t.Fatal("ETag did not change")
		}
	}},
	{"PutIfMatch with a stale ETag returns ErrPreconditionFailed and keeps the content", func(t *testing.T, s objstore.Store) {
		first := put(t, s, "k", []byte("first"))
		put(t, s, "k", []byte("second"))
		_, err := s.PutIfMatch(t.Context(), "k", []byte("third"), first.ETag)
		wantErr(t, "PutIfMatch with stale ETag", err, objstore.ErrPreconditionFailed)
		wantContent(t, s, "k", []byte("second"))
	}},
	{"PutIfMatch with a made-up or empty ETag returns ErrPreconditionFailed", func(t *testing.T, s objstore.Store) {
		put(t, s, "k", []byte("first"))
		for _, etag := range []string{`"0123456789abcdef0123456789abcdef"`, "nonsense", "*", ""} {
			_, err := s.PutIfMatch(t.Context(), "k", []byte("second"), etag)
			wantErr(t, "PutIfMatch(etag "+etag+")", err, objstore.ErrPreconditionFailed)
		}
		wantContent(t, s, "k", []byte("first"))
	}},
	{"PutIfMatch on a missing key returns ErrNotFound and creates nothing", func(t *testing.T, s objstore.Store) {
		gone := put(t, s, "gone", []byte("x"))
		if err := s.Delete(t.Context(), "gone"); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"gone", "never"} {
			for _, etag := range []string{gone.ETag, "nonsense", ""} {
				_, err := s.PutIfMatch(t.Context(), key, []byte("y"), etag)
				wantErr(t, "PutIfMatch("+key+", "+etag+")", err, objstore.ErrNotFound)
			}
			_, err := s.Stat(t.Context(), key)
			wantErr(t, "Stat("+key+")", err, objstore.ErrNotFound)
		}
	}},
}
