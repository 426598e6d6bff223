package ingest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skybutler/skybutler/examples/synth"
	"github.com/skybutler/skybutler/lib/objstore"
)

// countingStore counts the bytes and requests of ranged reads.
type countingStore struct {
	objstore.Store
	mu       sync.Mutex
	bytes    int64
	requests int
}

func (s *countingStore) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	data, err := s.Store.GetRange(ctx, key, off, n)
	s.mu.Lock()
	s.bytes += int64(len(data))
	s.requests++
	s.mu.Unlock()
	return data, err
}

func generatedRaw(t *testing.T) (string, synth.FileInfo) {
	t.Helper()
	files, err := synth.GenerateRaws(t.TempDir(), synth.Options{Exposures: 1, Detectors: []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	return files[0].Path, files[0]
}

func TestReadHeaderFromGeneratedRaw(t *testing.T) {
	path, info := generatedRaw(t)
	h, err := ReadHeaderFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		want any
	}{
		{"SIMPLE", true},
		{"BITPIX", int64(-32)},
		{"NAXIS", int64(2)},
		{"NAXIS1", int64(64)},
		{"INSTRUME", "SPHEREx"},
		{"DETECTOR", int64(3)},
		{"FILTER", "SPHEREx-D3"},
		{"EXPID", info.Exposure},
		{"OBSID", info.ObsID},
		{"IMGTYPE", "SCIENCE"},
		{"DATE-BEG", "2026-03-01T00:00:00.000"},
		{"DATE-END", "2026-03-01T00:01:52.000"},
		{"EXPTIME", 112.0},
		{"SIMULATE", true},
		{"date-beg", "2026-03-01T00:00:00.000"}, // keywords are case-insensitive
	} {
		if got, ok := h.Get(tc.key); !ok || got != tc.want {
			t.Errorf("%s = %#v (present %v), want %#v", tc.key, got, ok, tc.want)
		}
	}
	if h.Has("COMMENT") || h.Has("END") {
		t.Error("commentary and END cards must not be kept")
	}
	if keys := h.Keys(); keys[0] != "SIMPLE" || keys[1] != "BITPIX" {
		t.Errorf("keys start %v, want SIMPLE, BITPIX", keys[:2])
	}
}

func TestReadHeaderFromStoreReadsOnlyTheHeaderBlocks(t *testing.T) {
	ctx := context.Background()
	path, _ := generatedRaw(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	headerBlocks := int64(bytes.Index(data, []byte("END     "))/BlockSize + 1)

	mem := &countingStore{Store: objstore.NewMem()}
	if _, err := mem.Put(ctx, "uploads/raw.fits", data); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeaderFromStore(ctx, mem, "uploads/raw.fits")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := h.Get("INSTRUME"); v != "SPHEREx" {
		t.Fatalf("INSTRUME = %v", v)
	}
	if mem.bytes != headerBlocks*BlockSize || mem.bytes >= int64(len(data)) {
		t.Fatalf("read %d bytes of a %d-byte file whose header is %d blocks; want exactly the header",
			mem.bytes, len(data), headerBlocks)
	}
}

func TestReadHeaderFetchesDoublingChunks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		cards     int // extra cards after SIMPLE, BITPIX, NAXIS, NAXIS1, NAXIS2 (+ END)
		wantBytes int64
		wantReqs  int
	}{
		{"a one-block header is one request of one block", 30, 1 * BlockSize, 1},
		{"a two-block header is read exactly in two requests", 60, 2 * BlockSize, 2},
		{"a three-block header reads one block of data", 90, 4 * BlockSize, 3},
		{"a four-block header is read exactly", 130, 4 * BlockSize, 3},
		{"a five-block header reads up to eight blocks", 160, 8 * BlockSize, 4},
		{"a 20-block header reads in chunks of at most 16", 20*36 - 10, 32 * BlockSize, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := primary(2, manyCards(tc.cards), 40)
			mem := &countingStore{Store: objstore.NewMem()}
			if _, err := mem.Put(ctx, "f.fits", data); err != nil {
				t.Fatal(err)
			}
			h, err := ReadHeaderFromStore(ctx, mem, "f.fits")
			if err != nil {
				t.Fatal(err)
			}
			if h.Len() != tc.cards+5 {
				t.Fatalf("%d cards, want %d", h.Len(), tc.cards+5)
			}
			if mem.bytes != tc.wantBytes || mem.requests != tc.wantReqs {
				t.Fatalf("read %d bytes in %d requests, want %d bytes in %d", mem.bytes, mem.requests, tc.wantBytes, tc.wantReqs)
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	valid := primary(2, manyCards(40), 2)
	noEnd := []byte(strings.Join(append([]string{kv("SIMPLE", "T")}, manyCards(36*MaxHeaderBlocks+10)...), ""))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"an empty file is not FITS", nil, "not a FITS file: it is empty"},
		{"a text file is not FITS", []byte("hello, world\n"), "not a FITS file: first card is not SIMPLE"},
		{"a PNG is not FITS", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 5000)...), "not a FITS file: first card is not SIMPLE"},
		{"a FITS extension alone is not a FITS file", hdu([]string{kv("XTENSION", "'IMAGE   '")}, 0), "first card is not SIMPLE"},
		{"a file cut inside the first block is truncated", valid[:1000], "truncated FITS header: the file ends at byte 1000"},
		{"a file cut at a block boundary before END is truncated", valid[:BlockSize], "truncated FITS header: the file ends at byte 2880"},
		{"a header without END in 1000 blocks is rejected", noEnd, "no END card in the 1000 header blocks"},
		{"a card with a non-ASCII byte is rejected", hdu([]string{kv("SIMPLE", "T"), kv("OBJECT", "'caf\xc3\xa9'")}, 0), "card 2 at byte 80: byte 0xc3 in column 15 is not printable ASCII"},
		{"junk after a data-less primary is not an extension", append(primary(0, nil, 0), []byte("junk")...), "first extension: not a FITS extension: first card is not XTENSION"},
		{"a truncated first extension is an error", append(primary(0, nil, 0), hdu([]string{kv("XTENSION", "'IMAGE'")}, 0)[:100]...), "first extension: truncated FITS header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "read FITS header: ") {
				t.Fatalf("error %q does not name the action", err)
			}
		})
	}
}

