package ingest

import (
	"fmt"
	"strconv"
	"strings"
)

// CardSize is the length of one FITS header card (keyword record).
const CardSize = 80

type cardKind int

const (
	kindValue      cardKind = iota // KEYWORD = value / comment
	kindCommentary                 // COMMENT, HISTORY, blank keyword, keyword without "= "
	kindContinue                   // CONTINUE 'more of a long string&'
	kindEnd                        // END
)

// parseCard parses one 80-byte card. It fails only on bytes a FITS header
// may not contain (outside printable ASCII); a value it cannot parse is
// returned in Card.Malformed.
func parseCard(line []byte) (Card, cardKind, error) {
	for i, b := range line {
		if b < 0x20 || b > 0x7e {
			return Card{}, 0, fmt.Errorf("byte 0x%02x in column %d is not printable ASCII", b, i+1)
		}
	}
	text := string(line)
	key := strings.TrimSpace(text[:8])
	switch key {
	case "END":
		return Card{Key: key}, kindEnd, nil
	case "", "COMMENT", "HISTORY":
		return Card{}, kindCommentary, nil
	case "CONTINUE":
		c := Card{Key: key}
		c.Value, c.Comment, c.Malformed = parseValue(text[8:])
		return c, kindContinue, nil
	case "HIERARCH":
		rest := text[8:]
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return Card{}, kindCommentary, nil
		}
		c := Card{Key: strings.Join(strings.Fields(rest[:eq]), " ")}
		if c.Key == "" {
			return Card{}, kindCommentary, nil
		}
		c.Value, c.Comment, c.Malformed = parseValue(rest[eq+1:])
		return c, kindValue, nil
	}
	if text[8] != '=' {
		return Card{}, kindCommentary, nil
	}
	c := Card{Key: key}
	c.Value, c.Comment, c.Malformed = parseValue(text[9:])
	return c, kindValue, nil
}

// parseValue parses the value field of a card (after "= "): a quoted string
// (a doubled quote is a quote; trailing blanks are insignificant), T or F, an
// integer, a float (E or D exponent), a complex number "(re, im)", or
// nothing (an undefined value). The optional comment follows a '/'. When
// the value cannot be parsed, malformed holds its text and value is nil.
func parseValue(s string) (value any, comment, malformed string) {
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return nil, "", ""
	}
	if s[0] == '\'' {
		var b strings.Builder
		i := 1
		for {
			j := strings.IndexByte(s[i:], '\'')
			if j < 0 {
				return nil, "", strings.TrimRight(s, " ")
			}
			b.WriteString(s[i : i+j])
			i += j + 1
			if i < len(s) && s[i] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			break
		}
		rest := strings.TrimLeft(s[i:], " ")
		switch {
		case rest == "":
		case rest[0] == '/':
			comment = strings.TrimSpace(rest[1:])
		default:
			return nil, "", strings.TrimRight(s, " ")
		}
		return strings.TrimRight(b.String(), " "), comment, ""
	}
	tok := s
	if slash := strings.IndexByte(s, '/'); slash >= 0 {
		tok, comment = s[:slash], strings.TrimSpace(s[slash+1:])
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return nil, comment, ""
	}
	if v, ok := parseScalar(tok); ok {
		return v, comment, ""
	}
	return nil, comment, tok
}

// parseScalar parses a non-string value token.
func parseScalar(tok string) (any, bool) {
	switch tok {
	case "T":
		return true, true
	case "F":
		return false, true
	}
	if isFITSInt(tok) {
		i, err := strconv.ParseInt(tok, 10, 64)
		return i, err == nil
	}
	if f, ok := parseFITSFloat(tok); ok {
		return f, true
	}
	if tok[0] == '(' && tok[len(tok)-1] == ')' {
		re, im, ok := strings.Cut(tok[1:len(tok)-1], ",")
		if !ok {
			return nil, false
		}
		r, ok1 := parseFITSFloat(strings.TrimSpace(re))
		i, ok2 := parseFITSFloat(strings.TrimSpace(im))
		if ok1 && ok2 {
			return complex(r, i), true
		}
	}
	return nil, false
}

// isFITSInt reports whether s is [+-]digits.
func isFITSInt(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseFITSFloat parses a FITS real: [+-] (digits [. digits] | . digits)
// [(E|D) [+-] digits], exponent letter in either case. Go's extras (Inf,
// NaN, hex, underscores) are rejected.
func parseFITSFloat(s string) (float64, bool) {
	i, n := 0, len(s)
	if i < n && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < n && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	mantissa := i
	if i < n && strings.IndexByte("EeDd", s[i]) >= 0 {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != n {
		return 0, false
	}
	norm := s
	if mantissa < n {
		norm = s[:mantissa] + "e" + s[mantissa+1:]
	}
	f, err := strconv.ParseFloat(norm, 64)
	if err != nil {
		return 0, false // out of range
	}
	return f, true
}
