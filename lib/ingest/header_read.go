package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/skybutler/skybutler/lib/objstore"
)

const (
	// BlockSize is the FITS logical record length: headers and data are
	// stored in blocks of 2880 bytes (36 cards).
	BlockSize = 2880
	// MaxHeaderBlocks bounds the size of one HDU header ReadHeader accepts
	// (1000 blocks, 36000 cards); a longer header is reported as lacking END.
	MaxHeaderBlocks = 1000

	cardsPerBlock = BlockSize / CardSize
	// maxFetchBlocks caps one read: reads fetch 1, 1, 2, 4, 8, 16, 16, ...
	// blocks (each as many as all before it).
	maxFetchBlocks = 16
)

// ReadFunc reads up to n bytes of a file starting at offset off. It returns
// fewer than n bytes only at the end of the file (an empty slice at or past
// it); io.EOF alongside the data is allowed and means the same.
type ReadFunc func(ctx context.Context, off, n int64) ([]byte, error)

// ReadHeader reads and parses the primary header of a FITS file through
// read, fetching 2880-byte blocks only until the END card. Each read fetches
// as many blocks as all reads before it (1, 1, 2, 4, 8, then 16 at most),
// so on an object store a header of B blocks costs about log2(B)+1 ranged
// GETs and the bytes read beyond END are fewer than the header's own: a
// header of 1, 2, 4 or 8 blocks is read exactly, with nothing of the data.
//
// When the primary HDU has no data (NAXIS = 0, as is common for raw files
// that keep the pixels in extensions) and an extension follows, the first
// extension's header is read too and its cards are appended with Card.HDU
// 1; lookups still find primary cards first. A primary HDU with NAXIS = 0
// followed by the end of the file is not an error.
//
// Errors: "not a FITS file: ..." when the first card is not SIMPLE,
// "truncated FITS header: ..." when the file ends before END, "no END card
// ..." after MaxHeaderBlocks blocks, and the failed read otherwise.
func ReadHeader(ctx context.Context, read ReadFunc) (Header, error) {
	h, err := readFITSHeader(ctx, read)
	if err != nil {
		return Header{}, fmt.Errorf("read FITS header: %w", err)
	}
	return h, nil
}

// ReadHeaderFromStore reads the header of the object key with ranged reads
// (Store.GetRange), see ReadHeader. A missing object is reported with
// objstore.ErrNotFound.
func ReadHeaderFromStore(ctx context.Context, store objstore.Store, key string) (Header, error) {
	h, err := readFITSHeader(ctx, func(ctx context.Context, off, n int64) ([]byte, error) {
		return store.GetRange(ctx, key, off, n)
	})
	if err != nil {
		return Header{}, fmt.Errorf("read FITS header of %s: %w", key, err)
	}
	return h, nil
}

// ReadHeaderFromFile reads the header of a local file, see ReadHeader.
func ReadHeaderFromFile(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, fmt.Errorf("read FITS header: %w", err)
	}
	defer f.Close()
	h, err := readFITSHeader(context.Background(), func(_ context.Context, off, n int64) ([]byte, error) {
		buf := make([]byte, n)
		m, err := f.ReadAt(buf, off)
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return buf[:m], err
	})
	if err != nil {
		return Header{}, fmt.Errorf("read FITS header of %s: %w", path, err)
	}
	return h, nil
}

// ParseHeader parses the header at the start of data (a whole file or just
// its first blocks), see ReadHeader.
func ParseHeader(data []byte) (Header, error) {
	return ReadHeader(context.Background(), func(_ context.Context, off, n int64) ([]byte, error) {
		if off >= int64(len(data)) {
			return nil, nil
		}
		return data[off:min(off+n, int64(len(data)))], nil
	})
}

func readFITSHeader(ctx context.Context, read ReadFunc) (Header, error) {
	src := &blockSource{ctx: ctx, read: read}
	var h Header
	if err := parseHDUHeader(src, &h, 0); err != nil {
		return Header{}, err
	}
	if naxis, ok := h.Get("NAXIS"); !ok || naxis != int64(0) {
		return h, nil
	}
	more, err := src.more()
	if err != nil {
		return Header{}, err
	}
	if more {
		if err := parseHDUHeader(src, &h, 1); err != nil {
			return Header{}, fmt.Errorf("first extension: %w", err)
		}
	}
	return h, nil
}

