package datastore

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FITS header layout: 80-character cards in 2880-byte blocks.
const (
	fitsCardLen   = 80
	fitsBlockLen  = 2880
	fitsValueCol  = 10 // value field starts after "KEYWORD = "
	fitsMaxKeyLen = 8
)

// isStructuralKey reports keywords that describe the file layout rather
// than the data: the writer produces them itself and the reader drops
// them, so they never appear in an Image's Header. BSCALE, BZERO and BLANK
// are applied to the pixels on read; CHECKSUM and DATASUM would be stale.
func isStructuralKey(key string) bool {
	k := strings.ToUpper(key)
	switch k {
	case "SIMPLE", "BITPIX", "NAXIS", "EXTEND", "END", "XTENSION", "PCOUNT", "GCOUNT",
		"BSCALE", "BZERO", "BLANK", "CHECKSUM", "DATASUM", "LONGSTRN", "CONTINUE", "INHERIT":
		return true
	}
	if rest, ok := strings.CutPrefix(k, "NAXIS"); ok {
		if _, err := strconv.Atoi(rest); err == nil {
			return true
		}
	}
	return false
}

func isCommentaryKey(key string) bool {
	return key == "" || key == "COMMENT" || key == "HISTORY"
}

// isStandardKey reports a keyword of 1-8 characters A-Z, 0-9, '-', '_'.
func isStandardKey(key string) bool {
	if key == "" || len(key) > fitsMaxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isFITSText reports whether s is printable ASCII (the FITS header
// character set).
func isFITSText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// appendCards encodes one header card as one or more 80-character cards:
// a standard keyword, a HIERARCH keyword for other names (ESO convention:
// longer names, lower case, spaces, dots), or commentary (COMMENT, HISTORY
// and blank keywords; long text is split over several cards). Long string
// values use the CONTINUE convention. Comments that do not fit are
// truncated.
func appendCards(out []byte, c Card) ([]byte, error) {
	key := c.Key
	if isCommentaryKey(key) {
		if c.Value != nil {
			return nil, fmt.Errorf("commentary card %q cannot have a value (put the text in Comment)", key)
		}
		if !isFITSText(c.Comment) {
			return nil, fmt.Errorf("%s card: text %q is not printable ASCII", commentaryName(key), c.Comment)
		}
		text := c.Comment
		for {
			n := min(len(text), fitsCardLen-8)
			out = appendPadded(out, fmt.Sprintf("%-8s%s", key, text[:n]))
			text = text[n:]
			if text == "" {
				return out, nil
			}
		}
	}
	if !isFITSText(c.Comment) {
		return nil, fmt.Errorf("card %s: comment %q is not printable ASCII", key, c.Comment)
	}
	var prefix string
	switch {
	case isStandardKey(key):
		prefix = fmt.Sprintf("%-8s= ", key)
	case strings.HasPrefix(strings.ToUpper(key), "HIERARCH "):
		return nil, fmt.Errorf("card %q: give HIERARCH keywords without the HIERARCH prefix", key)
	case key != strings.TrimSpace(key) || strings.Contains(key, "=") || strings.Contains(key, "  ") || !isFITSText(key):
		return nil, fmt.Errorf("card %q: not a valid keyword (printable ASCII, no '=', no leading, trailing or double spaces)", key)
	default:
		prefix = "HIERARCH " + key + " = "
	}
	if s, ok := c.Value.(string); ok {
		return appendStringCard(out, key, prefix, s, c.Comment)
	}
	value, err := formatCardValue(c.Value)
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", key, err)
	}
	line := prefix + value
	if isStandardKey(key) {
		line = prefix + fmt.Sprintf("%20s", value) // fixed format: right-justified in columns 11-30
	}
	if len(line) > fitsCardLen {
		return nil, fmt.Errorf("card %s: keyword and value do not fit in %d characters", key, fitsCardLen)
	}
	return appendPadded(out, withComment(line, c.Comment)), nil
}

func commentaryName(key string) string {
	if key == "" {
		return "blank"
	}
	return key
}

// formatCardValue formats a non-string value for the value field.
func formatCardValue(v any) (string, error) {
	switch x := normalizeCardValue(v).(type) {
	case nil:
		return "", nil
	case bool:
		if x {
			return "T", nil
		}
		return "F", nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("value %v cannot be stored in FITS", x)
		}
		s := strconv.FormatFloat(x, 'G', -1, 64)
		if !strings.Contains(s, ".") {
			// Keep a decimal point so that readers see a real number.
			if i := strings.IndexByte(s, 'E'); i >= 0 {
				s = s[:i] + ".0" + s[i:]
			} else {
				s += ".0"
			}
		}
		return s, nil
	}
	return "", fmt.Errorf("value of type %T (want string, int64, float64 or bool)", v)
}

