package qgraph

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// valueDict dictionary-encodes the values of one dimension: every key
// value the registry has a record for gets a dense code, in value order
// (ints numerically, strings lexicographically), so comparing codes
// compares values.
type valueDict struct {
	ints map[int64]int32
	strs map[string]int32
	vals []any
}

// newValueDict encodes the distinct values of vals (int64 or string).
func newValueDict(vals []any) *valueDict {
	d := &valueDict{}
	var ints []int64
	var strs []string
	for _, v := range vals {
		switch x := v.(type) {
		case int64:
			ints = append(ints, x)
		case string:
			strs = append(strs, x)
		}
	}
	slices.Sort(ints)
	ints = slices.Compact(ints)
	slices.Sort(strs)
	strs = slices.Compact(strs)
	d.ints = make(map[int64]int32, len(ints))
	d.strs = make(map[string]int32, len(strs))
	for _, x := range ints {
		d.ints[x] = int32(len(d.vals))
		d.vals = append(d.vals, x)
	}
	for _, x := range strs {
		d.strs[x] = int32(len(d.vals))
		d.vals = append(d.vals, x)
	}
	return d
}

// code returns the code of v (false when v is not a known value).
func (d *valueDict) code(v any) (int32, bool) {
	switch x := v.(type) {
	case int64:
		c, ok := d.ints[x]
		return c, ok
	case string:
		c, ok := d.strs[x]
		return c, ok
	case int:
		c, ok := d.ints[int64(x)]
		return c, ok
	}
	return 0, false
}

// dimSpace is the set D of required dimensions a graph's data IDs live in,
// with one dictionary per dimension. A data ID over any subset of D is one
// uint64: the codes of its dimensions packed at fixed bit offsets, so
// projecting a data ID onto fewer dimensions is a bitwise AND with the
// mask of those dimensions, and a hash or array index on data IDs needs no
// allocation. Earlier dimensions of the universe take higher bits, so
// sorting keys sorts data IDs in universe order.
type dimSpace struct {
	u     *dimensions.Universe
	names []string // D, universe order
	pos   map[string]int
	dicts []*valueDict
	shift []uint
	width []uint
	total uint // bits used
}

func newDimSpace(u *dimensions.Universe, names []string, dicts []*valueDict) (*dimSpace, error) {
	s := &dimSpace{u: u, names: names, pos: map[string]int{}, dicts: dicts,
		shift: make([]uint, len(names)), width: make([]uint, len(names))}
	for i, n := range names {
		s.pos[n] = i
		card := len(dicts[i].vals)
		if card > 1 {
			s.width[i] = uint(bits.Len(uint(card - 1)))
		}
		s.total += s.width[i]
	}
	if s.total > 64 {
		return nil, fmt.Errorf("data IDs over %v need %d bits; at most 64 are supported", names, s.total)
	}
	at := s.total
	for i := range names {
		at -= s.width[i]
		s.shift[i] = at
	}
	return s, nil
}

// mask returns the bits of the named dimensions (which must be in D).
func (s *dimSpace) mask(dims []string) uint64 {
	var m uint64
	for _, d := range dims {
		i := s.pos[d]
		m |= ((uint64(1) << s.width[i]) - 1) << s.shift[i]
	}
	return m
}

// has reports whether every dimension of dims is in D.
func (s *dimSpace) has(dims []string) bool {
	for _, d := range dims {
		if _, ok := s.pos[d]; !ok {
			return false
		}
	}
	return true
}

// code returns the packed contribution of value v of dimension i.
func (s *dimSpace) code(i int, v any) (uint64, bool) {
	c, ok := s.dicts[i].code(v)
	if !ok {
		return 0, false
	}
	return uint64(c) << s.shift[i], true
}

// value decodes dimension i of key.
func (s *dimSpace) value(key uint64, i int) any {
	c := (key >> s.shift[i]) & ((uint64(1) << s.width[i]) - 1)
	return s.dicts[i].vals[c]
}

// bitsOf returns how many bits the keys under mask span (for sizing a
// dense index).
func bitsOf(mask uint64) uint {
	if mask == 0 {
		return 0
	}
	return uint(64 - bits.LeadingZeros64(mask))
}

// keyIndex maps packed keys to int32 values: a dense array when the keys
// span few bits, a map otherwise.
type keyIndex struct {
	dense []int32 // value+1; 0 = absent
	m     map[uint64]int32
	n     int
}

const maxDenseBits = 24

func newKeyIndex(mask uint64, sizeHint int) *keyIndex {
	b := bitsOf(mask)
	if b <= maxDenseBits && (uint64(1)<<b) <= uint64(max(16*sizeHint, 1<<16)) {
		return &keyIndex{dense: make([]int32, uint64(1)<<b)}
	}
	return &keyIndex{m: make(map[uint64]int32, sizeHint)}
}

func (x *keyIndex) get(k uint64) (int32, bool) {
	if x.dense != nil {
		v := x.dense[k]
		return v - 1, v != 0
	}
	v, ok := x.m[k]
	return v, ok
}

// put sets k to v.
func (x *keyIndex) put(k uint64, v int32) {
	if x.dense != nil {
		if x.dense[k] == 0 {
			x.n++
		}
		x.dense[k] = v + 1
		return
	}
	if _, ok := x.m[k]; !ok {
		x.n++
	}
	x.m[k] = v
}

// getOrPut returns the value of k, setting it to v first when absent.
func (x *keyIndex) getOrPut(k uint64, v int32) (int32, bool) {
	if old, ok := x.get(k); ok {
		return old, false
	}
	x.put(k, v)
	return v, true
}

func (x *keyIndex) len() int { return x.n }

// kv is one dimension value of an expanded data ID.
type kv struct {
	name string
	val  any
}

// appendJSONValue appends a data ID value as JSON.
func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10)
	case string:
		return appendJSONString(b, x)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return appendJSONString(b, x.UTC().Format(time.RFC3339Nano))
	case nil:
		return append(b, "null"...)
	}
	return appendJSONString(b, fmt.Sprint(v))
}

const hexDigits = "0123456789abcdef"

// appendJSONStringBytes appends the JSON string of p followed by suffix.
func appendJSONStringBytes(b, p []byte, suffix string) []byte {
	for _, c := range p {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return appendJSONString(b, string(p)+suffix)
		}
	}
	for i := 0; i < len(suffix); i++ {
		if c := suffix[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return appendJSONString(b, string(p)+suffix)
		}
	}
	b = append(b, '"')
	b = append(b, p...)
	b = append(b, suffix...)
	return append(b, '"')
}

// appendJSONString appends s as a JSON string (invalid UTF-8 is replaced,
// as encoding/json does).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0xFFFD && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
