package query

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// row is the resolver used by the evaluation tables.
var row = MapResolver{
	"instrument":                "SPX",
	"visit":                     int64(42),
	"detector":                  int32(7), // normalised to int64
	"exposure.observation_type": "science",
	"exposure.exposure_time":    30.0,
	"exposure.can_see_sky":      true,
	"exposure.day_obs":          uint32(20240101),
	"exposure.timespan_begin":   time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC),
	"exposure.group":            nil, // NULL, as is any missing key
	"huge":                      int64(math.MaxInt64),
	"nan":                       math.NaN(),
}

func TestEval(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"an empty expression is true", "", true},
		{"a matching string equality is true", "instrument = 'SPX'", true},
		{"a different string is not equal", "instrument = 'HSC'", false},
		{"string inequality", "instrument != 'HSC'", true},
		{"strings order byte-wise", "instrument < 'SPY' AND instrument > 'SP'", true},
		{"integer equality", "visit = 42", true},
		{"integer ordering", "visit < 43 AND visit <= 42 AND visit > 41 AND visit >= 42", true},
		{"integer ordering that fails", "visit > 42", false},
		{"integers equal floats with the same value", "visit = 42.0", true},
		{"floats compare with integers numerically", "exposure.exposure_time > 29 AND exposure.exposure_time < 30.5", true},
		{"large integers are not rounded through floats", "huge = 9223372036854775807.0", false},
		{"a large integer below 2^63 as a float", "huge < 9223372036854775808.0", true},
		{"negative literals compare", "visit > -1", true},
		{"other integer kinds from the resolver compare", "detector = 7 AND exposure.day_obs = 20240101", true},
		{"booleans equal", "exposure.can_see_sky = TRUE", true},
		{"booleans differ", "exposure.can_see_sky != FALSE", true},
		{"a bare TRUE", "TRUE", true},
		{"a bare FALSE", "FALSE", false},
		{"time after a date", "exposure.timespan_begin > T'2024-01-01'", true},
		{"time equality", "exposure.timespan_begin = T'2024-01-01 12:00:00'", true},
		{"time before", "exposure.timespan_begin < T'2024-01-01T11:59:59.999'", false},
		{"IN with a matching value", "visit IN (1, 42)", true},
		{"IN with no match", "visit IN (1, 2)", false},
		{"IN with a range that contains the value", "visit IN (40..50)", true},
		{"IN with a stride that skips the value", "visit IN (1..100:2)", false},
		{"IN with a stride that hits the value", "visit IN (0..100:6)", true},
		{"IN with an empty range", "visit IN (50..40)", false},
		{"IN mixing values and ranges", "visit IN (1, 5..9, 42)", true},
		{"an integral float in a range", "exposure.exposure_time IN (25..35:5)", true},
		{"a fractional float is in no range", "2.5 IN (1..3)", false},
		{"NOT IN with a match is false", "visit NOT IN (42)", false},
		{"NOT IN without a match is true", "visit NOT IN (1..10)", true},
		{"IN over strings", "band IN ('g', 'r') OR instrument IN ('SPX', 'HSC')", true},
		{"an empty IN list matches nothing", "visit IN ()", false},
		{"an empty NOT IN list matches everything", "visit NOT IN ()", true},
		{"AND of true terms", "instrument = 'SPX' AND visit = 42", true},
		{"AND with a false term", "instrument = 'SPX' AND visit = 1", false},
		{"OR with one true term", "visit = 1 OR visit = 42", true},
		{"OR of false terms", "visit = 1 OR visit = 2", false},
		{"NOT of true", "NOT visit = 42", false},
		{"NOT of false", "NOT visit = 1", true},
		{"AND binds tighter than OR", "visit = 42 OR visit = 1 AND visit = 2", true},
		{"parentheses change grouping", "(visit = 42 OR visit = 1) AND visit = 2", false},
		{"NOT binds tighter than AND", "NOT visit = 1 AND visit = 42", true},
		{"comparing two identifiers", "visit > detector", true},
		{"comparing two literals", "1 < 2", true},
		{"NULL equals nothing", "exposure.group = 'a'", false},
		{"NULL is not unequal either", "exposure.group != 'a'", false},
		{"NULL is not ordered", "exposure.group < 'a' OR exposure.group >= 'a'", false},
		{"a missing key is NULL", "unknown = 1", false},
		{"NULL IN is false", "exposure.group IN ('a')", false},
		{"NULL NOT IN is false too", "exposure.group NOT IN ('a')", false},
		{"NOT of a NULL comparison is true", "NOT exposure.group = 'a'", true},
		{"NULL against NULL is false", "exposure.group = unknown", false},
		{"NaN is unequal to a number", "nan != 1.0 AND NOT nan = 1.0 AND NOT nan < 1 AND NOT nan >= 1", true},
		{"NaN is unequal to itself", "nan != nan", true},
		{"NaN is in no range", "nan IN (0..10)", false},
		{"a type error in a skipped OR term is not reached", "visit = 42 OR instrument = 1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, nil)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			got, err := e.Eval(row)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Eval(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestEvalTruthTable(t *testing.T) {
	// a = 1 AND NOT (b = 1 OR c = 1), over every combination of a, b, c.
	e := MustParse("a = 1 AND NOT (b = 1 OR c = 1)")
	for _, tc := range []struct {
		name    string
		a, b, c int64
		want    bool
	}{
		{"all zero", 0, 0, 0, false},
		{"only c", 0, 0, 1, false},
		{"only b", 0, 1, 0, false},
		{"b and c", 0, 1, 1, false},
		{"only a", 1, 0, 0, true},
		{"a and c", 1, 0, 1, false},
		{"a and b", 1, 1, 0, false},
		{"all one", 1, 1, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Eval(MapResolver{"a": tc.a, "b": tc.b, "c": tc.c})
			if err != nil || got != tc.want {
				t.Errorf("Eval(a=%d b=%d c=%d) = %v, %v; want %v", tc.a, tc.b, tc.c, got, err, tc.want)
			}
		})
	}
}

