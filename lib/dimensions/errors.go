package dimensions

import (
	"errors"
	"fmt"
)

// ErrUnknownDimension is matched (errors.Is) by every error about a
// dimension name the universe does not define.
var ErrUnknownDimension = errors.New("unknown dimension")

// UnknownDimensionError names a dimension missing from a universe, with the
// closest known name when one is near enough to be a likely typo.
type UnknownDimensionError struct {
	Name       string
	Suggestion string // "" when nothing is close
}

func (e *UnknownDimensionError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("unknown dimension %q (did you mean %q?)", e.Name, e.Suggestion)
	}
	return fmt.Sprintf("unknown dimension %q", e.Name)
}

// Is makes errors.Is(err, ErrUnknownDimension) true.
func (e *UnknownDimensionError) Is(target error) bool { return target == ErrUnknownDimension }

func (u *Universe) unknown(name string) error {
	return &UnknownDimensionError{Name: name, Suggestion: closest(name, u.Names())}
}

// closest returns the candidate within edit distance 2 (and less than half
// the name's length) of name, or "".
func closest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c, bestD); d < bestD && d*2 < max(len(name), 2)+1 {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
