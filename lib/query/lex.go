package query

import (
	"strings"
	"unicode/utf8"
)

// kind is a token's lexical class.
type kind int

const (
	tEOF    kind = iota
	tIdent       // visit, exposure.obs_id (keywords are separate kinds)
	tInt         // 42 (unsigned; a leading '-' is its own token)
	tFloat       // 1.5, .5, 1., 1e-3
	tString      // 'text' or "text"; val holds the unquoted text
	tTime        // T'2024-01-01'; val holds the text between the quotes
	tLParen      // (
	tRParen      // )
	tComma       // ,
	tDotDot      // ..
	tColon       // :
	tMinus       // -
	tEq          // =
	tNe          // !=
	tLt          // <
	tLe          // <=
	tGt          // >
	tGe          // >=
	tEqEq        // == (only to report it helpfully)
	tAnd
	tOr
	tNot
	tIn
	tTrue
	tFalse
)

// keywords maps upper-cased keyword text to its kind; keywords are
// case-insensitive.
var keywords = map[string]kind{
	"AND":   tAnd,
	"OR":    tOr,
	"NOT":   tNot,
	"IN":    tIn,
	"TRUE":  tTrue,
	"FALSE": tFalse,
}

// token is one lexeme. text is the exact source text (what errors quote);
// val is the decoded content for strings and time literals.
type token struct {
	kind kind
	pos  int
	text string
	val  string
}

// lexer splits an expression into tokens on demand, so that the parser
// reports the leftmost problem whether it is lexical or grammatical.
type lexer struct {
	src string
	pos int
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// errorAt builds a SyntaxError for the source text src[pos:end].
func (l *lexer) errorAt(pos, end int, msg string) *SyntaxError {
	return &SyntaxError{Pos: pos, Token: l.src[pos:end], Msg: msg}
}

// next returns the next token, a tEOF token at the end, or a SyntaxError.
func (l *lexer) next() (token, *SyntaxError) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start, text: endOfInput}, nil
	}
	c := l.src[start]
	two := ""
	if start+1 < len(l.src) {
		two = l.src[start : start+2]
	}
	emit := func(k kind, n int) (token, *SyntaxError) {
		l.pos = start + n
		return token{kind: k, pos: start, text: l.src[start:l.pos]}, nil
	}
	switch {
	case c == 'T' && (two == "T'" || two == `T"`):
		return l.quoted(tTime, start+1, "time literal")
	case isIdentStart(c):
		return l.ident()
	case isDigit(c) || (c == '.' && len(two) == 2 && isDigit(two[1])):
		return l.number()
	case c == '\'' || c == '"':
		return l.quoted(tString, start, "string literal")
	case two == "..":
		return emit(tDotDot, 2)
	case two == "!=":
		return emit(tNe, 2)
	case two == "<=":
		return emit(tLe, 2)
	case two == ">=":
		return emit(tGe, 2)
	case two == "==":
		return emit(tEqEq, 2)
	}
	switch c {
	case '(':
		return emit(tLParen, 1)
	case ')':
		return emit(tRParen, 1)
	case ',':
		return emit(tComma, 1)
	case ':':
		return emit(tColon, 1)
	case '-':
		return emit(tMinus, 1)
	case '=':
		return emit(tEq, 1)
	case '<':
		return emit(tLt, 1)
	case '>':
		return emit(tGt, 1)
	}
	_, size := utf8.DecodeRuneInString(l.src[start:])
	l.pos = start + size
	msg := "unexpected character"
	if c == '!' {
		msg = "unexpected character; use != for 'not equal' and NOT for negation"
	}
	return token{}, l.errorAt(start, l.pos, msg)
}

// ident lexes a keyword, a simple identifier or element.field.
func (l *lexer) ident() (token, *SyntaxError) {
	start := l.pos
	parts := 1
	for {
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		// A '.' continues the identifier; ".." (a range) never follows one.
		if l.pos+1 >= len(l.src) || l.src[l.pos] != '.' || l.src[l.pos+1] == '.' {
			break
		}
		if !isIdentStart(l.src[l.pos+1]) {
			return token{}, l.errorAt(start, l.pos+1, "expected a field name after '.'")
		}
		l.pos++
		parts++
	}
	text := l.src[start:l.pos]
	if parts > 2 {
		return token{}, l.errorAt(start, l.pos, "an identifier is a name or element.field, with at most one '.'")
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' && (l.pos+1 == len(l.src) || l.src[l.pos+1] != '.') {
		return token{}, l.errorAt(start, l.pos+1, "expected a field name after '.'")
	}
	k := tIdent
	if parts == 1 {
		if kw, ok := keywords[strings.ToUpper(text)]; ok {
			k = kw
		}
	}
	return token{kind: k, pos: start, text: text}, nil
}

// number lexes digits [ '.' digits ] [ exponent ] or '.' digits [ exponent ].
// "1..5" is the integer 1 followed by "..": a '.' directly followed by another
// '.' does not belong to the number.
func (l *lexer) number() (token, *SyntaxError) {
	start := l.pos
	s := l.src
	digits := func() {
		for l.pos < len(s) && isDigit(s[l.pos]) {
			l.pos++
		}
	}
	k := tInt
	digits()
	if l.pos < len(s) && s[l.pos] == '.' && (l.pos+1 == len(s) || s[l.pos+1] != '.') {
		k = tFloat
		l.pos++
		digits()
	}
	if l.pos < len(s) && (s[l.pos] == 'e' || s[l.pos] == 'E') {
		p := l.pos + 1
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		if p < len(s) && isDigit(s[p]) {
			k = tFloat
			l.pos = p
			digits()
		}
	}
	// "1abc", "0x10", "1.5.2": a number glued to more name or number characters.
	if l.pos < len(s) && (isIdentChar(s[l.pos]) || (s[l.pos] == '.' && (l.pos+1 == len(s) || s[l.pos+1] != '.'))) {
		for l.pos < len(s) && (isIdentChar(s[l.pos]) || s[l.pos] == '.') && !strings.HasPrefix(s[l.pos:], "..") {
			l.pos++
		}
		return token{}, l.errorAt(start, l.pos, "invalid number literal")
	}
	return token{kind: k, pos: start, text: s[start:l.pos]}, nil
}

// quoted lexes a literal delimited by the quote character at src[q]; a
// doubled quote character inside stands for one, as in SQL. The
// token starts at l.pos (which is q, or the 'T' of a time literal).
func (l *lexer) quoted(k kind, q int, what string) (token, *SyntaxError) {
	start := l.pos
	quote := l.src[q]
	var b strings.Builder
	i := q + 1
	for {
		j := strings.IndexByte(l.src[i:], quote)
		if j < 0 {
			l.pos = len(l.src)
			return token{}, l.errorAt(start, l.pos, "unterminated "+what)
		}
		b.WriteString(l.src[i : i+j])
		i += j + 1
		if i < len(l.src) && l.src[i] == quote {
			b.WriteByte(quote)
			i++
			continue
		}
		break
	}
	l.pos = i
	return token{kind: k, pos: start, text: l.src[start:i], val: b.String()}, nil
}