type failingResolver struct{}

var errBoom = errors.New("boom")

func (failingResolver) Resolve(Ident) (any, error) { return nil, errBoom }

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		resolver Resolver
		msg      string
	}{
		{"a string compared with an integer names the identifier", "instrument = 1", row,
			"cannot compare instrument (string) with 1 (integer)"},
		{"an integer compared with a string", "visit = 'x'", row,
			"cannot compare visit (integer) with 'x' (string)"},
		{"a time compared with a string", "exposure.timespan_begin > '2024-01-01'", row,
			"cannot compare exposure.timespan_begin (time) with '2024-01-01' (string)"},
		{"two identifiers of different types", "visit = instrument", row,
			"cannot compare visit (integer) with instrument (string)"},
		{"ordering booleans", "exposure.can_see_sky < TRUE", row,
			"booleans support only = and !="},
		{"a wrong type in an IN list", "visit IN (42, 'a')", row,
			"cannot compare visit (integer) with 'a' (string) in the IN list"},
		{"a string against a range", "instrument IN (1..5)", row,
			"cannot compare instrument (string) with the integer range 1..5"},
		{"a resolver error is wrapped", "visit = 1", failingResolver{},
			"resolve visit: boom"},
		{"an unsupported resolved type", "x = 1", MapResolver{"x": []int{1}},
			"resolve x: unsupported value type []int"},
		{"a type error in a reached AND term", "visit = 42 AND instrument = 1", row,
			"cannot compare instrument (string) with 1 (integer)"},
		{"no resolver for an identifier", "visit = 1", nil,
			"no resolver for identifier visit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MustParse(tc.in).Eval(tc.resolver)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Eval(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.msg)
			}
			if got {
				t.Errorf("Eval(%q) returned true with an error", tc.in)
			}
		})
	}
	t.Run("resolver errors can be matched with errors.Is", func(t *testing.T) {
		_, err := MustParse("visit = 1").Eval(failingResolver{})
		if !errors.Is(err, errBoom) {
			t.Errorf("error %v does not wrap the resolver's", err)
		}
	})
}
