package query

import (
	"reflect"
	"testing"
	"time"
)

// checkRoundTrip fails t unless String() of e parses (without binds) back to
// an equal Expr whose String() is the same.
func checkRoundTrip(t testing.TB, input string, e *Expr) {
	t.Helper()
	s := e.String()
	again, err := Parse(s, nil)
	if err != nil {
		t.Fatalf("Parse(%q).String() = %q does not parse: %v", input, s, err)
	}
	if !reflect.DeepEqual(again, e) {
		t.Fatalf("Parse(%q) = %#v; its String() %q parses to a different tree %#v", input, e.Root(), s, again.Root())
	}
	if s2 := again.String(); s2 != s {
		t.Fatalf("String() is not stable for %q: %q then %q", input, s, s2)
	}
}

func TestParseCanonicalForm(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"an empty expression prints as nothing", "", ""},
		{"white space alone is an empty expression", " \t\n ", ""},
		{"a simple equality keeps its form", "instrument = 'SPX'", "instrument = 'SPX'"},
		{"spacing is normalised", "visit=1", "visit = 1"},
		{"every comparison operator is kept", "a != 1 AND b < 2 AND c <= 3 AND d > 4 AND e >= 5", "a != 1 AND b < 2 AND c <= 3 AND d > 4 AND e >= 5"},
		{"element.field identifiers are kept", "exposure.observation_type = 'science'", "exposure.observation_type = 'science'"},
		{"keywords are case-insensitive and printed in upper case", "a = 1 and not b = 2 Or c iN (3) AND d nOt In (4)", "a = 1 AND NOT b = 2 OR c IN (3) AND d NOT IN (4)"},
		{"a range in an IN list is kept", "visit IN (1..10)", "visit IN (1..10)"},
		{"a stride of one is dropped", "visit IN (1..10:1)", "visit IN (1..10)"},
		{"a range with a stride keeps the stride", "visit IN (1 .. 10 : 3)", "visit IN (1..10:3)"},
		{"ranges and values mix in one list", "visit IN (1, 5..9, 12)", "visit IN (1, 5..9, 12)"},
		{"negative range bounds are allowed", "detector IN (-5..-1)", "detector IN (-5..-1)"},
		{"an empty IN list is allowed", "visit IN ()", "visit IN ()"},
		{"double-quoted strings print single-quoted", `band = "g"`, "band = 'g'"},
		{"a doubled quote is one quote character", `name = 'Barnard''s' AND b = "say ""hi"""`, `name = 'Barnard''s' AND b = 'say "hi"'`},
		{"unary minus applies to integers", "a = - 5", "a = -5"},
		{"unary minus applies to floats", "a = -1.5e3", "a = -1500.0"},
		{"the smallest integer parses", "a = -9223372036854775808", "a = -9223372036854775808"},
		{"a float without fraction digits stays a float", "a = 2.", "a = 2.0"},
		{"a float can start with a dot", "a = .25", "a = 0.25"},
		{"large floats print with an exponent", "a = 1e21", "a = 1e+21"},
		{"a date-only time literal means midnight UTC", "t > T'2024-01-01'", "t > T'2024-01-01T00:00:00'"},
		{"a space may separate date and time", "t > T'2024-01-01 12:00:00'", "t > T'2024-01-01T12:00:00'"},
		{"seconds may be left out", "t > T'2024-01-01T12:30'", "t > T'2024-01-01T12:30:00'"},
		{"fractional seconds are kept", "t > T'2024-01-01T12:00:00.250Z'", "t > T'2024-01-01T12:00:00.25'"},
		{"a time literal may use double quotes", `t > T"2024-01-01"`, "t > T'2024-01-01T00:00:00'"},
		{"boolean literals compare", "exposure.can_see_sky = true", "exposure.can_see_sky = TRUE"},
		{"a bare boolean is a condition", "false", "FALSE"},
		{"literals may be on the left", "5 < visit", "5 < visit"},
		{"AND binds tighter than OR", "a = 1 OR b = 2 AND c = 3", "a = 1 OR b = 2 AND c = 3"},
		{"redundant parentheses are dropped", "((a = 1)) AND ((b = 2 AND c = 3))", "a = 1 AND b = 2 AND c = 3"},
		{"an OR inside an AND keeps its parentheses", "(a = 1 OR b = 2) AND c = 3", "(a = 1 OR b = 2) AND c = 3"},
		{"an AND inside an OR needs none", "(a = 1 AND b = 2) OR c = 3", "a = 1 AND b = 2 OR c = 3"},
		{"NOT of a group keeps the parentheses", "NOT (a = 1 OR b = 2)", "NOT (a = 1 OR b = 2)"},
		{"NOT binds tighter than AND", "NOT a = 1 AND b = 2", "NOT a = 1 AND b = 2"},
		{"double negation is kept", "NOT NOT a = 1", "NOT NOT a = 1"},
		{"keywords may be fields", "exposure.in = 1", "exposure.in = 1"},
		{"a lone T is an identifier", "T = 1", "T = 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, nil)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
			}
			checkRoundTrip(t, tc.in, e)
		})
	}
}

