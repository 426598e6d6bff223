package query

import (
	"reflect"
	"testing"
	"time"
)

func TestEqualityConstraints(t *testing.T) {
	visit := Ident{Element: "visit"}
	inst := Ident{Element: "instrument"}
	obsType := Ident{Element: "exposure", Field: "observation_type"}
	tests := []struct {
		name string
		in   string
		bind map[string]any
		want map[Ident][]any
	}{
		{"an empty expression constrains nothing", "", nil, map[Ident][]any{}},
		{"a single equality", "visit = 42", nil, map[Ident][]any{visit: {int64(42)}}},
		{"an equality with the literal first", "'SPX' = instrument", nil, map[Ident][]any{inst: {"SPX"}}},
		{"top-level AND terms each count",
			"instrument = 'SPX' AND visit IN (1, 3..7:2) AND exposure.observation_type = 'science'", nil,
			map[Ident][]any{inst: {"SPX"}, visit: {int64(1), int64(3), int64(5), int64(7)}, obsType: {"science"}}},
		{"parenthesised ANDs are top-level too", "(visit = 1 AND (instrument = 'SPX'))", nil,
			map[Ident][]any{visit: {int64(1)}, inst: {"SPX"}}},
		{"terms under OR do not count", "visit = 1 OR visit = 2", nil, map[Ident][]any{}},
		{"an OR term beside others is skipped", "instrument = 'SPX' AND (visit = 1 OR visit = 2)", nil,
			map[Ident][]any{inst: {"SPX"}}},
		{"terms under NOT do not count", "NOT visit = 1 AND NOT (instrument = 'SPX')", nil, map[Ident][]any{}},
		{"NOT IN does not count", "visit NOT IN (1, 2)", nil, map[Ident][]any{}},
		{"other operators do not count", "visit > 1 AND visit != 3", nil, map[Ident][]any{}},
		{"identifier to identifier does not count", "visit = detector", nil, map[Ident][]any{}},
		{"several terms intersect", "visit IN (1..10) AND visit IN (5, 7, 11, 5) AND visit != 7", nil,
			map[Ident][]any{visit: {int64(5), int64(7)}}},
		{"the smallest term gives the order", "visit IN (1..100) AND visit IN (9, 3)", nil,
			map[Ident][]any{visit: {int64(9), int64(3)}}},
		{"contradicting terms give an empty list", "visit = 1 AND visit = 2", nil,
			map[Ident][]any{visit: {}}},
		{"an empty IN list gives an empty list", "visit IN ()", nil, map[Ident][]any{visit: {}}},
		{"duplicates are removed", "visit IN (1, 1..3, 2.0)", nil,
			map[Ident][]any{visit: {int64(1), int64(2), int64(3)}}},
		{"integers and equal floats intersect", "visit = 3.0 AND visit IN (1..5)", nil,
			map[Ident][]any{visit: {3.0}}},
		{"a fractional float is in no range", "visit = 2.5 AND visit IN (1..5)", nil,
			map[Ident][]any{visit: {}}},
		{"times intersect by instant", "t IN (T'2024-01-01', T'2024-01-02') AND t = tb", map[string]any{
			"tb": time.Date(2024, 1, 2, 1, 0, 0, 0, time.FixedZone("X", 3600))},
			map[Ident][]any{{Element: "t"}: {time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}}},
		{"bound lists are constraints", "visit IN (vs)", map[string]any{"vs": []int{4, 2}},
			map[Ident][]any{visit: {int64(4), int64(2)}}},
		{"a huge range alone is not expanded", "visit IN (1..1000000)", nil, map[Ident][]any{visit: nil}},
		{"a range at the cap is expanded", "visit IN (1..200000:2)", nil, nil}, // checked below
		{"a huge range filters a small set", "visit IN (0..1000000000:2) AND visit IN (3, 4, 6)", nil,
			map[Ident][]any{visit: {int64(4), int64(6)}}},
		{"a range over all int64 is handled", "visit IN (-9223372036854775808..9223372036854775807)", nil,
			map[Ident][]any{visit: nil}},
		{"a lone non-equality term constrains nothing", "visit < 3", nil, map[Ident][]any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, tc.bind)
			if err != nil {
				t.Fatal(err)
			}
			got := e.EqualityConstraints()
			if tc.want == nil { // the cap case
				n := len(got[visit])
				if n != MaxConstraintValues {
					t.Fatalf("got %d values, want %d", n, MaxConstraintValues)
				}
				if got[visit][0] != int64(1) || got[visit][n-1] != int64(199999) {
					t.Errorf("range expanded to %v ... %v", got[visit][0], got[visit][n-1])
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("EqualityConstraints(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
