// Package query is the data-query expression language of the --where (-d)
// options, modelled on the daf_butler query expressions:
//
//	instrument = 'SPX' AND visit IN (1..10, 12) AND exposure.observation_type = 'science'
//
// Parse turns the text into an Expr, which can be evaluated against values
// (Eval), asked for the identifiers it uses (Identifiers), printed in a
// canonical form (String) and mined for equality constraints
// (EqualityConstraints).
//
// # Terms
//
//   - Identifier: a name, "visit", or an element and one of its fields,
//     "exposure.obs_id" (at most one '.', no spaces around it). Names are
//     ASCII letters, digits and '_' and do not start with a digit; they are
//     case-sensitive. The keywords AND, OR, NOT, IN, TRUE and FALSE
//     (case-insensitive) cannot be names, though they can be fields.
//   - Literal: an integer (42), a float (1.5, .5, 1e-3), a string, a time, or
//     TRUE/FALSE. A '-' directly before a number (spaces allowed) negates it;
//     there is no other arithmetic.
//   - String: 'text' or "text". A doubled quote character inside stands for
//     one, as in SQL (see the examples below). There are no backslash escapes.
//   - Time: T'2024-01-01', T'2024-01-01 12:00', T'2024-01-01T12:00:00' or with
//     fractional seconds, T'2024-01-01T12:00:00.25', optionally ending in 'Z'.
//     Times are UTC; other scales and time zones are not supported.
//   - Range: start..stop or start..stop:stride, inclusive, integer literals
//     only, stride a positive integer (default 1), as in daf_butler:
//     1..10:3 is 1, 4, 7, 10. A range with start > stop is empty. Ranges are
//     allowed only as entries of an IN list.
//   - Bind value: Parse takes a map from names to Go values. An identifier
//     whose whole text is a key of the map is replaced by the value (bind
//     takes precedence over dimension names). A bound slice or array is
//     allowed only as an entry of an IN list and contributes all its values.
//     Bound values cannot be range bounds.
//   - NULL: a missing value, what a Resolver returns as nil. There is no NULL
//     literal.
//
// # Grammar
//
// In EBNF, where keywords are case-insensitive and tokens may be separated by
// white space (needed only where two names, keywords or numbers meet):
//
//	expression = [ or_expr ] .                  (empty: no constraint, always true)
//	or_expr    = and_expr { "OR" and_expr } .
//	and_expr   = not_expr { "AND" not_expr } .
//	not_expr   = "NOT" not_expr | primary .
//	primary    = "(" or_expr ")" | condition .
//	condition  = operand cmp_op operand
//	           | operand [ "NOT" ] "IN" "(" [ item { "," item } ] ")"
//	           | boolean .
//	cmp_op     = "=" | "!=" | "<" | "<=" | ">" | ">=" .
//	operand    = identifier | literal .
//	item       = literal | range | identifier .     (identifier: a bound name)
//	range      = integer ".." integer [ ":" digits ] .
//	literal    = number | string | time | boolean .
//	number     = [ "-" ] ( digits [ "." [ digits ] ] [ exponent ] | "." digits [ exponent ] ) .
//	integer    = [ "-" ] digits .
//	exponent   = ( "e" | "E" ) [ "+" | "-" ] digits .
//	string     = "'" { character | "''" } "'" | `"` { character | `""` } `"` .
//	time       = "T" ( "'" date_time "'" | `"` date_time `"` ) .
//	date_time  = YYYY "-" MM "-" DD [ ( "T" | " " ) hh ":" mm [ ":" ss [ "." digits ] ] ] [ "Z" ] .
//	boolean    = "TRUE" | "FALSE" .
//	identifier = name [ "." name ] .
//	name       = ( letter | "_" ) { letter | digit | "_" } .
//
// Precedence, loosest first: OR, AND, NOT, then comparisons and IN; so
// "NOT a = 1 OR b = 2 AND c = 3" means "(NOT (a = 1)) OR ((b = 2) AND (c = 3))".
// A number without '.' or exponent is an integer (int64); one with either is
// a float (float64). Comparisons do not chain ("a = 1 = 2" is an error).
//
// Examples:
//
//	visit = 903334
//	instrument = 'SPX' AND detector IN (1..10, 12, 20..40:2)
//	exposure.observation_type = 'science' AND NOT exposure.exposure_time < 1.5
//	exposure.timespan_begin >= T'2024-01-01' AND band NOT IN ('u', "z")
//	exposure.target_name = 'Barnard''s star'
//	visit IN (my_visits)       -- with bind {"my_visits": []int{1, 2, 3}}
//
// # Errors
//
// Parse returns a *SyntaxError for every problem, lexical or grammatical,
// with the byte offset and text of the offending token ("end of input" past
// the last one) and what was expected.
//
// # Evaluation
//
// Eval gets identifier values from a Resolver and applies these rules:
//
//   - Integers and floats compare numerically and exactly (an int64 is not
//     rounded to a float). A NaN is unequal to everything, including itself.
//   - Strings compare with strings (byte-wise), times with times, booleans
//     with booleans (= and != only). Any other pairing, such as a string with
//     an integer, is an error naming the operands and their types.
//   - NULL: a comparison or IN test with a NULL operand is false, whatever the
//     operator: with exposure.group NULL, "exposure.group = 'a'",
//     "exposure.group != 'a'" and "exposure.group NOT IN ('a')" are all false.
//     NOT simply negates its operand's result, so "NOT exposure.group = 'a'"
//     is true. This is simpler than SQL's three-valued logic, under which it
//     would be false too; write "exposure.group != 'a'" to exclude NULLs.
//   - x IN (...) is true when x equals an entry or lies in a range (a float
//     only if it is integral); x NOT IN (...) is the opposite, except for
//     NULL. Every entry is compared, so an entry of the wrong type is an
//     error even when another entry matched.
//   - AND and OR evaluate left to right and stop once the result is known;
//     an error in a term that was not reached is not reported.
package query
