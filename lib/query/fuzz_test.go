package query

import (
	"errors"
	"hash/fnv"
	"strings"
	"testing"
	"time"
)

// fuzzBind gives the fuzzer bound names of every kind to hit.
var fuzzBind = map[string]any{
	"bi":   int64(3),
	"bf":   2.5,
	"bs":   "it's",
	"bt":   time.Date(2024, 1, 1, 0, 0, 0, 1, time.UTC),
	"bok":  true,
	"bxs":  []int{1, 2, 3},
	"bnil": nil,
	"b.l":  []string{},
}

// fuzzResolver gives every identifier a value of a type chosen by its name,
// NULL included.
type fuzzResolver struct{}

func (fuzzResolver) Resolve(id Ident) (any, error) {
	h := fnv.New32a()
	h.Write([]byte(id.String()))
	switch h.Sum32() % 6 {
	case 0:
		return int64(5), nil
	case 1:
		return 5.5, nil
	case 2:
		return "5", nil
	case 3:
		return true, nil
	case 4:
		return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	return nil, nil
}

// FuzzParse checks that any input either parses to an Expr whose String()
// round-trips, or fails with a well-formed SyntaxError; never a panic. The
// seed corpus is testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in, fuzzBind)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("Parse(%q) error %v is a %T, want *SyntaxError", in, err, err)
			}
			if se.Pos < 0 || se.Pos > len(in) {
				t.Fatalf("Parse(%q) error position %d is outside 0..%d", in, se.Pos, len(in))
			}
			atEnd := se.Token == endOfInput && se.Pos == len(in)
			if !atEnd && (se.Token == "" || !strings.HasPrefix(in[se.Pos:], se.Token)) {
				t.Fatalf("Parse(%q) error token %q is not the input at position %d", in, se.Token, se.Pos)
			}
			if se.Msg == "" || se.Error() == "" {
				t.Fatalf("Parse(%q) error has no message", in)
			}
			return
		}
		checkRoundTrip(t, in, e)
		e.Identifiers()
		e.EqualityConstraints()
		if _, err := e.Eval(fuzzResolver{}); err != nil && errors.As(err, new(*SyntaxError)) {
			t.Fatalf("Eval(%q) returned a syntax error: %v", in, err)
		}
	})
}