// parseHDUHeader parses one HDU header from the current position of src up
// to and including the block holding its END card, adding its value cards
// to h with the given HDU number.
func parseHDUHeader(src *blockSource, h *Header, hdu int) error {
	first := "SIMPLE"
	if hdu > 0 {
		first = "XTENSION"
	}
	start := src.off
	continuing := -1 // index in h.cards of a string value continued by CONTINUE
	for blk := 0; blk < MaxHeaderBlocks; blk++ {
		block, err := src.next()
		if blk == 0 && (err == nil || errors.Is(err, errTruncated) || errors.Is(err, io.EOF)) {
			if len(block) == 0 {
				return errors.New("not a FITS file: it is empty")
			}
			if !bytes.HasPrefix(block, []byte(fmt.Sprintf("%-8s=", first))) {
				what := "not a FITS file"
				if hdu > 0 {
					what = "not a FITS extension"
				}
				return fmt.Errorf("%s: first card is not %s (it starts %q)", what, first, block[:min(len(block), 16)])
			}
		}
		if err != nil {
			if errors.Is(err, errTruncated) || errors.Is(err, io.EOF) {
				return fmt.Errorf("truncated FITS header: the file ends at byte %d, before the END card", src.off+int64(len(block)))
			}
			return err
		}
		for i := 0; i < cardsPerBlock; i++ {
			c, kind, err := parseCard(block[i*CardSize : (i+1)*CardSize])
			if err != nil {
				return fmt.Errorf("card %d at byte %d: %w", blk*cardsPerBlock+i+1, src.off-BlockSize+int64(i*CardSize), err)
			}
			switch kind {
			case kindEnd:
				return nil
			case kindValue:
				c.HDU = hdu
				h.add(c)
				continuing = -1
				if s, ok := c.Value.(string); ok && len(s) > 0 && s[len(s)-1] == '&' {
					continuing = len(h.cards) - 1
				}
			case kindContinue:
				s, ok := c.Value.(string)
				if continuing < 0 || !ok {
					continue // a stray CONTINUE is commentary
				}
				prev := &h.cards[continuing]
				ps := prev.Value.(string)
				prev.Value = ps[:len(ps)-1] + s
				if c.Comment != "" {
					prev.Comment = joinComment(prev.Comment, c.Comment)
				}
				if len(s) == 0 || s[len(s)-1] != '&' {
					continuing = -1
				}
			}
		}
	}
	return fmt.Errorf("no END card in the %d header blocks (%d bytes) from byte %d", MaxHeaderBlocks, MaxHeaderBlocks*BlockSize, start)
}

func joinComment(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// errTruncated: the data ended inside a block.
var errTruncated = errors.New("truncated block")

// blockSource hands out 2880-byte blocks, fetching them through read.
type blockSource struct {
	ctx  context.Context
	read ReadFunc
	buf  []byte // fetched, not yet consumed
	off  int64  // file offset of the next block to hand out
	eof  bool   // the last read came back short: nothing after buf
}

// fill makes sure buf holds a whole block unless the file ends first.
func (s *blockSource) fill() error {
	if len(s.buf) >= BlockSize || s.eof {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	at := s.off + int64(len(s.buf))
	n := int64(BlockSize) * min(max(at/BlockSize, 1), maxFetchBlocks)
	data, err := s.read(s.ctx, at, n)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read bytes %d-%d: %w", at, at+n-1, err)
	}
	if int64(len(data)) > n {
		data = data[:n]
	}
	if int64(len(data)) < n {
		s.eof = true
	}
	s.buf = append(s.buf, data...)
	return nil
}

// next returns the next block. At the end of the file it returns io.EOF
// (no bytes left) or errTruncated with the partial block.
func (s *blockSource) next() ([]byte, error) {
	if err := s.fill(); err != nil {
		return nil, err
	}
	switch {
	case len(s.buf) == 0:
		return nil, io.EOF
	case len(s.buf) < BlockSize:
		return s.buf, errTruncated
	}
	b := s.buf[:BlockSize]
	s.buf = s.buf[BlockSize:]
	s.off += BlockSize
	return b, nil
}

// more reports whether any bytes follow the current position.
func (s *blockSource) more() (bool, error) {
	if err := s.fill(); err != nil {
		return false, err
	}
	return len(s.buf) > 0, nil
}
