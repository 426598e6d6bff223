package query

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSyntaxErrors(t *testing.T) {
	bind := map[string]any{
		"xs":   []int{1, 2},
		"n":    3,
		"bad":  map[string]int{},
		"nan":  math.NaN(),
		"big":  uint64(math.MaxUint64),
		"raw":  []byte("abc"),
		"nil":  nil,
		"far":  time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"list": []any{1, struct{}{}},
	}
	tests := []struct {
		name  string
		in    string
		pos   int
		token string
		msg   string // a substring of Msg
	}{
		{"a comparison without a right side", "visit =", 7, "end of input", "expected a value"},
		{"a range without an end", "visit IN (1..)", 13, ")", "expected an integer after '..'"},
		{"an unterminated string", "a = 'unterminated", 4, "'unterminated", "unterminated string literal"},
		{"an unterminated double-quoted string", `a = "x`, 4, `"x`, "unterminated string literal"},
		{"an unterminated time literal", "a = T'2024", 4, "T'2024", "unterminated time literal"},
		{"an unclosed parenthesis", "(a = 1", 6, "end of input", "missing ')' to close '(' at position 0"},
		{"a doubled equals sign", "a == 1", 2, "==", "use '=' for equality"},
		{"a range outside an IN list", "1..2", 1, "..", "ranges are only allowed inside IN"},
		{"a range as a comparison value", "visit = 1..5", 9, "..", "ranges are only allowed inside IN"},
		{"a leading AND", "AND a = 1", 0, "AND", "expected an expression"},
		{"a trailing AND", "a = 1 AND", 9, "end of input", "expected an expression"},
		{"two conditions without AND or OR", "a = 1 b = 2", 6, "b", "expected AND, OR or end of input"},
		{"a chained comparison", "a = 1 = 2", 6, "=", "comparisons cannot be chained"},
		{"an unmatched closing parenthesis", "a = 1)", 5, ")", "unmatched ')'"},
		{"an empty pair of parentheses", "()", 1, ")", "expected an expression"},
		{"junk inside parentheses", "(a = 1 b)", 7, "b", "expected AND, OR or ')'"},
		{"a name with no comparison", "visit", 5, "end of input", "expected a comparison operator or IN after visit"},
		{"a number with no comparison", "42 AND a = 1", 3, "AND", "expected a comparison operator or IN after 42"},
		{"NOT without IN after a value", "visit NOT = 1", 10, "=", "expected IN after NOT"},
		{"IN without parentheses", "visit IN 1", 9, "1", "expected '(' after IN"},
		{"an unclosed IN list", "visit IN (1, 2", 14, "end of input", "missing ')' to close the IN list at position 9"},
		{"a trailing comma in an IN list", "visit IN (1,)", 12, ")", "expected a value"},
		{"IN list entries without a comma", "visit IN (1 2)", 12, "2", "expected ',' or ')'"},
		{"an unbound name in an IN list", "visit IN (a)", 10, "a", `"a" is not a bound name`},
		{"a float range bound", "visit IN (1.5..3)", 10, "1.5", "range bounds must be integers"},
		{"a negative float range bound", "visit IN (- 1.5..3)", 10, "- 1.5", "range bounds must be integers"},
		{"a negative number with no comparison", "-1", 2, "end of input", "expected a comparison operator or IN after -1"},
		{"a string range end", "visit IN (1..'x')", 13, "'x'", "expected an integer after '..'"},
		{"a zero stride", "visit IN (1..10:0)", 16, "0", "positive integer stride"},
		{"a negative stride", "visit IN (1..10:-2)", 16, "-", "positive integer stride"},
		{"a bound name as a range bound", "visit IN (n..5)", 10, "n", "range bounds must be integer literals"},
		{"an integer that does not fit in 64 bits", "a = 9223372036854775808", 4, "9223372036854775808", "integer literal is out of range"},
		{"a negative integer that does not fit", "a = - 9223372036854775809", 4, "- 9223372036854775809", "integer literal is out of range"},
		{"a float that overflows", "a = 1e999", 4, "1e999", "float literal is out of range"},
		{"minus before a name", "a = -b", 5, "b", "expected a number after '-'"},
		{"a number glued to letters", "a = 1abc", 4, "1abc", "invalid number literal"},
		{"a number with two dots", "a = 1.2.3", 4, "1.2.3", "invalid number literal"},
		{"an unknown character", "a = #", 4, "#", "unexpected character"},
		{"a lone exclamation mark", "!a = 1", 0, "!", "use != for 'not equal' and NOT for negation"},
		{"a non-ASCII character is one token", "a = é", 4, "é", "unexpected character"},
		{"an identifier with two dots", "a.b.c = 1", 0, "a.b.c", "at most one '.'"},
		{"a dot without a field", "a. = 1", 0, "a.", "expected a field name after '.'"},
		{"an invalid date", "t = T'2024-13-01'", 4, "T'2024-13-01'", "invalid time literal"},
		{"a time with a zone offset", "t = T'2024-01-01T00:00:00+01:00'", 4, "T'2024-01-01T00:00:00+01:00'", "invalid time literal"},
		{"a bound list outside IN", "visit = xs", 8, "xs", "lists are only allowed inside IN"},
		{"a bound value of an unsupported type", "a = bad", 4, "bad", "unsupported value type map[string]int"},
		{"a bound NaN", "a = nan", 4, "nan", "not finite"},
		{"a bound unsigned integer above int64", "a = big", 4, "big", "out of range"},
		{"a bound byte slice", "a IN (raw)", 6, "raw", "byte slice"},
		{"a bound nil", "a = nil", 4, "nil", "nil is not a value"},
		{"a bound time beyond year 9999", "t < far", 4, "far", "outside years 0000-9999"},
		{"a bad element in a bound list", "a IN (list)", 6, "list", "element 1: unsupported value type struct {}"},
		{"the first of two problems is reported", "AND a = 'x", 0, "AND", "expected an expression"},
		{"a lexical problem is reported where it is", "a = 1 AND b = 'x", 14, "'x", "unterminated string literal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in, bind)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tc.in, e)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is a %T, want *SyntaxError", tc.in, err, err)
			}
			if se.Pos != tc.pos || se.Token != tc.token || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse(%q) = {Pos: %d, Token: %q, Msg: %q}, want {Pos: %d, Token: %q, Msg containing %q}",
					tc.in, se.Pos, se.Token, se.Msg, tc.pos, tc.token, tc.msg)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  SyntaxError
		want string
	}{
		{"a token is quoted", SyntaxError{Pos: 17, Token: "AND", Msg: "expected a value"},
			`syntax error at position 17 near "AND": expected a value`},
		{"the end of input is not quoted", SyntaxError{Pos: 7, Token: "end of input", Msg: "expected a value"},
			`syntax error at position 7 near end of input: expected a value`},
		{"a long token is shortened", SyntaxError{Pos: 4, Token: "'" + strings.Repeat("x", 50), Msg: "unterminated string literal"},
			`syntax error at position 4 near "'` + strings.Repeat("x", 39) + `...": unterminated string literal`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeepNestingIsAnError(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"too many parentheses", strings.Repeat("(", maxDepth+1) + "a = 1" + strings.Repeat(")", maxDepth+1)},
		{"too many NOTs", strings.Repeat("NOT ", maxDepth+1) + "a = 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in, nil)
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, "nested too deeply") {
				t.Fatalf("Parse error = %v, want a nesting SyntaxError", err)
			}
		})
	}
	t.Run("nesting up to the limit parses", func(t *testing.T) {
		in := strings.Repeat("NOT ", maxDepth) + "a = 1"
		if _, err := Parse(in, nil); err != nil {
			t.Fatal(err)
		}
	})
}
