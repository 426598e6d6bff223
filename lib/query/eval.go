package query

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Resolver supplies identifier values for Eval. Resolve returns nil for a
// missing value (NULL), or an int64, float64, string, bool or time.Time;
// other Go integer and float kinds are accepted and converted.
type Resolver interface {
	Resolve(id Ident) (any, error)
}

// MapResolver resolves identifiers from a map keyed by their text, "visit"
// or "exposure.obs_id". A missing key is NULL.
type MapResolver map[string]any

// Resolve implements Resolver.
func (m MapResolver) Resolve(id Ident) (any, error) { return m[id.String()], nil }

// Eval evaluates the expression with identifier values from r. An empty
// expression is true without consulting r. See the package documentation for
// the comparison rules; an error is returned for incomparable types or a
// failing resolver.
func (e *Expr) Eval(r Resolver) (bool, error) {
	root := e.Root()
	if root == nil {
		return true, nil
	}
	return eval(root, r)
}

func eval(n Node, r Resolver) (bool, error) {
	switch n := n.(type) {
	case *And:
		for _, t := range n.Terms {
			if ok, err := eval(t, r); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case *Or:
		for _, t := range n.Terms {
			if ok, err := eval(t, r); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *Not:
		ok, err := eval(n.Term, r)
		return !ok && err == nil, err
	case *Bool:
		return n.Value, nil
	case *Compare:
		return evalCompare(n, r)
	case *In:
		return evalIn(n, r)
	}
	return false, fmt.Errorf("query: unknown node type %T", n)
}

// operandValue returns a Literal's value or resolves an Ident.
func operandValue(o Operand, r Resolver) (any, error) {
	switch o := o.(type) {
	case Literal:
		return o.Value, nil
	case Ident:
		if r == nil {
			return nil, fmt.Errorf("no resolver for identifier %s", o)
		}
		v, err := r.Resolve(o)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", o, err)
		}
		v, err = normalize(v)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", o, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("query: unknown operand type %T", o)
}

func evalCompare(n *Compare, r Resolver) (bool, error) {
	a, err := operandValue(n.Left, r)
	if err != nil {
		return false, err
	}
	b, err := operandValue(n.Right, r)
	if err != nil {
		return false, err
	}
	if a == nil || b == nil {
		return false, nil // a comparison with NULL is false
	}
	c, ok := order(a, b)
	if !ok {
		return false, fmt.Errorf("cannot compare %s with %s", describe(n.Left, a), describe(n.Right, b))
	}
	if _, isBool := a.(bool); isBool && n.Op != Eq && n.Op != Ne {
		return false, fmt.Errorf("cannot compare %s with %s using %s: booleans support only = and !=",
			describe(n.Left, a), describe(n.Right, b), n.Op)
	}
	return n.Op.holds(c), nil
}

func evalIn(n *In, r Resolver) (bool, error) {
	x, err := operandValue(n.Left, r)
	if err != nil || x == nil {
		return false, err // NULL [NOT] IN (...) is false
	}
	found := false
	for _, it := range n.Items {
		switch it := it.(type) {
		case Literal:
			c, ok := order(x, it.Value)
			if !ok {
				return false, fmt.Errorf("cannot compare %s with %s in the IN list", describe(n.Left, x), describe(it, it.Value))
			}
			found = found || c == 0
		case Range:
			in, ok := rangeContains(it, x)
			if !ok {
				return false, fmt.Errorf("cannot compare %s with the integer range %s", describe(n.Left, x), it)
			}
			found = found || in
		}
	}
	return found != n.Not, nil
}

// rangeContains reports whether a numeric value is in r; ok is false for a
// non-numeric value.
func rangeContains(r Range, v any) (in, ok bool) {
	switch x := v.(type) {
	case int64:
		return r.Contains(x), true
	case float64:
		if x != math.Trunc(x) || x < -0x1p63 || x >= 0x1p63 {
			return false, true // NaN, infinities and fractions are in no range
		}
		return r.Contains(int64(x)), true
	}
	return false, false
}

// describe names an operand and the type of its value for error messages.
func describe(o Operand, v any) string {
	return fmt.Sprintf("%s (%s)", o, typeName(v))
}

// unordered is the result of order when a NaN is involved: only != holds.
const unordered = 2

func (op Op) holds(c int) bool {
	if c == unordered {
		return op == Ne
	}
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	}
	return false
}

// order compares two non-NULL normalized values: -1, 0, +1 or unordered
// (booleans: 0 or 1, and only = and != apply); ok is false when the types cannot be compared. Integers and
// floats compare numerically and exactly (no rounding of large integers).
func order(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp3(x < y, x > y), true
		case float64:
			return cmpIntFloat(x, y), true
		}
	case float64:
		switch y := b.(type) {
		case float64:
			if math.IsNaN(x) || math.IsNaN(y) {
				return unordered, true
			}
			return cmp3(x < y, x > y), true
		case int64:
			c := cmpIntFloat(y, x)
			if c == unordered {
				return c, true
			}
			return -c, true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp3(false, x != y), true
		}
	}
	return 0, false
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// cmpIntFloat compares i with f exactly.
func cmpIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return unordered
	case f >= 0x1p63:
		return -1
	case f < -0x1p63:
		return 1
	}
	t := math.Trunc(f) // in [-2^63, 2^63): converts exactly
	if c := cmp3(i < int64(t), i > int64(t)); c != 0 {
		return c
	}
	return cmp3(f > t, f < t) // i == t: the fraction decides
}
