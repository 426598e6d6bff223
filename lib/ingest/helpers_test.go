package ingest

import (
	"fmt"
	"strings"
)

// card formats one 80-character card from raw text (padded with blanks).
func card(text string) string {
	if len(text) > CardSize {
		panic(fmt.Sprintf("card longer than 80: %q", text))
	}
	return text + strings.Repeat(" ", CardSize-len(text))
}

// kv formats KEY = value-text as a fixed-format card.
func kv(key, value string) string {
	return card(fmt.Sprintf("%-8s= %s", key, value))
}

// hdu returns header cards followed by END, padded to whole blocks with
// blanks, then dataBlocks blocks of zero bytes.
func hdu(cards []string, dataBlocks int) []byte {
	s := strings.Join(cards, "") + card("END")
	if r := len(s) % BlockSize; r != 0 {
		s += strings.Repeat(" ", BlockSize-r)
	}
	return append([]byte(s), make([]byte, dataBlocks*BlockSize)...)
}

// primary returns a primary header with SIMPLE, BITPIX, NAXIS = naxis and
// the extra cards, plus dataBlocks data blocks.
func primary(naxis int, extra []string, dataBlocks int) []byte {
	cards := []string{kv("SIMPLE", fmt.Sprintf("%20s", "T")), kv("BITPIX", fmt.Sprintf("%20d", -32)), kv("NAXIS", fmt.Sprintf("%20d", naxis))}
	for i := 1; i <= naxis; i++ {
		cards = append(cards, kv(fmt.Sprintf("NAXIS%d", i), fmt.Sprintf("%20d", 8)))
	}
	return hdu(append(cards, extra...), dataBlocks)
}

// manyCards returns n cards KEY0001 = 1 ... .
func manyCards(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = kv(fmt.Sprintf("KEY%04d", i+1), fmt.Sprintf("%20d", i+1))
	}
	return out
}