func TestReadHeaderReportsReadFailures(t *testing.T) {
	ctx := context.Background()
	_, err := ReadHeaderFromStore(ctx, objstore.NewMem(), "uploads/missing.fits")
	if !errors.Is(err, objstore.ErrNotFound) || !strings.Contains(err.Error(), "read FITS header of uploads/missing.fits") {
		t.Fatalf("missing object: error = %v", err)
	}
	_, err = ReadHeaderFromFile(filepath.Join(t.TempDir(), "nope.fits"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: error = %v", err)
	}
	boom := errors.New("connection reset")
	_, err = ReadHeader(ctx, func(context.Context, int64, int64) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read bytes 0-2879") {
		t.Fatalf("read error: error = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ReadHeader(cctx, func(context.Context, int64, int64) ([]byte, error) { return primary(0, nil, 0), nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: error = %v", err)
	}
}

func TestReadHeaderOfCorruptSynthFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "corrupt.fits")
	if err := synth.WriteCorrupt(path); err != nil {
		t.Fatal(err)
	}
	_, err := ReadHeaderFromFile(path)
	if err == nil || !strings.Contains(err.Error(), "truncated FITS header") {
		t.Fatalf("error = %v, want a truncated header", err)
	}
}

func TestReadHeaderMergesTheFirstExtensionOfADatalessPrimary(t *testing.T) {
	data := primary(0, []string{kv("INSTRUME", "'SPHEREx'"), kv("DETECTOR", "1")}, 0)
	data = append(data, hdu([]string{
		kv("XTENSION", "'IMAGE   '"), kv("BITPIX", "-32"), kv("NAXIS", "2"), kv("NAXIS1", "8"), kv("NAXIS2", "8"),
		kv("DETECTOR", "5"), kv("EXTNAME", "'SCI'"),
	}, 1)...)
	data = append(data, hdu([]string{kv("XTENSION", "'IMAGE   '"), kv("SECOND", "T")}, 0)...)
	h, err := ParseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := h.Get("DETECTOR"); v != int64(1) {
		t.Errorf("DETECTOR = %v, want the primary's 1", v)
	}
	if c, _ := h.Card("EXTNAME"); c.Value != "SCI" || c.HDU != 1 {
		t.Errorf("EXTNAME card = %+v, want SCI from HDU 1", c)
	}
	if v, _ := h.Get("NAXIS1"); v != int64(8) {
		t.Errorf("NAXIS1 = %v, want the extension's 8", v)
	}
	if h.Has("SECOND") {
		t.Error("only the first extension is merged")
	}

	alone, err := ParseHeader(primary(0, []string{kv("INSTRUME", "'X'")}, 0))
	if err != nil || alone.Len() != 4 {
		t.Fatalf("a data-less primary alone: %d cards, error %v", alone.Len(), err)
	}
	withData, err := ParseHeader(append(primary(2, nil, 1), hdu([]string{kv("XTENSION", "'IMAGE'"), kv("EXTRA", "1")}, 0)...))
	if err != nil || withData.Has("EXTRA") {
		t.Fatalf("a primary with data: extension merged (%v) or error %v", withData.Has("EXTRA"), err)
	}
}

