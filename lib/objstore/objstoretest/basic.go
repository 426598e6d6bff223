package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/objstore"
)

var basicTests = []test{
	{"Put then Get returns the same bytes", func(t *testing.T, s objstore.Store) {
		put(t, s, "a/b/c.txt", []byte("hello"))
		wantContent(t, s, "a/b/c.txt", []byte("hello"))
	}},
	{"Get, GetRange and Stat of a missing key return ErrNotFound", func(t *testing.T, s objstore.Store) {
		put(t, s, "leaf", []byte("x"))
		put(t, s, "dir/child", []byte("x"))
		for _, key := range []string{"missing", "no/such/dir/key", "leaf/below", "dir", "dir/chil"} {
			_, err := s.Get(t.Context(), key)
			wantErr(t, "Get("+key+")", err, objstore.ErrNotFound)
			_, err = s.GetRange(t.Context(), key, 0, 1)
			wantErr(t, "GetRange("+key+")", err, objstore.ErrNotFound)
			_, err = s.GetRange(t.Context(), key, 0, 0)
			wantErr(t, "GetRange("+key+", 0, 0)", err, objstore.ErrNotFound)
			_, err = s.Stat(t.Context(), key)
			wantErr(t, "Stat("+key+")", err, objstore.ErrNotFound)
		}
	}},
	{"Put replaces an object and changes its ETag", func(t *testing.T, s objstore.Store) {
		first := put(t, s, "k", []byte("version 1"))
		second := put(t, s, "k", []byte("version two"))
		wantContent(t, s, "k", []byte("version two"))
		if second.ETag == first.ETag {
			t.Fatalf("ETag %q did not change on overwrite", first.ETag)
		}
		if got := stat(t, s, "k"); got.ETag != second.ETag || got.Size != 11 {
			t.Fatalf("Stat = %+v, want ETag %q and size 11", got, second.ETag)
		}
	}},
	{"Put is idempotent", func(t *testing.T, s objstore.Store) {
		put(t, s, "k", []byte("same"))
		put(t, s, "k", []byte("same"))
		wantContent(t, s, "k", []byte("same"))
	}},
	{"Stat and List report the size and ETag that Put returned", func(t *testing.T, s objstore.Store) {
		before := time.Now()
		info := put(t, s, "dir/obj.bin", []byte("12345"))
		got := stat(t, s, "dir/obj.bin")
		if got.Key != "dir/obj.bin" || got.Size != 5 || got.ETag != info.ETag {
			t.Fatalf("Stat = %+v, want key dir/obj.bin, size 5, ETag %q", got, info.ETag)
		}
		// Server clocks may differ a little from ours; S3 has seconds.
		if d := got.ModTime.Sub(before); d < -time.Hour || d > time.Hour {
			t.Fatalf("Stat ModTime %v is not near %v", got.ModTime, before)
		}
		list, err := s.List(t.Context(), "dir/", "", 0)
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %+v, %v, want one object", list, err)
		}
		if l := list[0]; l.Key != got.Key || l.Size != got.Size || l.ETag != got.ETag {
			t.Fatalf("List entry %+v does not match Stat %+v", l, got)
		}
	}},
	{"Empty objects round trip", func(t *testing.T, s objstore.Store) {
		put(t, s, "empty", nil)
		if _, err := s.PutIfAbsent(t.Context(), "empty2", []byte{}); err != nil {
			t.Fatalf("PutIfAbsent(empty): %v", err)
		}
		for _, key := range []string{"empty", "empty2"} {
			if data := get(t, s, key); len(data) != 0 {
				t.Fatalf("Get(%s) = %q, want nothing", key, data)
			}
			if info := stat(t, s, key); info.Size != 0 {
				t.Fatalf("Stat(%s).Size = %d, want 0", key, info.Size)
			}
		}
		list, err := s.List(t.Context(), "", "", 0)
		if err != nil || len(list) != 2 || list[0].Size != 0 || list[1].Size != 0 {
			t.Fatalf("List = %+v, %v, want two empty objects", list, err)
		}
	}},
	{"Binary content round trips byte for byte", func(t *testing.T, s objstore.Store) {
		var all []byte
		for i := range 3 * 256 {
			all = append(all, byte(i))
		}
		big := make([]byte, 3<<20+7)
		r := rand.NewChaCha8([32]byte{1})
		r.Read(big)
		put(t, s, "bin/all-bytes", all)
		put(t, s, "bin/big", big)
		wantContent(t, s, "bin/all-bytes", all)
		wantContent(t, s, "bin/big", big)
		if info := stat(t, s, "bin/big"); info.Size != int64(len(big)) {
			t.Fatalf("Stat size %d, want %d", info.Size, len(big))
		}
	}},
	{"Stored data does not share memory with the caller", func(t *testing.T, s objstore.Store) {
		data := []byte("original")
		put(t, s, "k", data)
		copy(data, "CHANGED!")
		got := get(t, s, "k")
		copy(got, "changed!")
		wantContent(t, s, "k", []byte("original"))
	}},
	{"Concurrent Puts never expose a partial object", func(t *testing.T, s objstore.Store) {
		a := bytes.Repeat([]byte("a"), 256<<10)
		b := bytes.Repeat([]byte("b"), 100<<10)
		put(t, s, "k", a)
		done := make(chan error, 1)
		go func() {
			defer close(done)
			for i := range 20 {
				if _, err := s.Put(t.Context(), "k", [][]byte{a, b}[i%2]); err != nil {
					done <- err
					return
				}
			}
		}()
		for reading := true; reading; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				reading = false
			default:
			}
			got := get(t, s, "k")
			if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
				t.Fatalf("Get during Puts returned a mix: %s", abbrev(got))
			}
		}
	}},
	{"A cancelled context fails every call", func(t *testing.T, s objstore.Store) {
		put(t, s, "k", []byte("x"))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls := map[string]func() error{
			"Get":         func() error { _, err := s.Get(ctx, "k"); return err },
			"GetRange":    func() error { _, err := s.GetRange(ctx, "k", 0, 1); return err },
			"Put":         func() error { _, err := s.Put(ctx, "k", nil); return err },
			"PutIfAbsent": func() error { _, err := s.PutIfAbsent(ctx, "new", nil); return err },
			"PutIfMatch":  func() error { _, err := s.PutIfMatch(ctx, "k", nil, "x"); return err },
			"Stat":        func() error { _, err := s.Stat(ctx, "k"); return err },
			"List":        func() error { _, err := s.List(ctx, "", "", 0); return err },
			"Delete":      func() error { return s.Delete(ctx, "k") },
		}
		for name, call := range calls {
			wantErr(t, name, call(), context.Canceled)
		}
		wantContent(t, s, "k", []byte("x"))
	}},
	{"URI names the store's root", func(t *testing.T, s objstore.Store) {
		if uri := s.URI(); !strings.Contains(uri, "://") {
			t.Fatalf("URI() = %q, want scheme://...", uri)
		}
	}},
}

