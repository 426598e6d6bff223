package query

import "strconv"

// parseOperand: identifier | literal. A bound identifier becomes a Literal.
// what is the message when no operand is found.
func (p *parser) parseOperand(what string) (Operand, *SyntaxError) {
	t := p.tok
	if t.kind == tIdent {
		v, list, bound, err := p.lookupBind(t)
		switch {
		case err != nil:
			return nil, err
		case list != nil:
			return nil, p.errorAt(t, "%q is bound to a list; lists are only allowed inside IN (...)", t.text)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !bound {
			return identFromText(t.text), nil
		}
		return Literal{Value: v}, nil
	}
	v, ok, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.errorf("%s", what)
	}
	return Literal{Value: v}, nil
}

// parseLiteral parses a literal if the lookahead starts one; ok is false
// (and nothing is consumed) if it does not.
func (p *parser) parseLiteral() (v any, ok bool, err *SyntaxError) {
	t := p.tok
	switch t.kind {
	case tInt, tFloat:
		v, err = p.number(t, t, "")
	case tMinus:
		if err = p.advance(); err != nil {
			return nil, false, err
		}
		num := p.tok
		if num.kind != tInt && num.kind != tFloat {
			return nil, false, p.errorf("expected a number after '-'")
		}
		v, err = p.number(t, num, "-")
	case tString:
		v = t.val
	case tTime:
		tm, good := parseTime(t.val)
		if !good {
			return nil, false, p.errorf("invalid time literal; expected T'YYYY-MM-DD', T'YYYY-MM-DD hh:mm[:ss[.fff]]' or T'YYYY-MM-DDThh:mm[:ss[.fff]]' (UTC)")
		}
		v = tm
	case tTrue, tFalse:
		v = t.kind == tTrue
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, p.advance()
}

// number converts the number token num (preceded by sign, "" or "-", whose
// first token is first) to an int64 or float64.
func (p *parser) number(first, num token, sign string) (any, *SyntaxError) {
	whole := token{pos: first.pos, text: p.lx.src[first.pos : num.pos+len(num.text)]}
	if num.kind == tInt {
		i, err := strconv.ParseInt(sign+num.text, 10, 64)
		if err != nil {
			return nil, p.errorAt(whole, "integer literal is out of range")
		}
		return i, nil
	}
	f, err := strconv.ParseFloat(sign+num.text, 64)
	if err != nil {
		return nil, p.errorAt(whole, "float literal is out of range")
	}
	return f, nil
}
