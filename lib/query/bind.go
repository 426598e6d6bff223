package query

import (
	"reflect"
	"strings"
	"time"
)

// identFromText splits "element.field" (the lexer allows at most one '.').
func identFromText(s string) Ident {
	if elem, field, ok := strings.Cut(s, "."); ok {
		return Ident{Element: elem, Field: field}
	}
	return Ident{Element: s}
}

// lookupBind returns the value bound to identifier token t: bound is false
// if t's text is not a key of the bind map; otherwise list is non-nil
// (possibly empty) for a slice or array and v holds a scalar.
func (p *parser) lookupBind(t token) (v any, list []any, bound bool, err *SyntaxError) {
	raw, bound := p.bind[t.text]
	if !bound {
		return nil, nil, false, nil
	}
	if _, isTime := raw.(time.Time); !isTime && raw != nil {
		rv := reflect.ValueOf(raw)
		if k := rv.Kind(); k == reflect.Slice || k == reflect.Array {
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				return nil, nil, true, p.errorAt(t, "bound value of %q is a byte slice; bind a string or a list of integers", t.text)
			}
			list = make([]any, rv.Len())
			for i := range list {
				e, msg := bindScalar(rv.Index(i).Interface())
				if msg != "" {
					return nil, nil, true, p.errorAt(t, "bound value of %q, element %d: %s", t.text, i, msg)
				}
				list[i] = e
			}
			return nil, list, true, nil
		}
	}
	v, msg := bindScalar(raw)
	if msg != "" {
		return nil, nil, true, p.errorAt(t, "bound value of %q: %s", t.text, msg)
	}
	return v, nil, true, nil
}

// bindScalar converts one bound value to a literal value, or says why not.
func bindScalar(raw any) (any, string) {
	v, err := normalize(raw)
	if err == nil {
		err = checkLiteral(v)
	}
	if err != nil {
		return nil, err.Error()
	}
	return v, ""
}
