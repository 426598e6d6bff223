package ingest

import (
	"math"
	"testing"
)

func TestParseCard(t *testing.T) {
	for _, tc := range []struct {
		name      string
		line      string
		kind      cardKind
		key       string
		value     any
		comment   string
		malformed string
	}{
		{"a fixed-format string keeps leading blanks and drops trailing ones",
			kv("OBJECT", "'  M31     '         / the target"), kindValue, "OBJECT", "  M31", "the target", ""},
		{"two quotes in a string are one quote",
			kv("OBSERVER", "'O''Brien' / who"), kindValue, "OBSERVER", "O'Brien", "who", ""},
		{"a slash inside a string is not a comment",
			kv("PATH", "'a/b/c'"), kindValue, "PATH", "a/b/c", "", ""},
		{"an empty string is empty", kv("EMPTY", "''"), kindValue, "EMPTY", "", "", ""},
		{"a blank string is empty", kv("BLANK", "'    '"), kindValue, "BLANK", "", "", ""},
		{"T is true", kv("SIMPLE", "                   T / conforms"), kindValue, "SIMPLE", true, "conforms", ""},
		{"F is false", kv("EXTEND", "F"), kindValue, "EXTEND", false, "", ""},
		{"an integer is an int64", kv("NAXIS1", "                2048"), kindValue, "NAXIS1", int64(2048), "", ""},
		{"a signed integer is an int64", kv("BZERO", "-32768"), kindValue, "BZERO", int64(-32768), "", ""},
		{"a 13-digit exposure id fits an int64", kv("EXPID", "2026030100001"), kindValue, "EXPID", int64(2026030100001), "", ""},
		{"a real is a float64", kv("EXPTIME", "             112.000 / [s]"), kindValue, "EXPTIME", 112.0, "[s]", ""},
		{"a D exponent is read like E", kv("CDELT1", "-1.7222D-03"), kindValue, "CDELT1", -1.7222e-3, "", ""},
		{"a lower-case exponent is accepted", kv("X", "2.5e2"), kindValue, "X", 250.0, "", ""},
		{"a real may start with a point", kv("X", ".5"), kindValue, "X", 0.5, "", ""},
		{"a real may end with a point", kv("X", "5."), kindValue, "X", 5.0, "", ""},
		{"a complex value is complex128", kv("Z", "(1.5, -2)"), kindValue, "Z", complex(1.5, -2), "", ""},
		{"a blank value is undefined", kv("UNDEF", "                     / nothing here"), kindValue, "UNDEF", nil, "nothing here", ""},
		{"an unterminated string is malformed", kv("BAD", "'no end"), kindValue, "BAD", nil, "", "'no end"},
		{"text after a string is malformed", kv("BAD", "'abc' xyz"), kindValue, "BAD", nil, "", "'abc' xyz"},
		{"two numbers are malformed", kv("BAD", "1 2 / c"), kindValue, "BAD", nil, "c", "1 2"},
		{"Go's NaN is not a FITS number", kv("BAD", "NaN"), kindValue, "BAD", nil, "", "NaN"},
		{"Go's hex floats are not FITS numbers", kv("BAD", "0x1p-2"), kindValue, "BAD", nil, "", "0x1p-2"},
		{"an integer beyond int64 is malformed", kv("BIG", "99999999999999999999"), kindValue, "BIG", nil, "", "99999999999999999999"},
		{"HIERARCH keywords are the words before =", card("HIERARCH ESO DET  CHIP ID = 'ccd42' / chip"), kindValue, "ESO DET CHIP ID", "ccd42", "chip", ""},
		{"COMMENT is commentary", card("COMMENT   this = not a value"), kindCommentary, "", nil, "", ""},
		{"HISTORY is commentary", card("HISTORY created by synth"), kindCommentary, "", nil, "", ""},
		{"a blank keyword is commentary", card("        just text"), kindCommentary, "", nil, "", ""},
		{"a keyword without = is commentary", card("NOVALUE  'abc'"), kindCommentary, "", nil, "", ""},
		{"CONTINUE carries a string", card("CONTINUE  'more&'"), kindContinue, "CONTINUE", "more&", "", ""},
		{"END ends the header", card("END"), kindEnd, "END", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, kind, err := parseCard([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			if kind != tc.kind || c.Key != tc.key || c.Comment != tc.comment || c.Malformed != tc.malformed {
				t.Fatalf("got kind %d %+v, want kind %d key %q comment %q malformed %q", kind, c, tc.kind, tc.key, tc.comment, tc.malformed)
			}
			if f, ok := tc.value.(float64); ok {
				if g, ok := c.Value.(float64); !ok || math.Abs(g-f) > 1e-12*math.Abs(f) {
					t.Fatalf("value = %#v, want %v", c.Value, f)
				}
			} else if c.Value != tc.value {
				t.Fatalf("value = %#v (%T), want %#v (%T)", c.Value, c.Value, tc.value, tc.value)
			}
		})
	}
}

func TestParseCardRejectsNonASCII(t *testing.T) {
	line := []byte(kv("OBJECT", "'caf\xc3\xa9'"))
	if _, _, err := parseCard(line); err == nil {
		t.Fatal("want an error for a non-ASCII byte")
	}
	line = []byte(kv("OBJECT", "'tab\there'"))
	if _, _, err := parseCard(line); err == nil {
		t.Fatal("want an error for a control character")
	}
}
