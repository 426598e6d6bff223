package ingest

import (
	"context"
	"strings"
	"testing"
)

// FuzzReadHeader checks that ReadHeader never panics, asks only for sane
// ranges, returns only the documented value types, and agrees with
// ParseHeader. Seeds: testdata/fuzz/FuzzReadHeader plus the
// headers below. Run it with
//
//	go test -run '^$' -fuzz FuzzReadHeader -fuzztime 60s -fuzzminimizetime 100x ./lib/ingest/
//
// (the default minimization time of 60 s per new input leaves little time
// for fuzzing in a one-minute run).
func FuzzReadHeader(f *testing.F) {
	f.Add(primary(2, manyCards(3), 1))
	f.Add(primary(0, []string{kv("INSTRUME", "'SPHEREx'")}, 0))
	f.Add(append(primary(0, nil, 0), hdu([]string{kv("XTENSION", "'IMAGE'"), kv("DETECTOR", "3")}, 0)...))
	f.Add(hdu([]string{kv("SIMPLE", "T"), kv("S", "'a''b&'"), card("CONTINUE  'c'"), kv("Z", "(1,2)"), kv("D", "1.5D3")}, 0))
	f.Add([]byte("SIMPLE  =                    T"))
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(_ context.Context, off, n int64) ([]byte, error) {
			if off < 0 || n <= 0 {
				t.Fatalf("read(%d, %d)", off, n)
			}
			if off >= int64(len(data)) {
				return nil, nil
			}
			return data[off:min(off+n, int64(len(data)))], nil
		}
		h, err := ReadHeader(context.Background(), read)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read FITS header: ") {
				t.Fatalf("error without its action: %v", err)
			}
			return
		}
		if h.Len() > 2*36*MaxHeaderBlocks {
			t.Fatalf("%d cards", h.Len())
		}
		for _, c := range h.Cards() {
			switch c.Value.(type) {
			case nil, string, int64, float64, bool, complex128:
			default:
				t.Fatalf("card %s has a %T value", c.Key, c.Value)
			}
			if got, ok := h.Card(c.Key); !ok || got.Key == "" {
				t.Fatalf("card %q not found by its key", c.Key)
			}
		}
		again, err := ParseHeader(data)
		if err != nil || again.Len() != h.Len() {
			t.Fatalf("ParseHeader disagrees: %d cards, %v (want %d)", again.Len(), err, h.Len())
		}
	})
}
