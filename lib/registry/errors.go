package registry

import (
	"errors"
	"fmt"
)

// Recognisable errors; test with errors.Is.
var (
	// ErrNotARepository: the root holds no registry (no commit log).
	ErrNotARepository = errors.New("not a skybutler repository")
	// ErrAlreadyExists: the thing to create exists already (repository,
	// collection, dataset type with another definition, ...).
	ErrAlreadyExists = errors.New("already exists")
	// ErrNotFound: a named collection, dataset type or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the edit violates a registry constraint (chain cycle,
	// conflicting record, wrong collection type, ...).
	ErrConflict = errors.New("constraint violation")
	// ErrInvalid: malformed input (bad name, unknown dimension, ...).
	ErrInvalid = errors.New("invalid input")
	// ErrCorrupt: an object of the commit log or a table file cannot be read
	// as what it claims to be. Nothing is written while it persists.
	ErrCorrupt = errors.New("corrupt registry")
	// ErrTooManyAttempts: a commit lost the race too often.
	ErrTooManyAttempts = errors.New("too many commit attempts")
)

// kindError is an error of a recognisable kind whose message does not repeat
// the kind's text: errors.Is(err, kind) holds, Error() is just the message.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// Errorf formats a message (which may wrap a cause with %w) as an error of
// the given kind.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}
