package query

import "fmt"

// maxDepth bounds nesting of parentheses and NOTs, so that no input can
// exhaust the stack of the parser or of the tree walkers.
const maxDepth = 500

// Parse parses a query expression. bind maps names to values: every
// identifier whose text (e.g. "v" or "exposure.id") is a key of bind is
// replaced by the bound value, which takes precedence over any dimension of
// that name. A bound value is a scalar (any Go integer, float, string or bool
// kind, or time.Time) or, only as an entry of an IN list, a slice or array
// of scalars, which is expanded in place. Unused bind keys are ignored.
//
// An empty or whitespace-only expression gives an Expr that IsTrue. Every
// error is a *SyntaxError.
func Parse(expr string, bind map[string]any) (*Expr, error) {
	p := &parser{lx: lexer{src: expr}, bind: bind}
	n, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Expr{root: n}, nil
}

// MustParse is Parse without binds that panics on error; for tests and
// package-level expressions known to be valid.
func MustParse(expr string) *Expr {
	e, err := Parse(expr, nil)
	if err != nil {
		panic(err)
	}
	return e
}

type parser struct {
	lx    lexer
	tok   token // the lookahead token
	prev  int   // end offset of the token before tok
	bind  map[string]any
	depth int
}

func (p *parser) parse() (Node, *SyntaxError) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, nil
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.afterCondition("expected AND, OR or end of input")
	}
	return n, nil
}

func (p *parser) advance() *SyntaxError {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	if p.tok.kind != tEOF {
		p.prev = p.tok.pos + len(p.tok.text)
	}
	p.tok = t
	return nil
}

// since returns a token spanning the source from t to the end of the token
// before the lookahead, e.g. all of "- 1.5".
func (p *parser) since(t token) token {
	return token{pos: t.pos, text: p.lx.src[t.pos:max(p.prev, t.pos)]}
}

// errorf reports a problem with the lookahead token.
func (p *parser) errorf(format string, args ...any) *SyntaxError {
	return p.errorAt(p.tok, format, args...)
}

func (p *parser) errorAt(t token, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: t.pos, Token: t.text, Msg: fmt.Sprintf(format, args...)}
}

// afterCondition explains an unexpected token after a complete condition.
func (p *parser) afterCondition(expected string) *SyntaxError {
	switch p.tok.kind {
	case tRParen:
		return p.errorf("unmatched ')'")
	case tDotDot:
		return p.errorf("ranges are only allowed inside IN (...)")
	case tEq, tNe, tLt, tLe, tGt, tGe, tEqEq:
		return p.errorf("comparisons cannot be chained; combine them with AND")
	}
	return p.errorf("%s", expected)
}

// parseOr: and_expr { OR and_expr }
func (p *parser) parseOr() (Node, *SyntaxError) {
	return p.parseChain(tOr, p.parseAnd, func(n Node) ([]Node, bool) {
		o, ok := n.(*Or)
		if !ok {
			return nil, false
		}
		return o.Terms, true
	}, func(terms []Node) Node { return &Or{Terms: terms} })
}

// parseAnd: not_expr { AND not_expr }
func (p *parser) parseAnd() (Node, *SyntaxError) {
	return p.parseChain(tAnd, p.parseNot, func(n Node) ([]Node, bool) {
		a, ok := n.(*And)
		if !ok {
			return nil, false
		}
		return a.Terms, true
	}, func(terms []Node) Node { return &And{Terms: terms} })
}

// parseChain parses operand { op operand } into one node built by build,
// flattening operands that are already chains of the same operator (terms
// reports their terms), so "a AND (b AND c)" is one And of three terms. A
// single operand is returned as it is.
func (p *parser) parseChain(op kind, operand func() (Node, *SyntaxError), terms func(Node) ([]Node, bool), build func([]Node) Node) (Node, *SyntaxError) {
	first, err := operand()
	if err != nil || p.tok.kind != op {
		return first, err
	}
	var all []Node
	add := func(n Node) {
		if ts, ok := terms(n); ok {
			all = append(all, ts...)
		} else {
			all = append(all, n)
		}
	}
	add(first)
	for p.tok.kind == op {
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := operand()
		if err != nil {
			return nil, err
		}
		add(n)
	}
	return build(all), nil
}

// parseNot: NOT not_expr | primary
func (p *parser) parseNot() (Node, *SyntaxError) {
	if p.tok.kind != tNot {
		return p.parsePrimary()
	}
	if p.depth >= maxDepth {
		return nil, p.errorf("expression is nested too deeply (more than %d levels)", maxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return nil, err
	}
	n, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return &Not{Term: n}, nil
}

// parsePrimary: '(' or_expr ')' | condition
func (p *parser) parsePrimary() (Node, *SyntaxError) {
	if p.tok.kind != tLParen {
		return p.parseCondition()
	}
	open := p.tok
	if p.depth >= maxDepth {
		return nil, p.errorf("expression is nested too deeply (more than %d levels)", maxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return nil, err
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tRParen {
		if p.tok.kind == tEOF {
			return nil, p.errorf("missing ')' to close '(' at position %d", open.pos)
		}
		return nil, p.afterCondition("expected AND, OR or ')'")
	}
	return n, p.advance()
}

// parseCondition: operand cmp_op operand | operand [NOT] IN in_list | TRUE | FALSE
func (p *parser) parseCondition() (Node, *SyntaxError) {
	leftTok := p.tok
	left, err := p.parseOperand("expected an expression")
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		op := Op(p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseOperand("expected a value")
		if err != nil {
			return nil, err
		}
		return &Compare{Left: left, Op: op, Right: right}, nil
	case tEqEq:
		return nil, p.errorf("'==' is not an operator; use '=' for equality")
	case tIn:
		return p.parseIn(left, false)
	case tNot:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tIn {
			return nil, p.errorf("expected IN after NOT")
		}
		return p.parseIn(left, true)
	case tDotDot:
		return nil, p.errorf("ranges are only allowed inside IN (...)")
	}
	if lit, ok := left.(Literal); ok {
		if b, ok := lit.Value.(bool); ok {
			return &Bool{Value: b}, nil
		}
	}
	if p.tok.kind == tEOF || p.tok.kind == tAnd || p.tok.kind == tOr || p.tok.kind == tRParen {
		return nil, p.errorf("expected a comparison operator or IN after %s", p.since(leftTok).text)
	}
	return nil, p.errorf("expected a comparison operator or IN")
}
