package objstoretest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

func put(t *testing.T, s objstore.Store, key string, data []byte) objstore.ObjectInfo {
	t.Helper()
	info, err := s.Put(t.Context(), key, data)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if info.Key != key || info.Size != int64(len(data)) || info.ETag == "" {
		t.Fatalf("Put(%q) = %+v, want key %q, size %d and an ETag", key, info, key, len(data))
	}
	return info
}

func get(t *testing.T, s objstore.Store, key string) []byte {
	t.Helper()
	data, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return data
}

func stat(t *testing.T, s objstore.Store, key string) objstore.ObjectInfo {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

func wantContent(t *testing.T, s objstore.Store, key string, want []byte) {
	t.Helper()
	if got := get(t, s, key); !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, abbrev(got), abbrev(want))
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want errors.Is %v", what, err, want)
	}
}

func keysOf(infos []objstore.ObjectInfo) []string {
	keys := make([]string, len(infos))
	for i, info := range infos {
		keys[i] = info.Key
	}
	return keys
}

// abbrev shows data in a failure message, cut to a readable length.
func abbrev(data []byte) string {
	if len(data) > 48 {
		return fmt.Sprintf("%q... (%d bytes)", data[:48], len(data))
	}
	return fmt.Sprintf("%q", data)
}
