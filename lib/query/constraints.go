package query

import (
	"math"
	"time"
)

// MaxConstraintValues is the largest number of values EqualityConstraints
// lists for one identifier.
const MaxConstraintValues = 100000

// EqualityConstraints returns, for each identifier the expression pins to a
// finite set of values, that set; a planner can turn it into key lookups
// instead of a scan. Precisely:
//
//   - Only top-level terms count: the whole expression when it is not an AND,
//     otherwise each operand of the top-level AND (nested ANDs, parenthesised
//     or not, are flattened into it). Terms under OR or NOT, and NOT IN,
//     constrain nothing here.
//   - A term "id = literal" or "literal = id" restricts id to {literal}; a
//     term "id IN (...)" restricts id to the list's values, ranges expanded.
//     Other terms (other operators, id = id, literal = literal) are ignored.
//   - An identifier restricted by several terms gets their intersection
//     (values compare as in Eval: 3 and 3.0 are the same value).
//   - The values are distinct, in the order of the most selective term (the
//     one with the fewest values, the first of equals), ranges in ascending
//     order. They are int64, float64, string, bool or time.Time.
//   - An empty, non-nil slice means the terms contradict each other (or the
//     IN list is empty): the expression matches nothing.
//   - A nil slice (the key is present) means the identifier is restricted, but
//     every restricting term has more than MaxConstraintValues values: it was
//     not expanded and the caller must evaluate the expression instead.
//
// Identifiers not in the map are unconstrained as far as this analysis can
// tell. The result does not replace Eval: the other terms still apply.
func (e *Expr) EqualityConstraints() map[Ident][]any {
	var terms []Node
	switch r := e.Root().(type) {
	case nil:
		return map[Ident][]any{}
	case *And:
		terms = r.Terms
	default:
		terms = []Node{r}
	}
	sets := map[Ident][][]Item{}
	var order []Ident
	add := func(id Ident, items []Item) {
		if _, seen := sets[id]; !seen {
			order = append(order, id)
		}
		sets[id] = append(sets[id], items)
	}
	for _, t := range terms {
		switch t := t.(type) {
		case *Compare:
			if t.Op != Eq {
				continue
			}
			id, lit, ok := identAndLiteral(t.Left, t.Right)
			if !ok {
				id, lit, ok = identAndLiteral(t.Right, t.Left)
			}
			if ok {
				add(id, []Item{lit})
			}
		case *In:
			if id, ok := t.Left.(Ident); ok && !t.Not {
				add(id, t.Items)
			}
		}
	}
	out := make(map[Ident][]any, len(sets))
	for _, id := range order {
		out[id] = intersect(sets[id])
	}
	return out
}

func identAndLiteral(a, b Operand) (Ident, Literal, bool) {
	id, ok1 := a.(Ident)
	lit, ok2 := b.(Literal)
	return id, lit, ok1 && ok2
}

// setSize counts a set's values (with duplicates), saturating past the cap.
func setSize(items []Item) uint64 {
	var n uint64
	for _, it := range items {
		if r, ok := it.(Range); ok {
			n += min(r.Len(), MaxConstraintValues+1)
		} else {
			n++
		}
		n = min(n, MaxConstraintValues+1)
	}
	return n
}

// intersect expands the smallest set and keeps the values every other set
// contains; nil if even the smallest set is too large.
func intersect(sets [][]Item) []any {
	best := 0
	for i := range sets {
		if setSize(sets[i]) < setSize(sets[best]) {
			best = i
		}
	}
	if setSize(sets[best]) > MaxConstraintValues {
		return nil
	}
	var others []*itemSet
	for i, s := range sets {
		if i != best {
			others = append(others, newItemSet(s))
		}
	}
	out := []any{}
	seen := map[any]bool{}
	keep := func(v any) {
		k := valueKey(v)
		if seen[k] {
			return
		}
		seen[k] = true
		for _, o := range others {
			if !o.contains(v) {
				return
			}
		}
		out = append(out, v)
	}
	for _, it := range sets[best] {
		switch it := it.(type) {
		case Literal:
			keep(it.Value)
		case Range:
			for i := range it.Len() {
				keep(int64(uint64(it.Start) + i*uint64(it.Stride)))
			}
		}
	}
	return out
}

// itemSet answers membership in an IN list (or a single literal) quickly.
type itemSet struct {
	literals map[any]bool // by valueKey
	ranges   []Range
}

func newItemSet(items []Item) *itemSet {
	s := &itemSet{literals: map[any]bool{}}
	for _, it := range items {
		switch it := it.(type) {
		case Literal:
			s.literals[valueKey(it.Value)] = true
		case Range:
			s.ranges = append(s.ranges, it)
		}
	}
	return s
}

func (s *itemSet) contains(v any) bool {
	if s.literals[valueKey(v)] {
		return true
	}
	for _, r := range s.ranges {
		if in, _ := rangeContains(r, v); in {
			return true
		}
	}
	return false
}

// timeKey is a comparable stand-in for a time.Time.
type timeKey struct {
	sec  int64
	nsec int
}

// valueKey maps values that compare equal in Eval to the same map key:
// integral floats within int64 range become int64 (so 3.0 and 3 meet, as do
// 0.0 and -0.0) and times become their instant.
func valueKey(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && x >= -0x1p63 && x < 0x1p63 {
			return int64(x)
		}
	case time.Time:
		return timeKey{x.Unix(), x.Nanosecond()}
	}
	return v
}
