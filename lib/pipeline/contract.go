package pipeline

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/skybutler/skybutler/lib/yamlnode"
)

// A contract expression, after pipe_base's contracts (which are Python
// expressions; this is the small subset they use):
//
//	expr    := or
//	or      := and { "or" and }
//	and     := not { "and" not }
//	not     := "not" not | compare
//	compare := sum { ("==" | "!=" | "<" | ">" | "<=" | ">=") sum }   (chains like Python's)
//	sum     := product { ("+" | "-") product }
//	product := unary { ("*" | "/") unary }
//	unary   := "-" unary | primary
//	primary := literal | reference | "(" expr ")"
//	literal := True | False | None | number | 'string' | "string"
//	reference := label "." field { "." key }
//
// A reference reads a task's resolved config: "isr.doDark",
// "isr.connections.dark". and, or and not use Python truthiness (false,
// 0, "", None and empty lists and mappings are false).

type cexpr interface {
	eval(env map[string]Config) (any, error)
}

type clit struct{ v any }
type cref struct{ path []string }
type cnot struct{ x cexpr }
type cneg struct{ x cexpr }
type clogic struct {
	and  bool
	l, r cexpr
}
type ccompare struct {
	first cexpr
	ops   []string
	rest  []cexpr
}
type carith struct {
	op   byte
	l, r cexpr
}

const maxContractLen = 4096

// parseContract parses an expression and returns it with the labels it
// references.
func parseContract(src string) (cexpr, []string, error) {
	if len(src) > maxContractLen {
		return nil, nil, fmt.Errorf("expression longer than %d characters", maxContractLen)
	}
	toks, err := lexContract(src)
	if err != nil {
		return nil, nil, err
	}
	p := &cparser{toks: toks}
	e, err := p.or(0)
	if err != nil {
		return nil, nil, err
	}
	if p.i < len(p.toks) {
		return nil, nil, fmt.Errorf("unexpected %s at column %d", p.toks[p.i].describe(), p.toks[p.i].col)
	}
	var labels []string
	collectLabels(e, &labels)
	return e, labels, nil
}

func collectLabels(e cexpr, out *[]string) {
	switch x := e.(type) {
	case cref:
		for _, l := range *out {
			if l == x.path[0] {
				return
			}
		}
		*out = append(*out, x.path[0])
	case cnot:
		collectLabels(x.x, out)
	case cneg:
		collectLabels(x.x, out)
	case clogic:
		collectLabels(x.l, out)
		collectLabels(x.r, out)
	case carith:
		collectLabels(x.l, out)
		collectLabels(x.r, out)
	case ccompare:
		collectLabels(x.first, out)
		for _, r := range x.rest {
			collectLabels(r, out)
		}
	}
}

type ctokKind int

const (
	ctIdent ctokKind = iota
	ctNumber
	ctString
	ctOp
)

type ctok struct {
	kind ctokKind
	text string // identifier, operator or the number's text
	str  string // a string literal's value
	col  int
}

func (t ctok) describe() string {
	switch t.kind {
	case ctString:
		return fmt.Sprintf("string %q", yamlnode.Truncate(t.str, 20))
	case ctNumber:
		return "number " + t.text
	}
	return fmt.Sprintf("%q", t.text)
}

func lexContract(src string) ([]ctok, error) {
	var toks []ctok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, ctok{kind: ctIdent, text: src[i:j], col: i + 1})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9' && (len(toks) == 0 || toks[len(toks)-1].kind == ctOp):
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == '_') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				j++
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			toks = append(toks, ctok{kind: ctNumber, text: src[i:j], col: i + 1})
			i = j
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == c {
					closed = true
					j++
					break
				}
				if src[j] == '\\' && j+1 < len(src) {
					switch src[j+1] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(src[j+1])
					}
					j += 2
					continue
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string at column %d", i+1)
			}
			toks = append(toks, ctok{kind: ctString, str: b.String(), col: i + 1})
			i = j
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "<", ">", "(", ")", ".", "+", "-", "*", "/"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q at column %d", rune(c), i+1)
			}
			toks = append(toks, ctok{kind: ctOp, text: op, col: i + 1})
			i += len(op)
		}
	}
	return toks, nil
}

type cparser struct {
	toks []ctok
	i    int
}

const maxContractDepth = 100

func (p *cparser) peekOp(ops ...string) (string, bool) {
	if p.i >= len(p.toks) {
		return "", false
	}
	t := p.toks[p.i]
	if t.kind != ctOp && t.kind != ctIdent {
		return "", false
	}
	for _, o := range ops {
		if t.text == o {
			return o, true
		}
	}
	return "", false
}