func TestParseTree(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Node
	}{
		{"a name is an Ident with no field", "visit = 1",
			&Compare{Left: Ident{Element: "visit"}, Op: Eq, Right: Literal{Value: int64(1)}}},
		{"a dotted name splits into element and field", "exposure.obs_id != 'x'",
			&Compare{Left: Ident{Element: "exposure", Field: "obs_id"}, Op: Ne, Right: Literal{Value: "x"}}},
		{"an IN list holds literals and ranges", "visit NOT IN (1, 3..9:2, 'a')",
			&In{Left: Ident{Element: "visit"}, Not: true, Items: []Item{
				Literal{Value: int64(1)}, Range{Start: 3, Stop: 9, Stride: 2}, Literal{Value: "a"}}}},
		{"numbers with a dot or exponent are floats", "a = 1e2",
			&Compare{Left: Ident{Element: "a"}, Op: Eq, Right: Literal{Value: 100.0}}},
		{"time literals are UTC times", "t = T'2024-02-29 01:02:03'",
			&Compare{Left: Ident{Element: "t"}, Op: Eq, Right: Literal{Value: time.Date(2024, 2, 29, 1, 2, 3, 0, time.UTC)}}},
		{"nested ANDs flatten", "a = 1 AND (b = 2 AND c = 3)",
			&And{Terms: []Node{
				&Compare{Left: Ident{Element: "a"}, Op: Eq, Right: Literal{Value: int64(1)}},
				&Compare{Left: Ident{Element: "b"}, Op: Eq, Right: Literal{Value: int64(2)}},
				&Compare{Left: Ident{Element: "c"}, Op: Eq, Right: Literal{Value: int64(3)}},
			}}},
		{"NOT applies to the comparison after it", "NOT a = 1 OR TRUE",
			&Or{Terms: []Node{
				&Not{Term: &Compare{Left: Ident{Element: "a"}, Op: Eq, Right: Literal{Value: int64(1)}}},
				&Bool{Value: true},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, nil)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(e.Root(), tc.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tc.in, e.Root(), tc.want)
			}
		})
	}
}

func TestParseBind(t *testing.T) {
	type visitID int32
	when := time.Date(2024, 5, 6, 7, 8, 9, 500, time.FixedZone("X", 3600))
	bind := map[string]any{
		"inst":      "SPX",
		"n":         7,
		"u":         uint16(9),
		"ratio":     float32(0.5),
		"flag":      true,
		"when":      when,
		"visits":    []int{1, 2, 3},
		"ids":       []visitID{10, 11},
		"none":      []string{},
		"mixed":     []any{1, "a", 2.5},
		"arr":       [2]int64{4, 5},
		"visit":     42, // bind takes precedence over the dimension name
		"exp.field": "dotted",
	}
	tests := []struct {
		name, in, want string
	}{
		{"a bound string replaces the name", "instrument = inst", "instrument = 'SPX'"},
		{"bound Go integer kinds become integers", "a = n AND b = u", "a = 7 AND b = 9"},
		{"a bound float32 becomes a float", "a = ratio", "a = 0.5"},
		{"a bound bool alone is a condition", "flag", "TRUE"},
		{"a bound time is converted to UTC", "t > when", "t > T'2024-05-06T06:08:09.0000005'"},
		{"a bound slice expands inside IN", "visit_x IN (visits)", "visit_x IN (1, 2, 3)"},
		{"a slice of a named integer type expands", "v IN (ids)", "v IN (10, 11)"},
		{"a bound slice mixes with other entries", "v IN (0, visits, 8..9)", "v IN (0, 1, 2, 3, 8..9)"},
		{"an empty bound slice leaves an empty list", "v IN (none)", "v IN ()"},
		{"a slice of any keeps each element's type", "v IN (mixed)", "v IN (1, 'a', 2.5)"},
		{"arrays expand like slices", "v IN (arr)", "v IN (4, 5)"},
		{"bind takes precedence over a dimension name", "visit = 42", "42 = 42"},
		{"a dotted name can be bound", "x = exp.field", "x = 'dotted'"},
		{"a scalar inside IN is one entry", "v IN (n)", "v IN (7)"},
		{"unbound names stay identifiers", "other = n", "other = 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, bind)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
			}
			checkRoundTrip(t, tc.in, e)
		})
	}
}

func TestIsTrue(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"an empty expression is true", "", true},
		{"a blank expression is true", "   ", true},
		{"the literal TRUE is true", "TRUE", true},
		{"a comparison is not trivially true", "visit = 1", false},
		{"FALSE is not true", "FALSE", false},
		{"TRUE inside a group of terms does not count", "TRUE AND a = 1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MustParse(tc.in).IsTrue(); got != tc.want {
				t.Errorf("Parse(%q).IsTrue() = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	t.Run("a nil Expr is true and empty", func(t *testing.T) {
		var e *Expr
		if !e.IsTrue() || e.String() != "" || e.Identifiers() != nil {
			t.Error("nil *Expr should behave as the empty expression")
		}
		if ok, err := e.Eval(nil); !ok || err != nil {
			t.Errorf("nil *Expr Eval = %v, %v; want true, nil", ok, err)
		}
	})
}

func TestIdentifiers(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Ident
	}{
		{"an empty expression has none", "", nil},
		{"identifiers come in first-appearance order without repeats",
			"visit = 1 AND (exposure.obs_id = 'x' OR visit IN (2)) AND NOT 3 < detector AND exposure.obs_id != 'y'",
			[]Ident{{"visit", ""}, {"exposure", "obs_id"}, {"detector", ""}}},
		{"both sides of a comparison count", "a < b", []Ident{{"a", ""}, {"b", ""}}},
		{"bound names are not identifiers", "a = n", []Ident{{"a", ""}}},
		{"literal-only conditions have none", "1 = 1 OR TRUE", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, map[string]any{"n": 1})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Identifiers(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Identifiers(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
