package objstore

import (
	"context"
	"errors"
	"time"
)

// Recognisable errors. Implementations wrap them with the failed action and
// key ("get registry/x: object not found"); callers test with errors.Is.
var (
	// ErrNotFound: the key does not exist (Get, GetRange, Stat, PutIfMatch).
	ErrNotFound = errors.New("object not found")
	// ErrPreconditionFailed: a conditional put lost. PutIfAbsent found the key
	// already present; PutIfMatch found a different ETag.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrInvalidKey: the key is empty, absolute, longer than MaxKeyLen bytes
	// or not UTF-8, has an empty, ".." or "." path element (so no "a//b" and
	// no trailing "/"), contains a backslash, a NUL or another control
	// character, or starts with the reserved ".objstore-". See ValidKey.
	ErrInvalidKey = errors.New("invalid key")
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key     string    // key relative to the store root
	Size    int64     // bytes
	ETag    string    // opaque; changes whenever the content changes (see below)
	ModTime time.Time // last write, as the backend reports it
}

// Store is a flat key/value object store. The contract every implementation
// keeps (and the conformance suite checks):
//
//   - Atomic visibility: a reader sees either the whole previous content of a
//     key or the whole new content, never a partial write. A failed Put leaves
//     the previous content (or no object) behind.
//   - PutIfAbsent creates the key only if no object exists at it; of any number
//     of concurrent PutIfAbsent calls on one key (across goroutines, processes
//     or hosts sharing the backend) exactly one succeeds, the others return
//     ErrPreconditionFailed. It is not idempotent: retrying a PutIfAbsent whose
//     response was lost may report ErrPreconditionFailed for one's own write,
//     so callers that must know compare the stored content.
//   - PutIfMatch replaces the key only if its current ETag equals etag; it
//     returns ErrPreconditionFailed on a mismatch (also for "" or "*", which
//     are no ETags) and ErrNotFound when the key does not exist. Concurrent
//     PutIfMatch calls with the same etag: exactly one succeeds. To
//     read-modify-write, call Stat, then Get, then PutIfMatch with the Stat's
//     ETag: if the object changed after the Stat, the PutIfMatch fails.
//   - ETags: an ETag names one content of one key. mem and file change it on
//     every write; S3 (an MD5 for single-part uploads) keeps it when
//     identical bytes are rewritten, so an unchanged ETag means unchanged
//     content, not "nobody wrote". ETags from Put*, Stat and List agree.
//   - A key is never also a "directory" of other keys: with "a/b" stored,
//     writing "a" fails with a plain error (file store, versitygw's posix
//     backend), and the other way round. Keys that registry and datastore
//     build never collide like this.
//   - Put, Delete are idempotent: repeating them has the same result. Delete of
//     a missing key is not an error.
//   - Get, GetRange and Stat return ErrNotFound for a missing key. GetRange
//     returns at most length bytes starting at offset (fewer at the end of the
//     object, none from an offset at or past the end; length < 0 means to the
//     end); a negative offset is an error. Returned slices are the caller's.
//   - List returns at most limit objects (limit <= 0: DefaultListLimit)
//     whose keys start with prefix (any string; it may end inside a path
//     element: "registry/_lo" matches "registry/_log/...") and sort strictly
//     after startAfter, in ascending byte order of the key. A short page
//     (fewer than limit objects) means the listing is complete; callers
//     paginate by passing the last key returned as the next startAfter, or
//     call ListAll.
//   - Transient backend errors (throttling, S3 409 ConditionalRequestConflict,
//     503 SlowDown, connection resets) are retried inside the implementation
//     with jittered backoff; an error that reaches the caller is final for that
//     call. A conditional put that was retried after an ambiguous failure may
//     report ErrPreconditionFailed even though the first attempt succeeded.
//   - Every method fails with ErrInvalidKey for an invalid key and with the
//     context's error once ctx is done; errors name the action and the key
//     ("put-if-absent registry/x: precondition failed").
//   - All methods are safe for concurrent use.
type Store interface {
	// URI is the root of the store, e.g. "s3://bucket/prefix" or "file:///abs".
	URI() string
	Get(ctx context.Context, key string) ([]byte, error)
	GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error)
	Put(ctx context.Context, key string, data []byte) (ObjectInfo, error)
	PutIfAbsent(ctx context.Context, key string, data []byte) (ObjectInfo, error)
	PutIfMatch(ctx context.Context, key string, data []byte, etag string) (ObjectInfo, error)
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}
