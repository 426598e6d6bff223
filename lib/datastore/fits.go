package datastore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/astrogo/fitsio"
)

// fitsFormatter stores an Image as a FITS file: a primary HDU holding the
// 2-D float32 image (BITPIX -32, NAXIS1 = width, NAXIS2 = height; FITS
// stores the first axis fastest, so the row-major pixels are written as
// they are) and the header cards.
//
// Writing formats the header itself, following the FITS standard 4.0:
// astrogo/fitsio v0.3.0's encoder writes floats with only 6 significant
// digits, does not escape quotes in strings and panics on some values.
// Floats are written with the shortest representation that reads back
// exactly; strings over one card use the CONTINUE convention (with
// LONGSTRN); keywords that are not standard FITS keywords (longer than 8
// characters, lower case, spaces) use the ESO HIERARCH convention; COMMENT
// and HISTORY text longer than a card is split. Structural keywords of h
// (SIMPLE, BITPIX, NAXISn, EXTEND, BSCALE, BZERO, BLANK, CHECKSUM, ...) are
// skipped. FITS strings are printable ASCII and lose trailing spaces;
// comments that do not fit on their card are truncated.
//
// Reading uses fitsio: the primary HDU if it has two axes, else the first
// IMAGE extension with two axes. Any BITPIX is accepted and converted to
// float32 with BSCALE and BZERO applied (BLANK pixels become NaN). The
// header is the image HDU's cards without structural keywords, after the
// primary header's when the image is an extension.
type fitsFormatter struct{}

var _ Formatter = fitsFormatter{}

func (fitsFormatter) Name() string      { return FormatterFITS }
func (fitsFormatter) Extension() string { return ".fits" }

func (fitsFormatter) Write(obj any) ([]byte, error) {
	var img *Image
	switch v := obj.(type) {
	case *Image:
		img = v
	case Image:
		img = &v
	default:
		return nil, wrongType(FormatterFITS, obj, "*datastore.Image or datastore.Image")
	}
	if err := img.Validate(); err != nil {
		return nil, fmt.Errorf("fits: write: %w", err)
	}
	hdr, err := encodeHeader(img.Width, img.Height, img.Header)
	if err != nil {
		return nil, fmt.Errorf("fits: write header: %w", err)
	}
	size := len(hdr) + 4*len(img.Pixels)
	size += (fitsBlockLen - size%fitsBlockLen) % fitsBlockLen
	out := make([]byte, len(hdr), size)
	copy(out, hdr)
	for _, p := range img.Pixels {
		out = binary.BigEndian.AppendUint32(out, math.Float32bits(p))
	}
	return out[:size], nil // the padding is zero bytes
}

func (fitsFormatter) Read(data []byte) (obj any, err error) {
	// fitsio panics on some malformed headers; report them as errors.
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("fits: read: malformed file: %v", r)
		}
	}()
	img, err := readFITSImage(data)
	if err != nil {
		return nil, fmt.Errorf("fits: read: %w", err)
	}
	return img, nil
}

