package query

import "fmt"

// endOfInput is the Token of a SyntaxError found after the last token.
const endOfInput = "end of input"

// maxTokenInMessage bounds how much of an offending token Error() quotes.
const maxTokenInMessage = 40

// SyntaxError is the only error Parse returns. It says where in the
// expression the problem is, so a command line tool can point at it.
type SyntaxError struct {
	Pos   int    // 0-based byte offset of Token in the expression; len(expr) at the end
	Token string // the offending token's text, or "end of input"
	Msg   string // what was wrong or expected, e.g. "expected a value"
}

// Error reads like
//
//	syntax error at position 17 near "AND": expected a value
//	syntax error at position 7 near end of input: expected a value
//
// Very long tokens (an unterminated string, say) are shortened with "...".
func (e *SyntaxError) Error() string {
	near := "end of input"
	if e.Token != endOfInput {
		tok := e.Token
		if len(tok) > maxTokenInMessage {
			tok = tok[:maxTokenInMessage] + "..."
		}
		near = fmt.Sprintf("%q", tok)
	}
	return fmt.Sprintf("syntax error at position %d near %s: %s", e.Pos, near, e.Msg)
}
