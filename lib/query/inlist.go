package query

import "strconv"

// parseIn parses "IN ( [ item { , item } ] )"; the lookahead is IN.
func (p *parser) parseIn(left Operand, not bool) (Node, *SyntaxError) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tLParen {
		return nil, p.errorf("expected '(' after IN")
	}
	open := p.tok
	if err := p.advance(); err != nil {
		return nil, err
	}
	in := &In{Left: left, Not: not, Items: []Item{}}
	if p.tok.kind == tRParen {
		return in, p.advance()
	}
	for {
		items, err := p.parseItem()
		if err != nil {
			return nil, err
		}
		in.Items = append(in.Items, items...)
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tRParen:
			return in, p.advance()
		case tEOF:
			return nil, p.errorf("missing ')' to close the IN list at position %d", open.pos)
		}
		return nil, p.errorf("expected ',' or ')' in the IN list")
	}
}

// parseItem parses one IN list entry: a literal, a range or a bound name
// (a bound list contributes all its values).
func (p *parser) parseItem() ([]Item, *SyntaxError) {
	t := p.tok
	if t.kind == tIdent {
		v, list, bound, err := p.lookupBind(t)
		if err != nil {
			return nil, err
		}
		if !bound {
			return nil, p.errorf("expected a literal value or range; %q is not a bound name", t.text)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tDotDot {
			return nil, p.errorAt(t, "range bounds must be integer literals")
		}
		if list == nil {
			return []Item{Literal{Value: v}}, nil
		}
		items := make([]Item, len(list))
		for i, v := range list {
			items[i] = Literal{Value: v}
		}
		return items, nil
	}
	v, ok, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.errorf("expected a value")
	}
	if p.tok.kind != tDotDot {
		return []Item{Literal{Value: v}}, nil
	}
	start, isInt := v.(int64)
	if !isInt {
		return nil, p.errorAt(p.since(t), "range bounds must be integers")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	stopTok := p.tok
	sv, ok, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	stop, isInt := sv.(int64)
	if !ok || !isInt {
		return nil, p.errorAt(stopTok, "expected an integer after '..'")
	}
	r := Range{Start: start, Stop: stop, Stride: 1}
	if p.tok.kind != tColon {
		return []Item{r}, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	st := p.tok
	stride, perr := strconv.ParseInt(st.text, 10, 64)
	if st.kind != tInt || perr != nil || stride < 1 {
		return nil, p.errorf("expected a positive integer stride after ':'")
	}
	r.Stride = stride
	return []Item{r}, p.advance()
}