func readFITSImage(data []byte) (*Image, error) {
	hdus, err := scanFITS(data)
	if err != nil {
		return nil, err
	}
	// Give fitsio only the HDUs needed: the primary, and the image
	// extension if the image is not in the primary.
	pick := -1
	for i, h := range hdus {
		if h.image && len(h.axes) == 2 {
			pick = i
			break
		}
	}
	if pick < 0 {
		return nil, errors.New("no 2-D image HDU in the file")
	}
	buf := data[hdus[0].start:hdus[0].end]
	if pick > 0 {
		buf = append(bytes.Clone(buf), data[hdus[pick].start:hdus[pick].end]...)
	}
	f, err := fitsio.Open(bytes.NewReader(buf))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	idx := min(pick, 1)
	if len(f.HDUs()) <= idx {
		return nil, fmt.Errorf("HDU %d not decoded", pick)
	}
	hdu, ok := f.HDU(idx).(fitsio.Image)
	if !ok {
		return nil, fmt.Errorf("HDU %d is not an image", pick)
	}
	h := hdu.Header()
	axes := h.Axes()
	if len(axes) != 2 {
		return nil, fmt.Errorf("HDU %d has %d axes, want 2", pick, len(axes))
	}
	img := &Image{Width: axes[0], Height: axes[1]}
	if pick > 0 {
		img.Header = headerFromFITS(f.HDU(0).Header())
		img.Header = mergeHeader(img.Header, headerFromFITS(h))
	} else {
		img.Header = headerFromFITS(h)
	}
	img.Pixels, err = readPixels(hdu, img.Width*img.Height)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// readPixels converts the image data of any BITPIX to float32, applying
// BSCALE, BZERO and BLANK.
func readPixels(hdu fitsio.Image, n int) ([]float32, error) {
	h := hdu.Header()
	scale, zero := 1.0, 0.0
	if v, ok := cardFloat(h, "BSCALE"); ok {
		scale = v
	}
	if v, ok := cardFloat(h, "BZERO"); ok {
		zero = v
	}
	blank, hasBlank := int64(0), false
	if c := h.Get("BLANK"); c != nil {
		if v, ok := c.Value.(int); ok {
			blank, hasBlank = int64(v), true
		}
	}
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	phys := func(i int, stored int64) {
		if hasBlank && stored == blank {
			out[i] = float32(math.NaN())
			return
		}
		out[i] = float32(zero + scale*float64(stored))
	}
	switch h.Bitpix() {
	case -32:
		if err := hdu.Read(&out); err != nil {
			return nil, err
		}
		if scale != 1 || zero != 0 {
			for i, v := range out {
				out[i] = float32(zero + scale*float64(v))
			}
		}
	case -64:
		v := make([]float64, n)
		if err := hdu.Read(&v); err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = float32(zero + scale*v[i])
		}
	case 8:
		v := make([]byte, n)
		if err := hdu.Read(&v); err != nil {
			return nil, err
		}
		for i := range out {
			phys(i, int64(v[i]))
		}
	case 16:
		v := make([]int16, n)
		if err := hdu.Read(&v); err != nil {
			return nil, err
		}
		for i := range out {
			phys(i, int64(v[i]))
		}
	case 32:
		v := make([]int32, n)
		if err := hdu.Read(&v); err != nil {
			return nil, err
		}
		for i := range out {
			phys(i, int64(v[i]))
		}
	case 64:
		v := make([]int64, n)
		if err := hdu.Read(&v); err != nil {
			return nil, err
		}
		for i := range out {
			phys(i, v[i])
		}
	default:
		return nil, fmt.Errorf("unsupported BITPIX %d", h.Bitpix())
	}
	return out, nil
}

func cardFloat(h *fitsio.Header, key string) (float64, bool) {
	c := h.Get(key)
	if c == nil {
		return 0, false
	}
	switch v := c.Value.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

// headerFromFITS converts fitsio cards, dropping structural keywords and
// END: ints become int64; integers too large for int64 and complex values
// become strings.
func headerFromFITS(h *fitsio.Header) Header {
	var out Header
	for i := 0; cardExists(h, i); i++ {
		c := h.Card(i)
		if c.Name == "END" || isStructuralKey(c.Name) {
			continue
		}
		card := Card{Key: c.Name, Comment: c.Comment}
		switch v := c.Value.(type) {
		case nil:
		case int:
			card.Value = int64(v)
		case float64, string, bool:
			card.Value = v
		case big.Int:
			card.Value = v.String()
		default:
			card.Value = fmt.Sprint(v)
		}
		out = append(out, card)
	}
	return out
}

// cardExists reports whether h has a card i (fitsio's Header has no
// length and Card panics past the end).
func cardExists(h *fitsio.Header, i int) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = h.Card(i)
	return true
}

// mergeHeader returns base with the cards of over: a card replaces the
// first card of base with the same key; commentary cards are appended.
func mergeHeader(base, over Header) Header {
	for _, c := range over {
		if !isCommentaryKey(c.Key) {
			if i := base.index(c.Key); i >= 0 {
				base[i] = c
				continue
			}
		}
		base = append(base, c)
	}
	return base
}

// fitsHDU locates one header-data unit in a file.
type fitsHDU struct {
	start, end int   // byte range of header and data, block aligned
	image      bool  // primary array or IMAGE extension
	axes       []int // NAXISn
}

