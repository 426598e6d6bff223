package datastore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testImage is a 5x3 image with a header of every card kind.
func testImage() *Image {
	img := NewImage(5, 3)
	for y := range img.Height {
		for x := range img.Width {
			img.Set(x, y, float32(y*100+x)+0.25)
		}
	}
	img.Pixels[7] = float32(math.Inf(1))
	img.Pixels[8] = -1e-30
	img.Header = Header{
		{Key: "OBJECT", Value: "M31 field 'A'", Comment: "target name"},
		{Key: "INSTRUME", Value: "HSC"},
		{Key: "EXPTIME", Value: 30.0, Comment: "exposure time (s)"},
		{Key: "RA", Value: 150.11916612345678, Comment: "full double precision"},
		{Key: "DEC", Value: -2.2058333333333335},
		{Key: "TINY", Value: 1.5e-300},
		{Key: "HUGE", Value: -6.02214076e+23},
		{Key: "EXPID", Value: int64(903334)},
		{Key: "BIGINT", Value: int64(math.MaxInt64)},
		{Key: "NEGINT", Value: int64(-42)},
		{Key: "SIMULATE", Value: false},
		{Key: "CANSEE", Value: true, Comment: "detector saw the sky"},
		{Key: "EMPTY", Value: ""},
		{Key: "PROGRAM", Value: strings.Repeat("a long string value with 'quotes' ", 5), Comment: "continued"},
		{Key: "exposure_time", Value: 30.5, Comment: "a HIERARCH keyword"},
		{Key: "ESO DET CHIP NAME", Value: "ccd 22"},
		{Key: "COMMENT", Comment: "a comment card"},
		{Key: "HISTORY", Comment: "written by skybutler"},
		{Key: "COMMENT", Comment: "a second comment"},
	}
	return img
}

func TestFITSRoundTrip(t *testing.T) {
	f, err := FormatterFor(StorageClassExposureF, "")
	if err != nil {
		t.Fatal(err)
	}
	want := testImage()
	data, err := f.Write(want)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if len(data)%2880 != 0 {
		t.Errorf("file size %d is not a multiple of 2880", len(data))
	}
	obj, err := f.Read(data)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got := obj.(*Image)
	if got.Width != want.Width || got.Height != want.Height {
		t.Fatalf("size %dx%d, want %dx%d", got.Width, got.Height, want.Width, want.Height)
	}
	if !reflect.DeepEqual(got.Pixels, want.Pixels) {
		t.Errorf("pixels\n got %v\nwant %v", got.Pixels, want.Pixels)
	}
	// FITS drops trailing spaces of strings; the rest is exact.
	wantHeader := slicesClone(want.Header)
	for i, c := range wantHeader {
		if s, ok := c.Value.(string); ok {
			wantHeader[i].Value = strings.TrimRight(s, " ")
		}
	}
	if !reflect.DeepEqual(got.Header, wantHeader) {
		for i := range max(len(got.Header), len(wantHeader)) {
			var g, w Card
			if i < len(got.Header) {
				g = got.Header[i]
			}
			if i < len(wantHeader) {
				w = wantHeader[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("card %d: got %#v, want %#v", i, g, w)
			}
		}
	}
	if v, ok := got.Header.Float("RA"); !ok || v != 150.11916612345678 {
		t.Errorf("Header.Float(RA) = %v, %v", v, ok)
	}
	if v, ok := got.Header.Get("object"); !ok || v != "M31 field 'A'" {
		t.Errorf("Header.Get(object) = %v, %v", v, ok)
	}
}

func TestFITSFilePassesFitsverify(t *testing.T) {
	verify := findFitsverify(t)
	for _, tc := range []struct {
		name string
		img  *Image
	}{
		{"an image with every kind of card passes", testImage()},
		{"an image without header cards passes", NewImage(4, 4)},
		{"a one-pixel image passes", &Image{Width: 1, Height: 1, Pixels: []float32{1}}},
		{"an image larger than one block passes", NewImage(100, 37)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := fitsFormatter{}.Write(tc.img)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "image.fits")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(verify, "-q", path).CombinedOutput()
			text := strings.TrimSpace(string(out))
			if err != nil || !strings.HasPrefix(text, "verification OK") || strings.Contains(text, "warning") {
				full, _ := exec.Command(verify, path).CombinedOutput()
				t.Fatalf("fitsverify -q: %v: %s\n%s", err, text, full)
			}
		})
	}
}

// findFitsverify returns the fitsverify program, skipping the test when it
// is not installed, unless CI=true.
func findFitsverify(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("fitsverify")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fitsverify is required in CI (Debian package fitsverify): %v", err)
		}
		t.Skip("fitsverify not installed (Debian package fitsverify)")
	}
	return p
}