func TestReadHeaderJoinsContinuedStrings(t *testing.T) {
	h, err := ParseHeader(primary(0, []string{
		kv("LONGSTRN", "'OGIP 1.0'"),
		kv("FILENAME", "'a_rather_long_&'  / part one"),
		card("CONTINUE  'file_name_&' / part two"),
		card("CONTINUE  'end.fits'"),
		card("CONTINUE  'stray'"),
		kv("AMP", "'ends with &'"),
		kv("NEXT", "1"),
	}, 0))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := h.Card("FILENAME")
	if c.Value != "a_rather_long_file_name_end.fits" || c.Comment != "part one part two" {
		t.Errorf("FILENAME = %+v", c)
	}
	if v, _ := h.Get("AMP"); v != "ends with &" {
		t.Errorf("AMP = %v: an & without CONTINUE stays", v)
	}
	if h.Has("CONTINUE") {
		t.Error("CONTINUE cards are folded, not kept")
	}
}

func TestHeaderAccessors(t *testing.T) {
	h := NewHeader(
		Card{Key: "S", Value: "text"},
		Card{Key: "I", Value: int64(7)},
		Card{Key: "F", Value: 2.5},
		Card{Key: "FI", Value: 3.0},
		Card{Key: "SI", Value: " 12 "},
		Card{Key: "B", Value: true},
		Card{Key: "U"},
		Card{Key: "M", Malformed: "1.2.3"},
		Card{Key: "I", Value: int64(8)},
	)
	if s, err := h.String("S"); s != "text" || err != nil {
		t.Errorf("String(S) = %q, %v", s, err)
	}
	if i, err := h.Int("I"); i != 7 || err != nil {
		t.Errorf("Int(I) = %d, %v; the first card of a repeated keyword wins", i, err)
	}
	if i, err := h.Int("FI"); i != 3 || err != nil {
		t.Errorf("Int(FI) = %d, %v", i, err)
	}
	if i, err := h.Int("SI"); i != 12 || err != nil {
		t.Errorf("Int(SI) = %d, %v", i, err)
	}
	if f, err := h.Float("I"); f != 7 || err != nil {
		t.Errorf("Float(I) = %g, %v", f, err)
	}
	if b, err := h.Bool("B"); !b || err != nil {
		t.Errorf("Bool(B) = %v, %v", b, err)
	}
	for _, tc := range []struct {
		name    string
		err     error
		want    string
		missing bool
	}{
		{"a missing keyword", func() error { _, err := h.String("NOPE"); return err }(), "missing header keyword NOPE", true},
		{"an undefined value", func() error { _, err := h.Float("U"); return err }(), "missing header keyword U (its value is undefined)", true},
		{"a malformed value", func() error { _, err := h.Int("M"); return err }(), "header keyword M: malformed value '1.2.3'", false},
		{"a string asked as an int", func() error { _, err := h.Int("S"); return err }(), "header keyword S: 'text' (string) is not an integer", false},
		{"a fraction asked as an int", func() error { _, err := h.Int("F"); return err }(), "header keyword F: 2.5 (float) is not an integer", false},
		{"a number asked as a string", func() error { _, err := h.String("I"); return err }(), "header keyword I: 7 (int) is not a string", false},
		{"a number asked as a logical", func() error { _, err := h.Bool("I"); return err }(), "header keyword I: 7 (int) is not a logical (T/F)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || tc.err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", tc.err, tc.want)
			}
			if errors.Is(tc.err, ErrMissingKeyword) != tc.missing {
				t.Fatalf("errors.Is(ErrMissingKeyword) = %v", !tc.missing)
			}
		})
	}
}