// scanFITS walks the HDUs of a FITS file checking that every declared data
// size fits in the file, so that fitsio never allocates more than the file
// holds.
func scanFITS(data []byte) ([]fitsHDU, error) {
	if len(data) == 0 || len(data)%fitsBlockLen != 0 {
		return nil, fmt.Errorf("size %d is not a positive multiple of %d bytes", len(data), fitsBlockLen)
	}
	if !bytes.HasPrefix(data, []byte("SIMPLE  =")) {
		return nil, errors.New("not a FITS file (no SIMPLE card)")
	}
	var hdus []fitsHDU
	for pos := 0; pos < len(data); {
		if pos > 0 && !bytes.HasPrefix(data[pos:], []byte("XTENSION=")) {
			break // special records after the last HDU
		}
		h := fitsHDU{start: pos}
		cards := map[string]string{}
		ended := false
		for !ended {
			if pos+fitsCardLen > len(data) {
				return nil, fmt.Errorf("HDU %d: header has no END card", len(hdus))
			}
			line := string(data[pos : pos+fitsCardLen])
			pos += fitsCardLen
			key := strings.TrimRight(line[:8], " ")
			if key == "END" {
				ended = true
				break
			}
			if line[8:10] == "= " {
				if _, dup := cards[key]; !dup {
					cards[key] = strings.TrimSpace(strings.SplitN(line[10:], "/", 2)[0])
				}
			}
		}
		pos += (fitsBlockLen - pos%fitsBlockLen) % fitsBlockLen
		size, err := h.parse(cards, len(hdus) == 0)
		if err != nil {
			return nil, fmt.Errorf("HDU %d: %w", len(hdus), err)
		}
		size += (fitsBlockLen - size%fitsBlockLen) % fitsBlockLen
		if size > int64(len(data)-pos) {
			return nil, fmt.Errorf("HDU %d: data of %d bytes runs past the end of the file", len(hdus), size)
		}
		pos += int(size)
		h.end = pos
		hdus = append(hdus, h)
	}
	return hdus, nil
}

// parse reads the structural keywords and returns the data size in bytes.
func (h *fitsHDU) parse(cards map[string]string, primary bool) (int64, error) {
	geti := func(key string, def int64, required bool) (int64, error) {
		s, ok := cards[key]
		if !ok {
			if required {
				return 0, fmt.Errorf("missing %s", key)
			}
			return def, nil
		}
		var v int64
		if _, err := fmt.Sscan(s, &v); err != nil {
			return 0, fmt.Errorf("%s = %q is not an integer", key, s)
		}
		return v, nil
	}
	if primary {
		h.image = true
	} else {
		xt := strings.Trim(strings.TrimSpace(cards["XTENSION"]), "' ")
		if xt == "" {
			return 0, errors.New("missing XTENSION")
		}
		h.image = xt == "IMAGE"
	}
	bitpix, err := geti("BITPIX", 0, true)
	if err != nil {
		return 0, err
	}
	switch bitpix {
	case 8, 16, 32, 64, -32, -64:
	default:
		return 0, fmt.Errorf("invalid BITPIX %d", bitpix)
	}
	naxis, err := geti("NAXIS", 0, true)
	if err != nil {
		return 0, err
	}
	if naxis < 0 || naxis > 999 {
		return 0, fmt.Errorf("invalid NAXIS %d", naxis)
	}
	pcount, err := geti("PCOUNT", 0, false)
	if err != nil {
		return 0, err
	}
	gcount, err := geti("GCOUNT", 1, false)
	if err != nil {
		return 0, err
	}
	if pcount < 0 || gcount < 0 || pcount > math.MaxInt32 || gcount > math.MaxInt32 {
		return 0, fmt.Errorf("invalid PCOUNT %d or GCOUNT %d", pcount, gcount)
	}
	if naxis == 0 {
		return 0, nil
	}
	elems := int64(1)
	for i := 1; i <= int(naxis); i++ {
		n, err := geti(fmt.Sprintf("NAXIS%d", i), 0, true)
		if err != nil {
			return 0, err
		}
		if n < 0 || n > math.MaxInt32 {
			return 0, fmt.Errorf("invalid NAXIS%d %d", i, n)
		}
		h.axes = append(h.axes, int(n))
		if n != 0 && elems > math.MaxInt64/8/n {
			return 0, errors.New("data size overflows")
		}
		elems *= n
	}
	if elems > math.MaxInt64/8-pcount {
		return 0, errors.New("data size overflows")
	}
	size := (elems + pcount) * (abs64(bitpix) / 8)
	if gcount > 1 && size > math.MaxInt64/gcount {
		return 0, errors.New("data size overflows")
	}
	return size * gcount, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