func TestFITSWriteRejectsBadImages(t *testing.T) {
	for _, tc := range []struct {
		name    string
		obj     any
		wantErr string
	}{
		{"a pixel count that does not match the size is refused", &Image{Width: 2, Height: 2, Pixels: make([]float32, 3)}, "has 3 pixels, want 4"},
		{"a negative size is refused", &Image{Width: -1, Height: 2}, "negative"},
		{"a NaN card value is refused", &Image{Header: Header{{Key: "X", Value: math.NaN()}}}, "cannot be stored"},
		{"a card value of another type is refused", &Image{Header: Header{{Key: "X", Value: []int{1}}}}, "value of type []int"},
		{"non-ASCII text is refused", &Image{Header: Header{{Key: "X", Value: "Ωmega"}}}, "not printable ASCII"},
		{"a keyword with an equals sign is refused", &Image{Header: Header{{Key: "A=B", Value: int64(1)}}}, "not a valid keyword"},
		{"a duplicate keyword is refused", &Image{Header: Header{{Key: "X", Value: int64(1)}, {Key: "x", Value: int64(2)}}}, "appears twice"},
		{"a comment card with a value is refused", &Image{Header: Header{{Key: "COMMENT", Value: "x"}}}, "cannot have a value"},
		{"a long HIERARCH string is refused", &Image{Header: Header{{Key: "long keyword", Value: strings.Repeat("x", 80)}}}, "too long for a HIERARCH card"},
		{"a table is refused", &Table{}, "formatter fits writes *datastore.Image or datastore.Image, got *datastore.Table"},
		{"nil is refused", nil, "got nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fitsFormatter{}.Write(tc.obj)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Write = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestFITSWriteSkipsStructuralKeywords(t *testing.T) {
	img := NewImage(2, 2)
	img.Header = Header{
		{Key: "SIMPLE", Value: false}, {Key: "BITPIX", Value: int64(16)}, {Key: "NAXIS", Value: int64(3)},
		{Key: "NAXIS1", Value: int64(9)}, {Key: "BZERO", Value: 32768.0}, {Key: "BSCALE", Value: 2.0},
		{Key: "CHECKSUM", Value: "stale"}, {Key: "KEEP", Value: int64(1)},
	}
	data, err := fitsFormatter{}.Write(img)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := fitsFormatter{}.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*Image)
	if want := (Header{{Key: "KEEP", Value: int64(1)}}); !reflect.DeepEqual(got.Header, want) {
		t.Errorf("header = %#v, want %#v", got.Header, want)
	}
	if got.Width != 2 || got.Height != 2 {
		t.Errorf("size %dx%d", got.Width, got.Height)
	}
}

// rawFITS builds a FITS file by hand: header cards (80 characters each,
// END added) and big-endian data, both padded to blocks.
func rawFITS(cards []string, data []byte) []byte {
	var b []byte
	for _, c := range append(cards, "END") {
		b = appendPadded(b, c)
	}
	for len(b)%fitsBlockLen != 0 {
		b = append(b, ' ')
	}
	b = append(b, data...)
	for len(b)%fitsBlockLen != 0 {
		b = append(b, 0)
	}
	return b
}

func TestFITSReadsOtherLayouts(t *testing.T) {
	int16Data := func(vals ...int16) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		}
		return b
	}
	float64Data := func(vals ...float64) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	for _, tc := range []struct {
		name       string
		file       []byte
		wantPixels []float32
		wantHeader Header
	}{
		{"unsigned 16-bit data are scaled with BZERO",
			rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
				"NAXIS1  =                    2", "NAXIS2  =                    2", "BZERO   =              32768.0", "BSCALE  =                  1.0",
				"OBSERVER= 'Hubble  '"}, int16Data(-32768, 0, 32767, 100)),
			[]float32{0, 32768, 65535, 32868}, Header{{Key: "OBSERVER", Value: "Hubble"}}},
		{"BLANK pixels become NaN",
			rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
				"NAXIS1  =                    2", "NAXIS2  =                    1", "BLANK   =                   -1"}, int16Data(-1, 5)),
			[]float32{float32(math.NaN()), 5}, nil},
		{"double precision data are converted",
			rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                  -64", "NAXIS   =                    2",
				"NAXIS1  =                    3", "NAXIS2  =                    1"}, float64Data(1.5, -2, 1e10)),
			[]float32{1.5, -2, 1e10}, nil},
		{"an image in the first extension is read with the primary header",
			append(append(
				rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0",
					"EXTEND  =                    T", "TELESCOP= 'Subaru  '", "FILTER  = 'HSC-G   '"}, nil),
				rawFITS([]string{"XTENSION= 'BINTABLE'", "BITPIX  =                    8", "NAXIS   =                    2",
					"NAXIS1  =                    4", "NAXIS2  =                    1", "PCOUNT  =                    0", "GCOUNT  =                    1",
					"TFIELDS =                    1", "TTYPE1  = 'X       '", "TFORM1  = '1J      '"}, []byte{0, 0, 0, 1})...),
				rawFITS([]string{"XTENSION= 'IMAGE   '", "BITPIX  =                  -32", "NAXIS   =                    2",
					"NAXIS1  =                    1", "NAXIS2  =                    2", "PCOUNT  =                    0", "GCOUNT  =                    1",
					"EXTNAME = 'IMAGE   '", "FILTER  = 'HSC-R   '"}, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, math.Float32bits(3)), math.Float32bits(4)))...),
			[]float32{3, 4}, Header{{Key: "TELESCOP", Value: "Subaru"}, {Key: "FILTER", Value: "HSC-R"}, {Key: "EXTNAME", Value: "IMAGE"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := fitsFormatter{}.Read(tc.file)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			got := obj.(*Image)
			if len(got.Pixels) != len(tc.wantPixels) {
				t.Fatalf("pixels %v, want %v", got.Pixels, tc.wantPixels)
			}
			for i, p := range got.Pixels {
				w := tc.wantPixels[i]
				if p != w && !(math.IsNaN(float64(p)) && math.IsNaN(float64(w))) {
					t.Errorf("pixel %d = %v, want %v", i, p, w)
				}
			}
			if !reflect.DeepEqual(got.Header, tc.wantHeader) {
				t.Errorf("header = %#v, want %#v", got.Header, tc.wantHeader)
			}
		})
	}
}

