package objstore_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
)

func TestS3StoresUnderPrefixesAreDisjoint(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	root := srv.Store(t, bucket, "")
	p := srv.Store(t, bucket, "p")
	p2 := srv.Store(t, bucket, "/p2/") // slashes around a prefix do not matter
	for _, s := range []objstore.Store{root, p, p2} {
		if _, err := s.Put(t.Context(), "k", []byte(s.URI())); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		s    objstore.Store
		want []string
	}{
		{root, []string{"k", "p/k", "p2/k"}},
		{p, []string{"k"}},
		{p2, []string{"k"}},
	} {
		list, err := tc.s.List(t.Context(), "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, info := range list {
			keys = append(keys, info.Key)
		}
		if !slices.Equal(keys, tc.want) {
			t.Errorf("%s: List = %q, want %q", tc.s.URI(), keys, tc.want)
		}
		if got, err := tc.s.Get(t.Context(), "k"); err != nil || string(got) != tc.s.URI() {
			t.Errorf("%s: Get(k) = %q, %v", tc.s.URI(), got, err)
		}
	}
	if p2.URI() != "s3://"+bucket+"/p2" {
		t.Errorf("URI() = %q", p2.URI())
	}
}

// TestOpenS3FromEnvironment is what a subprocess such as the CLI does with
// s3test.Server.Env.
func TestOpenS3FromEnvironment(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	for _, kv := range srv.Env() {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	s, err := objstore.Open(t.Context(), "s3://"+bucket+"/repo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIfAbsent(t.Context(), "butler.yaml", []byte("x")); err != nil {
		t.Fatal(err)
	}
	direct := srv.Store(t, bucket, "")
	if got, err := direct.Get(t.Context(), "repo/butler.yaml"); err != nil || string(got) != "x" {
		t.Fatalf("Get(repo/butler.yaml) = %q, %v", got, err)
	}
}

func TestS3StoreReportsAMissingBucket(t *testing.T) {
	srv := s3test.Shared(t)
	s := srv.Store(t, "no-such-bucket-objstore", "")
	_, err := s.Get(t.Context(), "k")
	if err == nil || strings.Contains(err.Error(), objstore.ErrNotFound.Error()) {
		t.Fatalf("Get in a missing bucket: %v, want an error other than ErrNotFound", err)
	}
}

func TestS3TestStartStopsItsServerAfterTheTest(t *testing.T) {
	var endpoint string
	t.Run("private server", func(t *testing.T) {
		srv := s3test.Start(t)
		endpoint = srv.Endpoint
		s := srv.Store(t, srv.NewBucket(t), "")
		if _, err := s.Put(t.Context(), "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
	})
	if endpoint == "" {
		t.Skip("no server started")
	}
	if resp, err := http.Get(endpoint); err == nil {
		resp.Body.Close()
		t.Fatalf("%s still answers after its test ended", endpoint)
	}
}