var rangeTests = []test{
	{"GetRange returns at most length bytes from offset", func(t *testing.T, s objstore.Store) {
		put(t, s, "digits", []byte("0123456789"))
		for _, tc := range []struct {
			offset, length int64
			want           string
		}{
			{0, -1, "0123456789"},
			{0, 10, "0123456789"},
			{0, 4, "0123"},
			{3, 4, "3456"},
			{7, -1, "789"},
			{7, 100, "789"},
			{9, 1, "9"},
			{4, 0, ""},
			{10, -1, ""},
			{10, 5, ""},
			{25, 3, ""},
		} {
			got, err := s.GetRange(t.Context(), "digits", tc.offset, tc.length)
			if err != nil || string(got) != tc.want {
				t.Errorf("GetRange(%d, %d) = %q, %v, want %q", tc.offset, tc.length, got, err, tc.want)
			}
		}
	}},
	{"GetRange of an empty object returns nothing", func(t *testing.T, s objstore.Store) {
		put(t, s, "empty", nil)
		for _, length := range []int64{-1, 0, 5} {
			got, err := s.GetRange(t.Context(), "empty", 0, length)
			if err != nil || len(got) != 0 {
				t.Errorf("GetRange(0, %d) = %q, %v, want nothing", length, got, err)
			}
		}
	}},
	{"GetRange with a negative offset is an error", func(t *testing.T, s objstore.Store) {
		put(t, s, "k", []byte("data"))
		_, err := s.GetRange(t.Context(), "k", -1, 2)
		if err == nil || errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("GetRange(-1, 2): error %v, want a plain error", err)
		}
	}},
}
