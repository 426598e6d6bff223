package datastore

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/skybutler/skybutler/lib/objstore"
)

// ErrUnsafePath is matched (errors.Is) by errors about a field value or a
// rendered path that could escape the datastore root or is not a valid
// object key.
var ErrUnsafePath = errors.New("unsafe path")

// MaxPathElementLen is the longest path element a rendered template may
// have, in bytes: the file-name limit of common file systems.
const MaxPathElementLen = 255

// isUnsafeRune reports control characters (NUL, newline, DEL, C1) and
// format characters (bidirectional overrides, zero-width characters), which
// have no place in a path.
func isUnsafeRune(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)
}

// cleanValue makes one field value path-safe. It rejects invalid UTF-8,
// control and format characters, backslashes, "." and any ".." path
// element; it replaces white space with '_' and, unless keepPath, '/' with
// '_'. With keepPath the value's '/'-separated elements must be non-empty
// and not ".".
func cleanValue(s string, keepPath bool) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: value %q is not valid UTF-8", ErrUnsafePath, s)
	case strings.IndexFunc(s, isUnsafeRune) >= 0:
		return "", fmt.Errorf("%w: value %q contains a control character", ErrUnsafePath, s)
	case strings.ContainsRune(s, '\\'):
		return "", fmt.Errorf("%w: value %q contains a backslash", ErrUnsafePath, s)
	case s == ".":
		return "", fmt.Errorf("%w: value %q is not a valid path element", ErrUnsafePath, s)
	}
	for e := range strings.SplitSeq(s, "/") {
		switch {
		case e == "..":
			return "", fmt.Errorf("%w: value %q has a '..' path element", ErrUnsafePath, s)
		case keepPath && (e == "" || e == "."):
			return "", fmt.Errorf("%w: value %q has an empty or '.' path element", ErrUnsafePath, s)
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || (r == '/' && !keepPath) {
			return '_'
		}
		return r
	}, s)
	return s, nil
}

// checkPath verifies a rendered path: a valid object key (relative, no
// empty, "." or ".." elements, no control characters or backslashes, at
// most 1024 bytes), clean, and no element longer than MaxPathElementLen.
func checkPath(p string) error {
	if err := objstore.ValidKey(p); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafePath, err)
	}
	if path.Clean(p) != p || path.IsAbs(p) {
		return fmt.Errorf("%w: path %q is not clean and relative", ErrUnsafePath, p)
	}
	for e := range strings.SplitSeq(p, "/") {
		if len(e) > MaxPathElementLen {
			return fmt.Errorf("%w: path element %.40q... is longer than %d bytes", ErrUnsafePath, e, MaxPathElementLen)
		}
	}
	return nil
}
