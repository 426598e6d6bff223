package objstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestListAllInOnePassEqualsPaging: the file store's one-pass ListAll gives
// exactly what paging through List gives, across nested directories.
func TestListAllInOnePassEqualsPaging(t *testing.T) {
	ctx := context.Background()
	s, err := NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2500 {
		key := fmt.Sprintf("p/%02d/k%05d", i%7, i)
		if i%5 == 0 {
			key = fmt.Sprintf("p/%02d/sub/k%05d", i%7, i)
		}
		if _, err := s.Put(ctx, key, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	s.Put(ctx, "q/other", []byte("y"))
	for _, prefix := range []string{"", "p/", "p/0", "p/03/", "p/03/sub/k0", "none/"} {
		fast, err := ListAll(ctx, s, prefix)
		if err != nil {
			t.Fatal(err)
		}
		var paged []ObjectInfo
		after := ""
		for {
			page, err := s.List(ctx, prefix, after, 333)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page...)
			if len(page) < 333 {
				break
			}
			after = page[len(page)-1].Key
		}
		if !slices.EqualFunc(fast, paged, func(a, b ObjectInfo) bool { return a.Key == b.Key && a.Size == b.Size }) {
			t.Fatalf("prefix %q: one pass %d keys, paging %d keys", prefix, len(fast), len(paged))
		}
	}
}
