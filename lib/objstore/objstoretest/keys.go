package objstoretest

import (
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/lib/objstore"
)

// InvalidKeys are keys every method must reject with ErrInvalidKey.
var InvalidKeys = []string{
	"",
	"/abs",
	"/",
	".",
	"..",
	"a/../b",
	"../escape",
	"./a",
	"a/.",
	"a/..",
	"a//b",
	"a/",
	`back\slash`,
	"nul\x00byte",
	"tab\tkey",
	"new\nline",
	"del\x7f",
	"c1\u0085control",
	"bad\xffutf8",
	".objstore-tmp/x",
	".objstore-locks",
	strings.Repeat("k", objstore.MaxKeyLen+1),
}

// oddKeys are valid keys that stress URL escaping and filesystem names.
var oddKeys = []string{
	"with space/file name.txt",
	"unicode/ünïcødé/δ.json",
	"special/a+b=c&d?e#f%20g;h,i@j$k!l'm(n)o*p~q[r]s{t}u|v^w`x\"y<z>",
	"dots/.hidden",
	"dots/..double",
	"dots/trailing.",
	"dots/...",
	".config/x",
	"nested/.objstore-tmp/allowed-below-the-root",
	strings.Repeat("long-name/", 20) + strings.Repeat("x", 200),
}

var keyTests = []test{
	{"Invalid keys are rejected by every method", func(t *testing.T, s objstore.Store) {
		ctx := t.Context()
		for _, key := range InvalidKeys {
			calls := map[string]func() error{
				"Get":         func() error { _, err := s.Get(ctx, key); return err },
				"GetRange":    func() error { _, err := s.GetRange(ctx, key, 0, 1); return err },
				"Put":         func() error { _, err := s.Put(ctx, key, []byte("x")); return err },
				"PutIfAbsent": func() error { _, err := s.PutIfAbsent(ctx, key, []byte("x")); return err },
				"PutIfMatch":  func() error { _, err := s.PutIfMatch(ctx, key, []byte("x"), "x"); return err },
				"Stat":        func() error { _, err := s.Stat(ctx, key); return err },
				"Delete":      func() error { return s.Delete(ctx, key) },
			}
			for name, call := range calls {
				wantErr(t, name+"("+strings.ToValidUTF8(key[:min(len(key), 40)], "?")+")", call(), objstore.ErrInvalidKey)
			}
		}
		if list, err := s.List(ctx, "", "", 0); err != nil || len(list) != 0 {
			t.Fatalf("List after invalid writes = %q, %v, want nothing", keysOf(list), err)
		}
	}},
	{"Keys with spaces, unicode and URL-special characters round trip", func(t *testing.T, s objstore.Store) {
		for _, key := range oddKeys {
			put(t, s, key, []byte(key))
		}
		for _, key := range oddKeys {
			wantContent(t, s, key, []byte(key))
		}
		list, err := s.List(t.Context(), "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(oddKeys))
		if got := keysOf(list); !slices.Equal(got, want) {
			t.Fatalf("List = %q\nwant %q", got, want)
		}
	}},
}
