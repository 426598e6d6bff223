package objstore

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLen is the longest key in bytes, S3's limit.
const MaxKeyLen = 1024

// reservedPrefix starts the names the file store keeps for its own
// bookkeeping at its root (temporary files, lock files). No key's first
// element may start with it, in any store, so that keys copy between stores.
const reservedPrefix = ".objstore-"

// ValidKey reports whether key may name an object: a non-empty, relative,
// "/"-separated path of at most MaxKeyLen bytes of valid UTF-8 with no empty,
// "." or ".." element, no backslash, no control character, and a first element
// that does not start with ".objstore-". It returns nil or an error wrapping
// ErrInvalidKey.
func ValidKey(key string) error {
	if reason := invalidKey(key); reason != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, reason)
	}
	return nil
}

func invalidKey(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case key[0] == '/':
		return "absolute"
	case strings.ContainsRune(key, '\\'):
		return "contains a backslash"
	case strings.IndexFunc(key, unicode.IsControl) >= 0:
		return "contains a control character"
	case strings.HasPrefix(key, reservedPrefix):
		return "starts with the reserved " + reservedPrefix
	}
	for elem := range strings.SplitSeq(key, "/") {
		switch elem {
		case "":
			return "has an empty path element"
		case ".", "..":
			return "has a " + elem + " path element"
		}
	}
	return ""
}

// checkKey validates key for the action ("get", "put", ...) and wraps the
// error the way every method reports it.
func checkKey(action, key string) error {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}
