package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMissingKeyword is matched (errors.Is) by the errors of Header's typed
// accessors and of Translate when a header lacks a keyword.
var ErrMissingKeyword = errors.New("missing header keyword")

// Card is one keyword record of a FITS header.
type Card struct {
	// Key is the keyword as written, without trailing blanks ("DATE-BEG");
	// for the ESO HIERARCH convention the words after HIERARCH joined by
	// single spaces ("ESO DET CHIP ID").
	Key string
	// Value is string, int64, float64, bool, complex128, or nil for a
	// keyword with an undefined (blank) value or a malformed one.
	Value any
	// Comment is the text after the '/' separator, trimmed.
	Comment string
	// HDU is 0 for the primary header and 1 for a card merged from the first
	// extension's header (see ReadHeader).
	HDU int
	// Malformed holds the raw value text when it could not be parsed (an
	// unterminated string, "1.2.3"); Value is then nil. Translation reports
	// such a card as malformed when a rule needs it.
	Malformed string
}

// Header is the parsed header of a FITS file: its value cards in file order.
// COMMENT, HISTORY, blank-keyword and other commentary cards are dropped;
// CONTINUE cards are folded into the long string they continue. When a
// keyword occurs more than once, lookups see the first occurrence (so
// primary-header values win over merged extension cards).
type Header struct {
	cards []Card
	index map[string]int // upper-case key -> position of its first card
}

// NewHeader returns a header holding cards, in order. It is how tests and
// tools build headers without a file.
func NewHeader(cards ...Card) Header {
	var h Header
	for _, c := range cards {
		h.add(c)
	}
	return h
}

func (h *Header) add(c Card) {
	if h.index == nil {
		h.index = map[string]int{}
	}
	k := normKey(c.Key)
	if _, dup := h.index[k]; !dup {
		h.index[k] = len(h.cards)
	}
	h.cards = append(h.cards, c)
}

// normKey is the form keywords are looked up in: trimmed, upper case.
func normKey(k string) string { return strings.ToUpper(strings.TrimSpace(k)) }

// Len returns the number of cards.
func (h Header) Len() int { return len(h.cards) }

// Cards returns a copy of the cards in file order.
func (h Header) Cards() []Card { return append([]Card(nil), h.cards...) }

// Keys returns the distinct keywords in order of first occurrence.
func (h Header) Keys() []string {
	keys := make([]string, 0, len(h.index))
	for i, c := range h.cards {
		if h.index[normKey(c.Key)] == i {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// Card returns the first card with the keyword key (case-insensitive).
func (h Header) Card(key string) (Card, bool) {
	i, ok := h.index[normKey(key)]
	if !ok {
		return Card{}, false
	}
	return h.cards[i], true
}

// Get returns the value of the first card with the keyword key; ok is false
// when there is no such card. A card with an undefined or malformed value
// returns (nil, true).
func (h Header) Get(key string) (value any, ok bool) {
	c, ok := h.Card(key)
	return c.Value, ok
}

// Has reports whether the header has a card with the keyword key.
func (h Header) Has(key string) bool {
	_, ok := h.Card(key)
	return ok
}

// value returns the defined value of key, or an error naming the keyword
// when it is missing, undefined or malformed.
func (h Header) value(key string) (any, error) {
	c, ok := h.Card(key)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w %s", ErrMissingKeyword, key)
	case c.Malformed != "":
		return nil, fmt.Errorf("header keyword %s: malformed value %s", key, quoteText(c.Malformed))
	case c.Value == nil:
		return nil, fmt.Errorf("%w %s (its value is undefined)", ErrMissingKeyword, key)
	}
	return c.Value, nil
}

// String returns the value of key as a string. Only string values qualify.
func (h Header) String(key string) (string, error) {
	v, err := h.value(key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("header keyword %s: %s is not a string", key, describeValue(v))
	}
	return s, nil
}

// Int returns the value of key as an int64: an integer card, a float with an
// integral value, or a string holding a decimal integer.
func (h Header) Int(key string) (int64, error) {
	v, err := h.value(key)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if i := int64(x); float64(i) == x {
			return i, nil
		}
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("header keyword %s: %s is not an integer", key, describeValue(v))
}

// Float returns the value of key as a float64: a float or integer card, or
// a string holding a number.
func (h Header) Float(key string) (float64, error) {
	v, err := h.value(key)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		if f, ok := parseFITSFloat(strings.TrimSpace(x)); ok {
			return f, nil
		}
	}
	return 0, fmt.Errorf("header keyword %s: %s is not a number", key, describeValue(v))
}

// Bool returns the value of a logical (T/F) card.
func (h Header) Bool(key string) (bool, error) {
	v, err := h.value(key)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("header keyword %s: %s is not a logical (T/F)", key, describeValue(v))
	}
	return b, nil
}

// describeValue formats a header value for an error message:
// "'abc' (string)", "42 (int)".
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return quoteText(x) + " (string)"
	case int64:
		return strconv.FormatInt(x, 10) + " (int)"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64) + " (float)"
	case bool:
		if x {
			return "T (logical)"
		}
		return "F (logical)"
	case nil:
		return "undefined"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// quoteText quotes s FITS-style for messages, shortened to 60 characters.
func quoteText(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
