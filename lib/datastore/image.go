package datastore

import (
	"fmt"
	"math"
	"strings"
)

// Image is a 2-D float32 image with a header: the in-memory type of the
// ImageF and ExposureF storage classes.
type Image struct {
	Width, Height int
	Pixels        []float32 // row-major: pixel (x, y) is Pixels[y*Width+x]; len Width*Height
	Header        Header    // metadata cards, without FITS structural keywords
}

// NewImage returns a zero image of the given size with an empty header.
func NewImage(width, height int) *Image {
	return &Image{Width: width, Height: height, Pixels: make([]float32, width*height)}
}

// At returns pixel (x, y).
func (img *Image) At(x, y int) float32 { return img.Pixels[y*img.Width+x] }

// Set sets pixel (x, y).
func (img *Image) Set(x, y int, v float32) { img.Pixels[y*img.Width+x] = v }

// Validate checks the size against the pixels and the header cards.
func (img *Image) Validate() error {
	if img == nil {
		return fmt.Errorf("image is nil")
	}
	if img.Width < 0 || img.Height < 0 {
		return fmt.Errorf("image size %dx%d is negative", img.Width, img.Height)
	}
	if img.Width > 0 && img.Height > math.MaxInt32/img.Width {
		return fmt.Errorf("image size %dx%d is too large", img.Width, img.Height)
	}
	if len(img.Pixels) != img.Width*img.Height {
		return fmt.Errorf("image is %dx%d but has %d pixels, want %d", img.Width, img.Height, len(img.Pixels), img.Width*img.Height)
	}
	return img.Header.Validate()
}

// Card is one header entry. Value is a string, int64, float64 or bool, or
// nil for commentary cards (COMMENT, HISTORY) and keywords without a value.
type Card struct {
	Key     string
	Value   any
	Comment string
}

// Header is an ordered list of cards; keys are compared case-insensitively.
// COMMENT and HISTORY may repeat; other keys should not (Get and Set use the
// first card with a key).
type Header []Card

// Get returns the value of the first card with key.
func (h Header) Get(key string) (any, bool) {
	if i := h.index(key); i >= 0 {
		return h[i].Value, true
	}
	return nil, false
}

// Card returns the first card with key.
func (h Header) Card(key string) (Card, bool) {
	if i := h.index(key); i >= 0 {
		return h[i], true
	}
	return Card{}, false
}

// String returns a string value; ok is false when key is absent or its
// value is not a string.
func (h Header) String(key string) (string, bool) {
	v, _ := h.Get(key)
	s, ok := v.(string)
	return s, ok
}

// Int returns an int64 value; ok is false when key is absent or its value
// is not an integer.
func (h Header) Int(key string) (int64, bool) {
	v, _ := h.Get(key)
	i, ok := v.(int64)
	return i, ok
}

// Float returns a float64 or int64 value as float64.
func (h Header) Float(key string) (float64, bool) {
	v, _ := h.Get(key)
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// Bool returns a bool value.
func (h Header) Bool(key string) (bool, bool) {
	v, _ := h.Get(key)
	b, ok := v.(bool)
	return b, ok
}

// Set replaces the value and comment of the first card with key, or
// appends a card. Integer and float values of other Go types are stored as
// int64 and float64.
func (h *Header) Set(key string, value any, comment string) {
	value = normalizeCardValue(value)
	if i := h.index(key); i >= 0 {
		(*h)[i].Value, (*h)[i].Comment = value, comment
		return
	}
	*h = append(*h, Card{Key: key, Value: value, Comment: comment})
}

// Delete removes every card with key.
func (h *Header) Delete(key string) {
	out := (*h)[:0]
	for _, c := range *h {
		if !strings.EqualFold(c.Key, key) {
			out = append(out, c)
		}
	}
	*h = out
}

func (h Header) index(key string) int {
	for i, c := range h {
		if strings.EqualFold(c.Key, key) {
			return i
		}
	}
	return -1
}

// Validate checks that every value is one of the card value types.
func (h Header) Validate() error {
	for i, c := range h {
		if c.Key == "" && c.Value != nil {
			return fmt.Errorf("header card %d has a value but no key", i)
		}
		switch v := normalizeCardValue(c.Value).(type) {
		case nil, string, int64, bool:
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("header card %s: value %v cannot be stored", c.Key, v)
			}
		default:
			return fmt.Errorf("header card %s: value of type %T (want string, int64, float64 or bool)", c.Key, c.Value)
		}
	}
	return nil
}

// normalizeCardValue converts other Go integer and float types to int64
// and float64.
func normalizeCardValue(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}
