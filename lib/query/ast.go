package query

import (
	"math"
	"strconv"
	"strings"
)

// Expr is a parsed expression. The zero Expr, a nil *Expr and the result of
// parsing an empty expression are all "no constraint": always true. An Expr
// is immutable and safe for concurrent use.
type Expr struct {
	root Node // nil: no constraint
}

// Root returns the expression's syntax tree, nil for an empty expression.
func (e *Expr) Root() Node {
	if e == nil {
		return nil
	}
	return e.root
}

// IsTrue reports whether the expression is trivially true: empty (no
// constraint) or the literal TRUE.
func (e *Expr) IsTrue() bool {
	r := e.Root()
	if r == nil {
		return true
	}
	b, ok := r.(*Bool)
	return ok && b.Value
}

// String prints the canonical form of the expression: keywords in upper
// case, single spaces around operators, strings in single quotes, times as
// T'YYYY-MM-DDThh:mm:ss[.fff]', bound names replaced by their values, and
// only the parentheses precedence requires. Parsing the result (without
// binds) gives back an equal Expr. The empty expression prints as "".
func (e *Expr) String() string {
	r := e.Root()
	if r == nil {
		return ""
	}
	return r.String()
}

// Identifiers returns the distinct identifiers the expression refers to, in
// order of first appearance. Bound names are not identifiers: they were
// replaced by their values.
func (e *Expr) Identifiers() []Ident {
	var ids []Ident
	seen := map[Ident]bool{}
	add := func(o Operand) {
		if id, ok := o.(Ident); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *And:
			for _, t := range n.Terms {
				walk(t)
			}
		case *Or:
			for _, t := range n.Terms {
				walk(t)
			}
		case *Not:
			walk(n.Term)
		case *Compare:
			add(n.Left)
			add(n.Right)
		case *In:
			add(n.Left)
		}
	}
	walk(e.Root())
	return ids
}

// Node is a boolean-valued syntax tree node: *And, *Or, *Not, *Compare, *In
// or *Bool.
type Node interface {
	String() string
	node()
}

// And is true when all of its terms are (at least two; nested ANDs are
// flattened into one).
type And struct{ Terms []Node }

// Or is true when any of its terms is (at least two; nested ORs are
// flattened into one).
type Or struct{ Terms []Node }

// Not negates its term.
type Not struct{ Term Node }

// Compare is Left Op Right.
type Compare struct {
	Left  Operand
	Op    Op
	Right Operand
}

// In is Left [NOT] IN (Items...). Items may be empty when a bound empty list
// was expanded, or written as IN ().
type In struct {
	Left  Operand
	Not   bool
	Items []Item
}

// Bool is a bare TRUE or FALSE used as a condition.
type Bool struct{ Value bool }

func (*And) node()     {}
func (*Or) node()      {}
func (*Not) node()     {}
func (*Compare) node() {}
func (*In) node()      {}
func (*Bool) node()    {}

// Op is a comparison operator.
type Op string

// The comparison operators.
const (
	Eq Op = "="
	Ne Op = "!="
	Lt Op = "<"
	Le Op = "<="
	Gt Op = ">"
	Ge Op = ">="
)

// Operand is a comparison operand: an Ident or a Literal.
type Operand interface {
	String() string
	operand()
}

// Item is an entry of an IN list: a Literal or a Range.
type Item interface {
	String() string
	item()
}

// Ident is a reference to a dimension, a dimension's field or any other
// named column: "visit" is {Element: "visit"}, "exposure.obs_id" is
// {Element: "exposure", Field: "obs_id"}.
type Ident struct {
	Element, Field string
}

// Literal is a constant: its Value is an int64, float64, string, bool or
// time.Time (UTC).
type Literal struct{ Value any }

// Range is the integers Start, Start+Stride, ... up to and including Stop
// (written Start..Stop or Start..Stop:Stride). Stride is at least 1; a range
// with Start > Stop is empty.
type Range struct {
	Start, Stop, Stride int64
}

func (Ident) operand()   {}
func (Literal) operand() {}
func (Literal) item()    {}
func (Range) item()      {}

// String prints "element" or "element.field".
func (id Ident) String() string {
	if id.Field == "" {
		return id.Element
	}
	return id.Element + "." + id.Field
}

// String prints the literal in the expression syntax.
func (l Literal) String() string { return formatValue(l.Value) }

// String prints "start..stop", or "start..stop:stride" when stride is not 1.
func (r Range) String() string {
	s := strconv.FormatInt(r.Start, 10) + ".." + strconv.FormatInt(r.Stop, 10)
	if r.Stride != 1 {
		s += ":" + strconv.FormatInt(r.Stride, 10)
	}
	return s
}

// Len returns the number of integers in the range; the one range with 2^64
// of them, every int64, reports math.MaxUint64.
func (r Range) Len() uint64 {
	if r.Start > r.Stop || r.Stride < 1 {
		return 0
	}
	n := (uint64(r.Stop) - uint64(r.Start)) / uint64(r.Stride)
	if n == math.MaxUint64 {
		return n
	}
	return n + 1
}

// Contains reports whether the integer v is in the range.
func (r Range) Contains(v int64) bool {
	return r.Stride >= 1 && r.Start <= v && v <= r.Stop &&
		(uint64(v)-uint64(r.Start))%uint64(r.Stride) == 0
}

func (n *And) String() string {
	return join(n.Terms, " AND ", func(t Node) bool { _, ok := t.(*Or); return ok })
}
func (n *Or) String() string { return join(n.Terms, " OR ", func(Node) bool { return false }) }

func (n *Not) String() string {
	switch n.Term.(type) {
	case *And, *Or:
		return "NOT (" + n.Term.String() + ")"
	}
	return "NOT " + n.Term.String()
}

func (n *Compare) String() string {
	return n.Left.String() + " " + string(n.Op) + " " + n.Right.String()
}

func (n *In) String() string {
	var b strings.Builder
	b.WriteString(n.Left.String())
	if n.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN (")
	for i, it := range n.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.String())
	}
	b.WriteString(")")
	return b.String()
}

func (n *Bool) String() string { return formatValue(n.Value) }

// join prints terms separated by sep, parenthesising those paren selects.
func join(terms []Node, sep string, paren func(Node) bool) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		if paren(t) {
			b.WriteString("(" + t.String() + ")")
		} else {
			b.WriteString(t.String())
		}
	}
	return b.String()
}