func (p *cparser) or(depth int) (cexpr, error) {
	if depth > maxContractDepth {
		return nil, errors.New("expression is nested too deeply")
	}
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.peekOp("or"); !ok {
			return l, nil
		}
		p.i++
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = clogic{and: false, l: l, r: r}
	}
}

func (p *cparser) and(depth int) (cexpr, error) {
	l, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.peekOp("and"); !ok {
			return l, nil
		}
		p.i++
		r, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		l = clogic{and: true, l: l, r: r}
	}
}

func (p *cparser) not(depth int) (cexpr, error) {
	if _, ok := p.peekOp("not"); ok {
		if depth > maxContractDepth {
			return nil, errors.New("expression is nested too deeply")
		}
		p.i++
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return cnot{x}, nil
	}
	return p.compare(depth)
}

func (p *cparser) compare(depth int) (cexpr, error) {
	first, err := p.sum(depth)
	if err != nil {
		return nil, err
	}
	c := ccompare{first: first}
	for {
		op, ok := p.peekOp("==", "!=", "<=", ">=", "<", ">")
		if !ok {
			break
		}
		p.i++
		r, err := p.sum(depth)
		if err != nil {
			return nil, err
		}
		c.ops = append(c.ops, op)
		c.rest = append(c.rest, r)
	}
	if len(c.ops) == 0 {
		return first, nil
	}
	return c, nil
}

func (p *cparser) sum(depth int) (cexpr, error) {
	l, err := p.product(depth)
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.peekOp("+", "-")
		if !ok {
			return l, nil
		}
		p.i++
		r, err := p.product(depth)
		if err != nil {
			return nil, err
		}
		l = carith{op: op[0], l: l, r: r}
	}
}

func (p *cparser) product(depth int) (cexpr, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.peekOp("*", "/")
		if !ok {
			return l, nil
		}
		p.i++
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = carith{op: op[0], l: l, r: r}
	}
}

func (p *cparser) unary(depth int) (cexpr, error) {
	if _, ok := p.peekOp("-"); ok {
		if depth > maxContractDepth {
			return nil, errors.New("expression is nested too deeply")
		}
		p.i++
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return cneg{x}, nil
	}
	return p.primary(depth)
}

func (p *cparser) primary(depth int) (cexpr, error) {
	if p.i >= len(p.toks) {
		return nil, errors.New("unexpected end of expression")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case ctNumber:
		text := strings.ReplaceAll(t.text, "_", "")
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return clit{i}, nil
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("bad number %q at column %d", t.text, t.col)
		}
		return clit{f}, nil
	case ctString:
		return clit{t.str}, nil
	case ctOp:
		if t.text == "(" {
			e, err := p.or(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, ok := p.peekOp(")"); !ok {
				return nil, fmt.Errorf("missing ')' for '(' at column %d", t.col)
			}
			p.i++
			return e, nil
		}
		return nil, fmt.Errorf("unexpected %q at column %d", t.text, t.col)
	}
	switch t.text {
	case "True", "true":
		return clit{true}, nil
	case "False", "false":
		return clit{false}, nil
	case "None", "null":
		return clit{nil}, nil
	case "and", "or", "not":
		return nil, fmt.Errorf("unexpected %q at column %d", t.text, t.col)
	}
	path := []string{t.text}
	for {
		if _, ok := p.peekOp("."); !ok {
			break
		}
		p.i++
		if p.i >= len(p.toks) || p.toks[p.i].kind != ctIdent {
			return nil, fmt.Errorf("want a field name after '.' at column %d", p.toks[p.i-1].col)
		}
		path = append(path, p.toks[p.i].text)
		p.i++
	}
	if len(path) < 2 {
		return nil, fmt.Errorf("%q at column %d is not a config value: write label.field", t.text, t.col)
	}
	return cref{path}, nil
}

func (e clit) eval(map[string]Config) (any, error) { return e.v, nil }

func (e cref) eval(env map[string]Config) (any, error) {
	cfg, ok := env[e.path[0]]
	if !ok {
		return nil, kindError{kind: ErrUnknownLabel, msg: fmt.Sprintf("no task labelled %q", e.path[0])}
	}
	var v any = map[string]any(cfg)
	for i, k := range e.path[1:] {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not a mapping", strings.Join(e.path[:i+1], "."), describeValue(v))
		}
		if v, ok = m[k]; !ok {
			return nil, fmt.Errorf("%s has no field %q%s", strings.Join(e.path[:i+1], "."), k, didYouMean(k, sortedKeys(m)))
		}
	}
	return v, nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func (e cnot) eval(env map[string]Config) (any, error) {
	v, err := e.x.eval(env)
	if err != nil {
		return nil, err
	}
	return !truthy(v), nil
}