func TestFITSReadRejectsMalformedFiles(t *testing.T) {
	good, err := fitsFormatter{}.Write(testImage())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty data are refused", nil, "not a positive multiple"},
		{"a truncated file is refused", good[:len(good)-2880], "runs past the end"},
		{"a file with a partial block is refused", good[:len(good)-1], "not a positive multiple"},
		{"a file that is not FITS is refused", bytes.Repeat([]byte("x"), 2880), "not a FITS file"},
		{"a missing END card is refused", bytes.Repeat(appendPadded(nil, "SIMPLE  =                    T"), 36), "no END card"},
		{"an absurd image size is refused", rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2",
			"NAXIS1  =               200000", "NAXIS2  =               200000"}, nil), "runs past the end"},
		{"an overflowing image size is refused", rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    3",
			"NAXIS1  =           2000000000", "NAXIS2  =           2000000000", "NAXIS3  =           2000000000"}, nil), "overflows"},
		{"an invalid BITPIX is refused", rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                   12", "NAXIS   =                    0"}, nil), "invalid BITPIX"},
		{"a file without a 2-D image is refused", rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0"}, nil), "no 2-D image"},
		{"a non-integer NAXIS is refused", rawFITS([]string{"SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   = 'two'"}, nil), "not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fitsFormatter{}.Read(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Read = %v, want error containing %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "fits: read") {
				t.Errorf("error %q does not name the action", err)
			}
		})
	}
}

func TestFITSUsesTheExactFloatFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    float64
		want string
	}{
		{"an integral float keeps a decimal point", 3, "3.0"},
		{"a large float keeps a decimal point before the exponent", 1e21, "1.0E+21"},
		{"a fraction keeps all its digits", 0.1, "0.1"},
		{"a long fraction keeps all its digits", 150.11916612345678, "150.11916612345678"},
		{"a tiny number uses an exponent", -1.5e-300, "-1.5E-300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := formatCardValue(tc.v)
			if err != nil || got != tc.want {
				t.Fatalf("formatCardValue(%v) = %q, %v; want %q", tc.v, got, err, tc.want)
			}
		})
	}
}

func TestHeaderHelpers(t *testing.T) {
	var h Header
	h.Set("EXPTIME", float32(1.5), "s")
	h.Set("EXPID", 12, "")
	h.Set("object", "M31", "")
	h.Set("OBJECT", "M32", "renamed")
	h.Set("FLAG", true, "")
	if len(h) != 4 {
		t.Fatalf("header has %d cards, want 4: %#v", len(h), h)
	}
	if v, ok := h.Int("expid"); !ok || v != 12 {
		t.Errorf("Int = %v, %v", v, ok)
	}
	if v, ok := h.Float("EXPID"); !ok || v != 12 {
		t.Errorf("Float of an int = %v, %v", v, ok)
	}
	if v, ok := h.String("OBJECT"); !ok || v != "M32" {
		t.Errorf("String = %v, %v", v, ok)
	}
	if c, ok := h.Card("OBJECT"); !ok || c.Comment != "renamed" || c.Key != "object" {
		t.Errorf("Card = %#v, %v", c, ok)
	}
	if v, ok := h.Bool("FLAG"); !ok || !v {
		t.Errorf("Bool = %v, %v", v, ok)
	}
	if _, ok := h.Get("MISSING"); ok {
		t.Error("Get found a missing key")
	}
	if _, ok := h.String("EXPID"); ok {
		t.Error("String accepted an int")
	}
	h.Delete("flag")
	if _, ok := h.Get("FLAG"); ok || len(h) != 3 {
		t.Errorf("Delete left %#v", h)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func slicesClone(h Header) Header { return append(Header(nil), h...) }

func TestFITSErrorsWrapErrWrongType(t *testing.T) {
	_, err := fitsFormatter{}.Write(Dict{})
	if !errors.Is(err, ErrWrongType) {
		t.Fatalf("error %v does not wrap ErrWrongType", err)
	}
}