// withComment appends " / comment" to a card line, truncated to fit.
func withComment(line, comment string) string {
	if comment == "" {
		return line
	}
	room := fitsCardLen - len(line) - len(" / ")
	if room <= 0 {
		return line
	}
	return line + " / " + comment[:min(len(comment), room)]
}

// appendStringCard writes a string value, quoting it (” for '), padded to
// at least 8 characters as FITS requires, and continued over CONTINUE
// cards when it does not fit in one.
func appendStringCard(out []byte, key, prefix, s, comment string) ([]byte, error) {
	if !isFITSText(s) {
		return nil, fmt.Errorf("card %s: string %q is not printable ASCII", key, s)
	}
	quoted := quoteFITS(s)
	if len(prefix)+len(quoted) <= fitsCardLen {
		return appendPadded(out, withComment(prefix+quoted, comment)), nil
	}
	if !isStandardKey(key) {
		return nil, fmt.Errorf("card %s: string too long for a HIERARCH card", key)
	}
	// CONTINUE convention: each piece but the last ends with '&'. The first
	// card keeps room for (a possibly truncated) comment.
	commentRoom := 0
	if comment != "" {
		comment = comment[:min(len(comment), 40)]
		commentRoom = len(" / ") + len(comment)
	}
	rest := s
	first := true
	for rest != "" {
		lead := prefix
		if !first {
			lead = "CONTINUE  "
		}
		room := fitsCardLen - len(lead) - len("''")
		if first {
			room -= commentRoom
		}
		piece, n := takeEscaped(rest, room-1) // leave room for '&'
		if n == len(rest) && len(piece) <= room {
			line := lead + "'" + piece + "'"
			if first {
				line = withComment(line, comment)
			}
			out = appendPadded(out, line)
			break
		}
		line := lead + "'" + piece + "&'"
		if first {
			line = withComment(line, comment)
		}
		out = appendPadded(out, line)
		rest = rest[n:]
		first = false
	}
	return out, nil
}

// takeEscaped returns the escaped form of the longest prefix of s whose
// escaped length is at most max, and the prefix's length in s.
func takeEscaped(s string, max int) (string, int) {
	var b strings.Builder
	n := 0
	for n < len(s) {
		w := 1
		if s[n] == '\'' {
			w = 2
		}
		if b.Len()+w > max {
			break
		}
		b.WriteByte(s[n])
		if w == 2 {
			b.WriteByte('\'')
		}
		n++
	}
	return b.String(), n
}

// quoteFITS quotes a string value: ' doubled, padded with spaces to at
// least 8 characters between the quotes.
func quoteFITS(s string) string {
	q := strings.ReplaceAll(s, "'", "''")
	if len(q) < 8 {
		q += strings.Repeat(" ", 8-len(q))
	}
	return "'" + q + "'"
}

// appendPadded appends line padded with spaces to 80 characters.
func appendPadded(out []byte, line string) []byte {
	out = append(out, line...)
	for i := len(line); i < fitsCardLen; i++ {
		out = append(out, ' ')
	}
	return out
}

// encodeHeader encodes the structural cards of a 2-D BITPIX -32 primary
// HDU, then the cards of h (structural keywords skipped), then END, padded
// to whole blocks.
func encodeHeader(width, height int, h Header) ([]byte, error) {
	var out []byte
	for _, c := range []Card{
		{Key: "SIMPLE", Value: true, Comment: "file conforms to FITS standard"},
		{Key: "BITPIX", Value: int64(-32), Comment: "IEEE single precision floating point"},
		{Key: "NAXIS", Value: int64(2), Comment: "number of data axes"},
		{Key: "NAXIS1", Value: int64(width), Comment: "length of data axis 1 (width)"},
		{Key: "NAXIS2", Value: int64(height), Comment: "length of data axis 2 (height)"},
	} {
		var err error
		if out, err = appendCards(out, c); err != nil {
			return nil, err
		}
	}
	if hasLongStrings(h) {
		var err error
		out, err = appendCards(out, Card{Key: "LONGSTRN", Value: "OGIP 1.0", Comment: "CONTINUE convention for long strings"})
		if err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	var errs []error
	for _, c := range h {
		if isStructuralKey(c.Key) {
			continue
		}
		if !isCommentaryKey(c.Key) {
			k := strings.ToUpper(c.Key)
			if seen[k] {
				errs = append(errs, fmt.Errorf("card %s appears twice", c.Key))
				continue
			}
			seen[k] = true
		}
		var err error
		next, err := appendCards(out, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = next
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out = appendPadded(out, "END")
	for len(out)%fitsBlockLen != 0 {
		out = append(out, ' ')
	}
	return out, nil
}

func hasLongStrings(h Header) bool {
	for _, c := range h {
		if s, ok := c.Value.(string); ok && isStandardKey(c.Key) && !isStructuralKey(c.Key) && len(quoteFITS(s)) > fitsCardLen-fitsValueCol {
			return true
		}
	}
	return false
}