func (e clogic) eval(env map[string]Config) (any, error) {
	l, err := e.l.eval(env)
	if err != nil {
		return nil, err
	}
	if truthy(l) != e.and { // short circuit: false and ..., true or ...
		return truthy(l), nil
	}
	r, err := e.r.eval(env)
	if err != nil {
		return nil, err
	}
	return truthy(r), nil
}

func (e cneg) eval(env map[string]Config) (any, error) {
	v, err := e.x.eval(env)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int64:
		if x == math.MinInt64 {
			return -float64(x), nil
		}
		return -x, nil
	case float64:
		return -x, nil
	}
	return nil, fmt.Errorf("cannot negate %s", describeValue(v))
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func (e carith) eval(env map[string]Config) (any, error) {
	l, err := e.l.eval(env)
	if err != nil {
		return nil, err
	}
	r, err := e.r.eval(env)
	if err != nil {
		return nil, err
	}
	if ls, ok := l.(string); ok && e.op == '+' {
		if rs, ok := r.(string); ok {
			return ls + rs, nil
		}
	}
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	if lInt && rInt && e.op != '/' {
		switch e.op {
		case '+':
			if s := li + ri; (s > li) == (ri > 0) {
				return s, nil
			}
		case '-':
			if s := li - ri; (s < li) == (ri > 0) {
				return s, nil
			}
		case '*':
			if li == 0 || ri == 0 {
				return int64(0), nil
			}
			if s := li * ri; s/ri == li && !(li == -1 && ri == math.MinInt64) && !(ri == -1 && li == math.MinInt64) {
				return s, nil
			}
		}
	}
	lf, ok1 := asFloat(l)
	rf, ok2 := asFloat(r)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("cannot apply %q to %s and %s", string(e.op), describeValue(l), describeValue(r))
	}
	switch e.op {
	case '+':
		return lf + rf, nil
	case '-':
		return lf - rf, nil
	case '*':
		return lf * rf, nil
	}
	if rf == 0 {
		return nil, errors.New("division by zero")
	}
	return lf / rf, nil
}

func (e ccompare) eval(env map[string]Config) (any, error) {
	l, err := e.first.eval(env)
	if err != nil {
		return nil, err
	}
	for i, op := range e.ops {
		r, err := e.rest[i].eval(env)
		if err != nil {
			return nil, err
		}
		ok, err := compareValues(op, l, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return false, nil
		}
		l = r
	}
	return true, nil
}

func compareValues(op string, l, r any) (bool, error) {
	if op == "==" || op == "!=" {
		eq := false
		lf, ok1 := asFloat(l)
		rf, ok2 := asFloat(r)
		if ok1 && ok2 {
			eq = lf == rf
		} else {
			eq = reflect.DeepEqual(l, r)
		}
		return eq == (op == "=="), nil
	}
	var c int
	lf, ok1 := asFloat(l)
	rf, ok2 := asFloat(r)
	ls, ok3 := l.(string)
	rs, ok4 := r.(string)
	switch {
	case ok1 && ok2:
		switch {
		case lf < rf:
			c = -1
		case lf > rf:
			c = 1
		}
	case ok3 && ok4:
		c = strings.Compare(ls, rs)
	default:
		return false, fmt.Errorf("cannot compare %s %s %s", describeValue(l), op, describeValue(r))
	}
	switch op {
	case "<":
		return c < 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	}
	return c >= 0, nil
}

// Contract is a condition on the configs of a pipeline's tasks.
type Contract struct {
	Expr string // the expression, e.g. "isr.doDark == True"
	Msg  string // the error message when it is false ("" for a generic one)

	expr   cexpr
	labels []string
	pos    pos
}

// Labels returns the task labels the expression refers to.
func (c *Contract) Labels() []string { return append([]string(nil), c.labels...) }

// check evaluates the contract against the tasks' configs.
func (c *Contract) check(env map[string]Config) error {
	v, err := c.expr.eval(env)
	if err != nil {
		kind := ErrContract
		if errors.Is(err, ErrUnknownLabel) {
			kind = ErrUnknownLabel
		}
		return c.pos.errorf(kind, "contract %q cannot be evaluated: %v", yamlnode.Truncate(c.Expr, 200), err)
	}
	if truthy(v) {
		return nil
	}
	if c.Msg != "" {
		return c.pos.errorf(ErrContract, "contract %q failed: %s", yamlnode.Truncate(c.Expr, 200), c.Msg)
	}
	return c.pos.errorf(ErrContract, "contract %q failed", yamlnode.Truncate(c.Expr, 200))
}
