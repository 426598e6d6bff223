package pipeline

import (
	"errors"
	"fmt"
	"strings"
)

// Errors matched with errors.Is. Every error of Load, Parse, Validate and
// the Pipeline methods wraps one of them (or ErrNoWork, which only tasks
// return).
var (
	// ErrSyntax: the YAML is malformed or has an unknown or misplaced key.
	ErrSyntax = errors.New("invalid pipeline")
	// ErrUnknownTaskClass: a task names a class that is not registered.
	ErrUnknownTaskClass = errors.New("unknown task class")
	// ErrConfig: a config override names an unknown field, has the wrong
	// type, renames an unknown connection or is rejected by the task class.
	ErrConfig = errors.New("invalid config")
	// ErrConnection: a task class declares an invalid connection.
	ErrConnection = errors.New("invalid connection")
	// ErrDimensions: a dimension is not in the universe, or an output has
	// dimensions its task does not have.
	ErrDimensions = errors.New("invalid dimensions")
	// ErrDuplicateOutput: two tasks produce the same dataset type.
	ErrDuplicateOutput = errors.New("dataset type produced twice")
	// ErrDatasetTypeConflict: tasks disagree about a dataset type (storage
	// class, dimensions, calibration, prerequisite or not).
	ErrDatasetTypeConflict = errors.New("conflicting dataset type definitions")
	// ErrCycle: tasks depend on each other through their dataset types.
	ErrCycle = errors.New("cycle between tasks")
	// ErrContract: a contract is false or cannot be evaluated.
	ErrContract = errors.New("contract failed")
	// ErrImport: a pipeline file or an import is missing or unreadable, or
	// imports form a loop.
	ErrImport = errors.New("invalid import")
	// ErrUnknownLabel: a selector, subset, include/exclude list or contract
	// names a label the pipeline does not define.
	ErrUnknownLabel = errors.New("unknown label")
	// ErrParameter: a config value refers to an undefined parameter.
	ErrParameter = errors.New("unknown parameter")
)

// Error locates a problem in a pipeline file. Its message is
// "FILE:LINE: KEY: problem", where KEY is the dotted path of the YAML key
// ("tasks.isr.config.doDark"); LINE is 0 (and left out) for values that do
// not come from a file, such as overrides given to SetConfig.
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// pos is where a YAML node was read.
type pos struct {
	file string
	line int
	key  string
}

func (p pos) child(key string, line int) pos {
	k := key
	if p.key != "" {
		k = p.key + "." + key
	}
	return pos{file: p.file, line: line, key: k}
}

func (p pos) at(line int) pos { p.line = line; return p }

// errorf returns an *Error at p wrapping kind with a formatted message.
func (p pos) errorf(kind error, format string, args ...any) error {
	return &Error{File: p.file, Line: p.line, Key: p.key, Err: kindError{kind: kind, msg: fmt.Sprintf(format, args...)}}
}

// wrap returns an *Error at p around err, adding kind when err does not
// already match it.
func (p pos) wrap(kind error, err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	if kind != nil && !errors.Is(err, kind) {
		err = kindError{kind: kind, msg: err.Error(), cause: err}
	}
	return &Error{File: p.file, Line: p.line, Key: p.key, Err: err}
}

// kindError is a message that matches its kind (and cause) with errors.Is.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func (e kindError) Error() string { return e.msg }

func (e kindError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to
// name, or "" when none is close enough to be a likely typo.
func didYouMean(name string, candidates []string) string {
	if c := closest(name, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// closest returns the candidate within edit distance 2 (and less than half
// the name's length) of name, ignoring case, or "".
func closest(name string, candidates []string) string {
	best, bestD := "", 3
	ln := strings.ToLower(name)
	for _, c := range candidates {
		d := editDistance(ln, strings.ToLower(c), bestD)
		if d < bestD && d*2 < max(len(name), 2)+1 {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b
// (insertions, deletions, substitutions and transpositions of adjacent
// characters), or limit when it is at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	if len(a) > 128 || len(b) > 128 {
		return limit
	}
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return min(rows[len(a)][len(b)], limit)
}
