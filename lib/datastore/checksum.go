package datastore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrChecksumMismatch is matched (errors.Is) when data does not have the
// expected checksum.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// ChecksumAlgorithm prefixes every checksum this package computes.
const ChecksumAlgorithm = "sha256"

// Checksum returns "sha256:" followed by the lower-case hex SHA-256 of data.
func Checksum(data []byte) string {
	sum := sha256.Sum256(data)
	return ChecksumAlgorithm + ":" + hex.EncodeToString(sum[:])
}

// ChecksumReader reads r to the end and returns its checksum (as Checksum)
// and size.
func ChecksumReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, fmt.Errorf("checksum: read: %w", err)
	}
	return ChecksumAlgorithm + ":" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// VerifyChecksum checks data against want ("sha256:<64 hex digits>", hex
// in either case). A malformed want or another algorithm is an error; a
// different digest is an error wrapping ErrChecksumMismatch.
func VerifyChecksum(data []byte, want string) error {
	algo, digest, ok := strings.Cut(want, ":")
	if !ok || algo != ChecksumAlgorithm {
		return fmt.Errorf("verify checksum: %q is not of the form %s:<hex>", want, ChecksumAlgorithm)
	}
	if len(digest) != 2*sha256.Size {
		return fmt.Errorf("verify checksum: %q: want %d hex digits, got %d", want, 2*sha256.Size, len(digest))
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return fmt.Errorf("verify checksum: %q: %w", want, err)
	}
	if got := Checksum(data); got != ChecksumAlgorithm+":"+strings.ToLower(digest) {
		return fmt.Errorf("verify checksum: %w: got %s, want %s", ErrChecksumMismatch, got, want)
	}
	return nil
}
